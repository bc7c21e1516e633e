//! Acceptance tier for attachments: the app of `fixtures/attachments.toml` (albums, and their
//! photos with a required `photo:attachment:image` and any number of `files:attachments`) is
//! generated and built once, then driven over HTTP and SSE on each storage backend: the local
//! disk under `storage/blobs/`, and a real S3-compatible server (`moto_server`, started here on
//! a free loopback port, its bucket created here). On each: an upload makes the record and its
//! thumbnail, and the page, the Turbo Stream reply and the broadcast carry the same markup;
//! the original and the thumbnail are served with ETag, 304, 206 and nosniff; replacing,
//! removing and destroying purge the old objects. Then the attacks, each counted against the
//! app's database rows and the objects in the store before and after: a file over
//! `MAX_UPLOAD_BYTES`, HTML named `.png`, an SVG with a script, a hostile filename, a truncated
//! or malformed body, a tampered blob token, a cross-site upload, and the storage gone.

mod support;

use std::collections::BTreeSet;
use std::io::{Cursor, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::Fixture;
use support::app::{
    EventStream, Reply, Server, apps_target, between, cargo, get, post, read_reply, request,
    request_bytes, request_within, spawn, stream_source,
};
use support::moto::Moto;
use support::multipart::Form;

const SECRET: &str = "a secret for the attachment tests, long enough to sign with";

/// The upload limit the app runs with here, so a file over it is cheap to send.
const MAX_UPLOAD_BYTES: usize = 1024 * 1024;

/// What Turbo's fetch sends, so that the app answers with Turbo Streams instead of a redirect.
const TURBO: (&str, &str) = ("Accept", "text/vnd.turbo-stream.html, text/html");

/// The error the photo field shows for a file that is not an image, as the fixture's
/// `photo:attachment:image` declares it.
const NOT_AN_IMAGE: &str = "Photo must be an image (PNG, JPEG, GIF or WebP)";

/// A page that would run script if a browser rendered it from the app's origin.
const HTML: &[u8] =
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n";

/// An SVG with a script, which a browser runs when it shows the SVG as a document.
const SVG: &[u8] = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"><script>alert(document.cookie)</script></svg>\n";

/// How long a purge, which runs off the request path, may take before the test fails; it is not
/// a speed assertion.
const PURGE_WAIT: Duration = Duration::from_secs(15);

/// The generated gallery app, built once for both backends.
fn gallery_app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(|| {
        let parent = tempfile::tempdir().unwrap().keep();
        let (app, _) = Fixture::named("attachments").generate(&parent);
        cargo(&app, &["build"]);
        app
    })
}

#[test]
fn uploads_serving_purges_and_attacks_on_the_disk() {
    let gallery = Gallery::start(Backend::Disk);
    uploads_are_served_and_purged(&gallery);
    destroying_an_album_purges_its_photos_files(&gallery);
    attacks_change_nothing(&gallery);
    storage_unavailable_is_a_clear_error_and_writes_nothing(&gallery);
}

#[test]
fn uploads_serving_purges_and_attacks_on_s3() {
    let mut gallery = Gallery::start(Backend::S3);
    uploads_are_served_and_purged(&gallery);
    destroying_an_album_purges_its_photos_files(&gallery);
    attacks_change_nothing(&gallery);
    // Last: the server is stopped for it.
    gallery.store.stop_s3();
    storage_unavailable_is_a_clear_error_and_writes_nothing(&gallery);
}

enum Backend {
    Disk,
    S3,
}

/// Where the app keeps its blobs, read from outside the app.
enum Store {
    /// The disk backend's root, `storage/blobs/` in the directory the app runs in.
    Disk(PathBuf),
    /// A bucket on a `moto_server`.
    S3 { moto: Moto, bucket: String },
}

impl Store {
    /// Every object in the store: the disk's files (a temporary left behind included) as paths
    /// under the root, or the bucket's keys. On S3, an unfinished multipart upload is a fault
    /// too, since it keeps the parts it was sent.
    fn objects(&self) -> BTreeSet<String> {
        match self {
            Store::Disk(root) => {
                let mut objects = BTreeSet::new();
                if root.exists() {
                    for entry in walkdir::WalkDir::new(root) {
                        let entry = entry.unwrap();
                        if !entry.file_type().is_dir() {
                            let rel = entry.path().strip_prefix(root).unwrap();
                            objects.insert(rel.to_string_lossy().into_owned());
                        }
                    }
                }
                objects
            }
            Store::S3 { moto, bucket } => {
                assert_eq!(
                    moto.unfinished_uploads(bucket),
                    0,
                    "no multipart upload is left unfinished in {bucket}"
                );
                moto.keys(bucket).into_iter().collect()
            }
        }
    }

    /// Whether the store holds the blob `key`: on disk it is the file `xx/yy/key`.
    fn holds(&self, key: &str) -> bool {
        self.objects().iter().any(|object| {
            object == key
                || Path::new(object)
                    .file_name()
                    .is_some_and(|name| name == key)
        })
    }

    fn stop_s3(&mut self) {
        match self {
            Store::S3 { moto, .. } => moto.stop(),
            Store::Disk(_) => panic!("only the S3 store runs a server"),
        }
    }
}

/// The app running on one backend, in a directory of its own, with one album.
struct Gallery {
    server: Server,
    store: Store,
    /// The directory the app runs in: its `storage/` holds the database, and the blobs on disk.
    dir: tempfile::TempDir,
    /// `/albums/N/photos`.
    photos: String,
}

impl Gallery {
    fn start(backend: Backend) -> Gallery {
        let app = gallery_app();
        let dir = tempfile::tempdir().unwrap();
        support::copy_tree(&app.join("static"), &dir.path().join("static"));
        std::fs::create_dir_all(dir.path().join("storage")).unwrap();
        let limit = MAX_UPLOAD_BYTES.to_string();
        let mut env: Vec<(&str, String)> = vec![
            ("SECRET_KEY_BASE", SECRET.to_owned()),
            (
                "DATABASE_URL",
                "sqlite://storage/gallery.sqlite3".to_owned(),
            ),
            ("MAX_UPLOAD_BYTES", limit),
        ];
        let store = match backend {
            Backend::Disk => Store::Disk(dir.path().join("storage/blobs")),
            Backend::S3 => {
                let moto = Moto::start();
                let bucket = "gallery-blobs".to_owned();
                moto.create_bucket(&bucket);
                env.extend(moto.env(&bucket));
                Store::S3 { moto, bucket }
            }
        };
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let server = spawn(&apps_target().join("debug/gallery"), dir.path(), &env, None);
        let reply = post(server.address, "/albums", &[], &[("name", "Holidays")]);
        assert_eq!(reply.status, 303, "creating an album: {}", reply.text());
        let album = reply.header("location").expect("a redirect to the album");
        let photos = format!("{album}/photos");
        Gallery {
            server,
            store,
            dir,
            photos,
        }
    }

    fn address(&self) -> SocketAddr {
        self.server.address
    }

    fn database(&self) -> PathBuf {
        self.dir.path().join("storage/gallery.sqlite3")
    }

    /// The id of the element that lists the album's photos, as `dom_id` names it.
    fn list_id(&self) -> String {
        let album = between(&self.photos, "/albums/", "/photos").unwrap();
        format!("photos_album_{album}")
    }

    /// Runs one SQL query on the app's SQLite file and gives its output. The app keeps the
    /// file open (in WAL mode); the query waits for its lock.
    fn sql(&self, query: &str) -> String {
        support::sqlite3(&self.database(), query)
    }

    /// How many rows the photos, blobs and attachments tables have.
    fn rows(&self) -> String {
        self.sql(
            "SELECT (SELECT count(*) FROM photos) || ' photos, ' || \
             (SELECT count(*) FROM blobs) || ' blobs, ' || \
             (SELECT count(*) FROM attachments) || ' attachments'",
        )
    }

    /// The rows of the photos, blobs and attachments tables, and the objects in the store.
    fn snapshot(&self) -> Snapshot {
        Snapshot {
            rows: self.rows(),
            objects: self.store.objects(),
        }
    }

    /// The album's photos page, which must answer 200.
    fn index(&self) -> String {
        let reply = get(self.address(), &self.photos);
        assert_eq!(reply.status, 200, "GET {}", self.photos);
        reply.text()
    }

    /// Subscribes with the `<turbo-stream-source>` the index page renders, as Turbo would.
    fn subscribe(&self) -> EventStream {
        EventStream::open(self.address(), &stream_source(&self.index()), None)
    }

    /// Sends `form` as a `multipart/form-data` POST to `path`, with `headers` added.
    fn upload(&self, path: &str, headers: &[(&str, &str)], form: Form) -> Reply {
        let content_type = Form::content_type();
        let mut all = vec![("Content-Type", content_type.as_str())];
        all.extend_from_slice(headers);
        // Long enough for an upload to a storage service that is down to fail by the app's own
        // timeouts; not a speed assertion.
        request_within(
            self.address(),
            "POST",
            path,
            &all,
            &form.finish(),
            Duration::from_secs(60),
        )
    }

    /// Creates a photo as Turbo submits the index page's form, and checks the reply's shape:
    /// the record appended to the album's list, then the form replaced by a blank one.
    fn create_turbo(&self, form: Form) -> Created {
        let reply = self.upload(&self.photos, &[TURBO], form);
        assert_eq!(reply.status, 200, "a Turbo create: {}", reply.text());
        assert_eq!(
            reply.header("content-type"),
            Some("text/vnd.turbo-stream.html; charset=utf-8")
        );
        let text = reply.text();
        let streams = turbo_streams(&text);
        assert_eq!(streams.len(), 2, "an append and a form replace: {text}");
        let append = streams[0].to_owned();
        assert!(
            append.starts_with(&format!(
                r#"<turbo-stream action="append" target="{}"><template>"#,
                self.list_id()
            )),
            "{append}"
        );
        let id = between(template(&append), r#"id="photo_"#, "\"")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("a photo's element in {append}"));
        Created { id, append }
    }

    fn member(&self, id: u64) -> String {
        format!("{}/{id}", self.photos)
    }

    /// Destroys a photo as Turbo submits its delete button.
    fn destroy(&self, id: u64) -> Reply {
        let reply = post(
            self.address(),
            &self.member(id),
            &[TURBO],
            &[("_method", "delete")],
        );
        assert_eq!(reply.status, 200, "a Turbo destroy: {}", reply.text());
        reply
    }

    /// Destroys a photo made since `before`, and waits until the objects stored for it (what
    /// the store holds beyond `before`) have been purged.
    fn destroy_and_wait_purged(&self, id: u64, what: &str, before: &Snapshot) {
        let keys = self.snapshot().added_keys(before);
        assert!(!keys.is_empty(), "{what}: the record stored objects");
        self.destroy(id);
        self.wait_purged(what, &keys);
    }

    /// Waits until every object of `keys` has left the store: purges run off the request path.
    fn wait_purged(&self, what: &str, keys: &[String]) {
        let deadline = Instant::now() + PURGE_WAIT;
        loop {
            let left: Vec<&String> = keys.iter().filter(|key| self.store.holds(key)).collect();
            if left.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: {left:?} still in the store after {PURGE_WAIT:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// What the app has stored, in its database and its store.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Snapshot {
    rows: String,
    objects: BTreeSet<String>,
}

impl Snapshot {
    /// The keys of the objects stored since `earlier`: the last segment of each object's path,
    /// which is the blob's key on the disk and in the bucket alike.
    fn added_keys(&self, earlier: &Snapshot) -> Vec<String> {
        self.objects
            .difference(&earlier.objects)
            .map(|object| {
                Path::new(object)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
    }
}

/// What a Turbo create answered: the new record's id and the reply's `append` element.
struct Created {
    id: u64,
    append: String,
}

/// The links a record's partial renders for its files, through the blob partial: each image's
/// original (the link around its thumbnail) and thumbnail, and each other file's download link.
#[derive(Debug)]
struct Links {
    /// (original, thumbnail, width, height) of each image.
    images: Vec<(String, String, u32, u32)>,
    /// The download link of each other file, with its text.
    files: Vec<(String, String)>,
}

fn links(markup: &str) -> Links {
    let mut images = Vec::new();
    for rest in markup.split(r#"<a href=""#).skip(1) {
        let href = unescape(rest.split('"').next().unwrap());
        let Some((tag, after)) = rest.split_once('>') else {
            continue;
        };
        if tag.contains(r#"class="blob blob-image""#) {
            let img = between(after, "<img ", ">").expect("an image's thumbnail");
            let src = unescape(between(img, r#"src=""#, "\"").expect("the thumbnail's src"));
            let width = between(img, r#"width=""#, "\"").unwrap().parse().unwrap();
            let height = between(img, r#"height=""#, "\"").unwrap().parse().unwrap();
            assert!(
                img.contains(r#"alt=""#),
                "the thumbnail has alt text: {img}"
            );
            images.push((href, src, width, height));
        }
    }
    let files = markup
        .split(r#"<a href=""#)
        .skip(1)
        .filter(|rest| rest.contains(r#"class="blob blob-file""#))
        .map(|rest| {
            let href = unescape(rest.split('"').next().unwrap());
            let text = between(rest, ">", "</a>").unwrap().to_owned();
            (href, text)
        })
        .collect();
    Links { images, files }
}

/// An attribute's value as a browser reads it.
fn unescape(value: &str) -> String {
    value
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#37;", "%")
}

/// The `<turbo-stream>` elements of a reply, in order.
fn turbo_streams(text: &str) -> Vec<&str> {
    const CLOSE: &str = "</turbo-stream>";
    let mut streams = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("<turbo-stream ") {
        let end = rest[start..]
            .find(CLOSE)
            .unwrap_or_else(|| panic!("an unclosed <turbo-stream> in {text}"))
            + start
            + CLOSE.len();
        streams.push(&rest[start..end]);
        rest = &rest[end..];
    }
    streams
}

/// The content of a stream element's `<template>`: the markup it inserts.
fn template(stream: &str) -> &str {
    let start = stream.find("<template>").expect("a <template>") + "<template>".len();
    let end = stream.rfind("</template>").expect("a closed <template>");
    &stream[start..end]
}

/// A PNG of `width` by `height` pixels, a gradient seeded by `seed` so two images differ.
fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x % 256) as u8 ^ seed,
            (y % 256) as u8,
            ((x + y) % 256) as u8 ^ seed.rotate_left(3),
        ])
    });
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("the PNG encodes");
    bytes.into_inner()
}

/// A file of `len` bytes that starts as a PNG does, for the limit: it is refused by its size
/// before anything looks further into it.
fn png_sized(len: usize) -> Vec<u8> {
    let mut bytes = png(4, 4, 9);
    bytes.extend((0..len.saturating_sub(bytes.len())).map(|i| (i % 251) as u8));
    bytes
}

/// A blob's URL is answered whole, by ETag, and by range, with the headers that keep a browser
/// from guessing its type; gives the whole body.
fn assert_served(address: SocketAddr, path: &str, content_type: &str) -> Vec<u8> {
    let whole = get(address, path);
    assert_eq!(whole.status, 200, "GET {path}: {}", whole.head);
    assert_eq!(whole.header("content-type"), Some(content_type), "{path}");
    assert_eq!(
        whole.header("x-content-type-options"),
        Some("nosniff"),
        "{path}"
    );
    let disposition = whole.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("inline"),
        "a raster image is shown inline: {disposition}"
    );
    let etag = whole
        .header("etag")
        .unwrap_or_else(|| panic!("an ETag on {path}: {}", whole.head))
        .to_owned();
    assert_eq!(
        whole.header("content-length"),
        Some(whole.body.len().to_string().as_str())
    );

    let cached = request(address, "GET", path, &[("If-None-Match", &etag)], "");
    assert_eq!(cached.status, 304, "If-None-Match {etag}: {}", cached.head);
    assert!(cached.body.is_empty(), "a 304 has no body");
    let other = request(address, "GET", path, &[("If-None-Match", "\"other\"")], "");
    assert_eq!(other.status, 200, "another ETag is not a match");

    let len = whole.body.len();
    let range = request(address, "GET", path, &[("Range", "bytes=10-109")], "");
    assert_eq!(range.status, 206, "Range on {path}: {}", range.head);
    assert_eq!(
        range.header("content-range"),
        Some(format!("bytes 10-109/{len}").as_str())
    );
    assert_eq!(range.body, &whole.body[10..110], "the range's bytes");
    assert_eq!(
        range.header("x-content-type-options"),
        Some("nosniff"),
        "a partial reply is nosniff too"
    );
    whole.body
}

/// Upload, the one partial on every path, serving, and the purges of replace, remove and
/// destroy.
fn uploads_are_served_and_purged(gallery: &Gallery) {
    let address = gallery.address();
    let before = gallery.snapshot();
    let mut stream = gallery.subscribe();

    // Create, as Turbo submits the form: the record with its photo's thumbnail.
    // Larger than the 800 × 800 box the app's thumbnails fit in.
    let original = png(1200, 900, 1);
    let created = gallery.create_turbo(
        Form::new()
            .text("caption", "Sunset")
            .file("photo", "sunset.png", "image/png", &original)
            .empty_file("files"),
    );
    let event = stream.next_event();
    assert_eq!(
        event.data, created.append,
        "the broadcast is the reply's append element, byte for byte"
    );
    let markup = template(&created.append).to_owned();
    assert!(markup.contains("Sunset"), "{markup}");
    assert!(
        gallery.index().contains(&markup),
        "the index page renders the record with the same bytes as the reply and the broadcast:\n{markup}"
    );
    let show = get(address, &gallery.member(created.id));
    assert_eq!(show.status, 200);
    assert!(show.text().contains(&markup), "the show page too");
    let found = links(&markup);
    assert_eq!(found.images.len(), 1, "one image: {markup}");
    assert!(found.files.is_empty(), "no other file: {markup}");
    let (original_url, thumbnail_url, width, height) = found.images[0].clone();
    assert!(original_url.starts_with("/blobs/"), "{original_url}");
    assert!(thumbnail_url.starts_with("/blobs/"), "{thumbnail_url}");
    assert_ne!(original_url, thumbnail_url);

    let served = assert_served(address, &original_url, "image/png");
    assert!(served == original, "the original is served byte for byte");
    let thumbnail_type = get(address, &thumbnail_url)
        .header("content-type")
        .unwrap_or_default()
        .to_owned();
    assert!(
        matches!(thumbnail_type.as_str(), "image/png" | "image/jpeg"),
        "{thumbnail_type}"
    );
    let thumbnail = assert_served(address, &thumbnail_url, &thumbnail_type);
    let decoded = image::load_from_memory(&thumbnail).expect("the thumbnail is an image");
    assert_eq!(
        (decoded.width(), decoded.height()),
        (width, height),
        "the <img> carries the thumbnail's size"
    );
    assert!(
        width <= 800 && height <= 800 && width < 1200 && width * 3 == height * 4,
        "a bounded thumbnail with the original's proportions: {width}x{height}"
    );

    let after_create = gallery.snapshot();
    let first_keys = after_create.added_keys(&before);
    assert_eq!(
        first_keys.len(),
        2,
        "the original and its thumbnail: {first_keys:?}"
    );
    let stored = gallery.sql(&format!(
        "SELECT count(*) FROM blobs WHERE key IN ('{}')",
        first_keys.join("', '")
    ));
    assert_eq!(stored, "2", "the blobs table names both objects");
    if let Store::S3 { .. } = gallery.store {
        let local = support::Tree::read(&gallery.dir.path().join("storage/blobs"));
        assert!(
            local.files.is_empty(),
            "with a bucket configured, nothing is kept on the disk: {:?}",
            local.files.keys()
        );
    }

    // Replace the photo and add a file, as Turbo submits the edit form (a multipart POST to
    // the record): the reply, the broadcast and the page agree, and the old photo is purged.
    let replacement = png(300, 300, 2);
    let reply = gallery.upload(
        &gallery.member(created.id),
        &[TURBO],
        Form::new()
            .text("_method", "patch")
            .text("caption", "Sunset, cropped")
            .file("photo", "square.png", "image/png", &replacement)
            .file(
                "files",
                "notes.txt",
                "text/plain",
                b"Notes on the sunset.\n",
            ),
    );
    assert_eq!(reply.status, 200, "a Turbo update: {}", reply.text());
    let text = reply.text();
    let streams = turbo_streams(&text);
    assert_eq!(streams.len(), 1, "one replace: {text}");
    let replace = streams[0].to_owned();
    assert!(
        replace.starts_with(&format!(
            r#"<turbo-stream action="replace" target="photo_{}"><template>"#,
            created.id
        )),
        "{replace}"
    );
    assert_eq!(
        stream.next_event().data,
        replace,
        "the update broadcast is the reply, byte for byte"
    );
    let markup = template(&replace).to_owned();
    assert!(gallery.index().contains(&markup), "the page agrees");
    let found = links(&markup);
    assert_eq!(found.images.len(), 1, "{markup}");
    assert_eq!(found.files.len(), 1, "{markup}");
    let (new_original, new_thumbnail, ..) = found.images[0].clone();
    assert!(assert_served(address, &new_original, "image/png") == replacement);
    assert_eq!(get(address, &new_thumbnail).status, 200);
    let (notes_url, notes_text) = found.files[0].clone();
    assert!(notes_text.contains("notes.txt"), "{notes_text}");
    let notes = get(address, &notes_url);
    assert_eq!(notes.status, 200);
    assert_eq!(notes.body, b"Notes on the sunset.\n");
    gallery.wait_purged("the replaced photo and its thumbnail", &first_keys);
    for url in [&original_url, &thumbnail_url] {
        assert_eq!(get(address, url).status, 404, "{url} of a replaced photo");
    }
    let after_replace = gallery.snapshot();
    assert_eq!(
        after_replace.objects.len(),
        before.objects.len() + 3,
        "the new photo, its thumbnail and the file: {:?}",
        after_replace.objects
    );

    // Remove the files: the photo stays, the file is purged.
    let notes_keys: Vec<String> = after_replace
        .added_keys(&after_create)
        .into_iter()
        .filter(|key| {
            gallery.sql(&format!("SELECT filename FROM blobs WHERE key = '{key}'")) == "notes.txt"
        })
        .collect();
    assert_eq!(notes_keys.len(), 1, "the file's one object");
    let reply = gallery.upload(
        &gallery.member(created.id),
        &[TURBO],
        Form::new()
            .text("_method", "patch")
            .text("caption", "Sunset, cropped")
            .empty_file("photo")
            .text("remove_files", "1")
            .empty_file("files"),
    );
    assert_eq!(reply.status, 200, "a Turbo update: {}", reply.text());
    let text = reply.text();
    assert_eq!(stream.next_event().data, text.trim_end());
    let found = links(template(&text));
    assert!(found.files.is_empty(), "the file is gone: {text}");
    assert_eq!(found.images.len(), 1, "the photo stays: {text}");
    gallery.wait_purged("the removed file", &notes_keys);
    assert_eq!(get(address, &notes_url).status, 404);
    assert_eq!(get(address, &new_original).status, 200);

    // Destroy: the record's rows and every object it had go.
    let left = gallery.snapshot().added_keys(&before);
    assert_eq!(left.len(), 2, "the photo and its thumbnail: {left:?}");
    let reply = gallery.destroy(created.id);
    let remove = format!(
        r#"<turbo-stream action="remove" target="photo_{}"></turbo-stream>"#,
        created.id
    );
    assert_eq!(reply.text().trim_end(), remove);
    assert_eq!(stream.next_event().data, remove);
    gallery.wait_purged("the destroyed record's photo and thumbnail", &left);
    assert_eq!(get(address, &new_original).status, 404);
    assert_eq!(
        gallery.snapshot(),
        before,
        "destroy leaves what was there before"
    );
}

/// Destroying an album deletes its photos in the database (`ON DELETE CASCADE`): their
/// attachments go with them, and their blobs' rows and objects are purged, off the request path.
fn destroying_an_album_purges_its_photos_files(gallery: &Gallery) {
    let address = gallery.address();
    let before = gallery.snapshot();
    let reply = post(address, "/albums", &[], &[("name", "Trip")]);
    assert_eq!(reply.status, 303, "creating an album: {}", reply.text());
    let album = reply.header("location").expect("a redirect to the album");
    for (caption, seed) in [("Beach", 7), ("Harbour", 8)] {
        let form = Form::new()
            .text("caption", caption)
            .file(
                "photo",
                &format!("{caption}.png"),
                "image/png",
                &png(40, 30, seed),
            )
            .file("files", "notes.txt", "text/plain", b"some notes");
        let reply = gallery.upload(&format!("{album}/photos"), &[], form);
        assert_eq!(reply.status, 303, "a photo of {album}: {}", reply.text());
    }
    let stored = gallery.snapshot().added_keys(&before);
    assert_eq!(
        stored.len(),
        6,
        "two photos, their thumbnails and their files: {stored:?}"
    );
    let reply = post(address, album, &[], &[("_method", "delete")]);
    assert_eq!(reply.status, 303, "destroying {album}: {}", reply.text());
    gallery.wait_purged("the files of the destroyed album's photos", &stored);
    assert_eq!(
        gallery.snapshot(),
        before,
        "destroying the album leaves what was there before it"
    );
}

/// Every attack, each leaving the database and the store as they were.
fn attacks_change_nothing(gallery: &Gallery) {
    let address = gallery.address();
    let unchanged = |what: &str, before: &Snapshot| {
        assert_eq!(&gallery.snapshot(), before, "{what} changed what is stored");
    };

    // A file over MAX_UPLOAD_BYTES: 413, nothing kept. On the image field and on the open one,
    // with a good photo before it in the same form, which goes too.
    let before = gallery.snapshot();
    let big = png_sized(MAX_UPLOAD_BYTES + 200 * 1024);
    let reply = gallery.upload(
        &gallery.photos,
        &[],
        Form::new()
            .text("caption", "Too large")
            .file("photo", "big.png", "image/png", &big),
    );
    assert_eq!(
        reply.status,
        413,
        "a photo over the limit: {}",
        reply.text()
    );
    assert!(
        reply
            .text()
            .contains(&format!("the limit is {MAX_UPLOAD_BYTES} bytes")),
        "the reply says what the limit is: {}",
        reply.text()
    );
    unchanged("a photo over the limit", &before);
    let reply = gallery.upload(
        &gallery.photos,
        &[TURBO],
        Form::new()
            .text("caption", "Too large")
            .file("photo", "fine.png", "image/png", &png(64, 64, 3))
            .file("files", "big.bin", "application/octet-stream", &big),
    );
    assert_eq!(reply.status, 413, "a file over the limit: {}", reply.text());
    unchanged("a file over the limit after a good photo", &before);

    // An URL-encoded form, as `curl -d` sends it, is a photo without its image: 422 with the
    // form's error, nothing kept.
    let before = gallery.snapshot();
    let reply = post(address, &gallery.photos, &[], &[("caption", "No image")]);
    assert_eq!(reply.status, 422, "an URL-encoded photo: {}", reply.text());
    assert!(
        reply.text().contains("Photo must be attached"),
        "the form says the image is missing: {}",
        reply.text()
    );
    unchanged("an URL-encoded photo", &before);

    // HTML named .png on the image field: 422 with the form's error, nothing kept.
    let reply = gallery.upload(
        &gallery.photos,
        &[],
        Form::new()
            .text("caption", "Disguised")
            .file("photo", "photo.png", "image/png", HTML),
    );
    assert_eq!(reply.status, 422, "HTML named .png: {}", reply.text());
    assert!(
        reply.text().contains(NOT_AN_IMAGE),
        "the form shows its error: {}",
        reply.text()
    );
    unchanged("HTML named .png", &before);
    let reply = gallery.upload(
        &gallery.photos,
        &[TURBO],
        Form::new()
            .text("caption", "Disguised")
            .file("photo", "photo.png", "image/png", SVG)
            .file(
                "files",
                "ok.txt",
                "text/plain",
                b"kept only with the record\n",
            ),
    );
    assert_eq!(reply.status, 422, "an SVG named .png: {}", reply.text());
    assert!(reply.text().contains(NOT_AN_IMAGE), "{}", reply.text());
    unchanged(
        "an SVG named .png, with a good file beside it, through Turbo",
        &before,
    );

    // An SVG with a script on the open field: stored, but only ever served as a sandboxed
    // download, never inline and never as an image the page shows.
    let created = gallery.create_turbo(
        Form::new()
            .text("caption", "Vector")
            .file("photo", "base.png", "image/png", &png(32, 32, 4))
            .file("files", "drawing.svg", "image/svg+xml", SVG),
    );
    let markup = template(&created.append);
    let found = links(markup);
    assert_eq!(found.files.len(), 1, "the SVG is a download link: {markup}");
    assert!(
        !markup.contains(r#"drawing.svg" loading"#) && found.images.len() == 1,
        "the SVG is never an <img>: {markup}"
    );
    let (svg_url, _) = &found.files[0];
    let served = get(address, svg_url);
    assert_eq!(served.status, 200, "{}", served.head);
    assert_eq!(served.body, SVG, "stored as sent");
    let disposition = served.header("content-disposition").unwrap_or_default();
    assert!(
        disposition.starts_with("attachment"),
        "an SVG is a download: {}",
        served.head
    );
    assert!(
        served
            .header("content-security-policy")
            .is_some_and(|csp| csp.split(';').any(|d| d.trim() == "sandbox")),
        "with a sandbox CSP: {}",
        served.head
    );
    assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
    let ranged = request(address, "GET", svg_url, &[("Range", "bytes=0-9")], "");
    assert_eq!(ranged.status, 206);
    assert!(
        ranged
            .header("content-disposition")
            .unwrap_or_default()
            .starts_with("attachment"),
        "a range of it is a download too: {}",
        ranged.head
    );
    gallery.destroy_and_wait_purged(created.id, "the SVG's record", &before);
    unchanged("the SVG's record, destroyed", &before);

    // A filename with `../`, backslashes and control characters (a tab and C1 controls, which
    // a part's header may carry): only its last segment is kept, without them, in the blobs
    // table and in Content-Disposition; the object's key is the store's own.
    let hostile = "../../..\\..\\etc/pa\tss\u{85}wd\u{9b}.png";
    let created = gallery.create_turbo(Form::new().text("caption", "Traversal").file(
        "photo",
        hostile,
        "image/png",
        &png(40, 30, 5),
    ));
    let stored = gallery.sql(&format!(
        "SELECT blobs.filename FROM blobs JOIN attachments ON attachments.blob_id = blobs.id \
         WHERE attachments.record_id = {} AND attachments.name = 'photo'",
        created.id
    ));
    assert_eq!(stored, "passwd.png", "the stored filename");
    let (original_url, ..) = links(template(&created.append)).images[0].clone();
    let served = get(address, &original_url);
    assert_eq!(served.status, 200);
    let disposition = served.header("content-disposition").unwrap().to_owned();
    assert!(
        disposition.contains(r#"filename="passwd.png""#)
            && !disposition.contains("..")
            && !disposition.contains('/')
            && !disposition.contains('\\')
            && !disposition.chars().any(char::is_control),
        "{disposition:?}"
    );
    let head = served.head.to_lowercase();
    assert!(
        !head.contains("etc") && !head.contains("passwd\""),
        "{head}"
    );
    if let Store::Disk(root) = &gallery.store {
        // Nothing was written outside the store's root, in the directory the app runs in.
        let outside: Vec<PathBuf> = walkdir::WalkDir::new(gallery.dir.path())
            .into_iter()
            .map(|entry| entry.unwrap().into_path())
            .filter(|path| !path.starts_with(root))
            .filter(|path| {
                path.file_name()
                    .is_some_and(|name| name.to_string_lossy().contains("wd"))
            })
            .collect();
        assert!(outside.is_empty(), "{outside:?}");
    }
    gallery.destroy_and_wait_purged(created.id, "the traversal's record", &before);
    unchanged("the traversal's record, destroyed", &before);

    // A truncated multipart body (the client went away halfway through the photo): 400.
    let body = Form::new()
        .text("caption", "Cut short")
        .file("photo", "cut.png", "image/png", &png(200, 200, 6))
        .finish();
    let cut = &body[..body.len() / 2];
    let content_type = Form::content_type();
    let reply = request_bytes(
        address,
        "POST",
        &gallery.photos,
        &[("Content-Type", &content_type)],
        cut,
    );
    assert_eq!(reply.status, 400, "a truncated body: {}", reply.text());
    unchanged("a truncated body", &before);
    // The same body, its connection closed before the length it declared was sent.
    let mut connection = TcpStream::connect(address).unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        gallery.photos,
        body.len()
    );
    connection.write_all(head.as_bytes()).unwrap();
    connection.write_all(cut).unwrap();
    connection.shutdown(std::net::Shutdown::Write).unwrap();
    if let Some(reply) = read_reply(connection, Duration::from_secs(10)) {
        assert!(
            matches!(reply.status, 400 | 408),
            "a body that ends early: {} {}",
            reply.status,
            reply.text()
        );
    }
    // The upload was abandoned whatever the reply; wait for the app to have let it go.
    std::thread::sleep(Duration::from_millis(300));
    unchanged("a body that ended before its length", &before);
    // A part header with a control byte in the filename is not a readable body.
    let raw = Form::new().text("caption", "Control").file(
        "photo",
        "a\u{1}b.png",
        "image/png",
        &png(8, 8, 7),
    );
    let reply = gallery.upload(&gallery.photos, &[], raw);
    assert_eq!(
        reply.status,
        400,
        "a control byte in a part header: {}",
        reply.text()
    );
    unchanged("a control byte in a part header", &before);

    // A tampered or forged blob token is not found (or forbidden), and serves nothing.
    let created = gallery.create_turbo(Form::new().text("caption", "Token").file(
        "photo",
        "token.png",
        "image/png",
        &png(16, 16, 8),
    ));
    let (original_url, thumbnail_url, ..) = links(template(&created.append)).images[0].clone();
    for url in [&original_url, &thumbnail_url] {
        let (token, filename) = url
            .strip_prefix("/blobs/")
            .and_then(|rest| rest.split_once('/'))
            .unwrap();
        let mut tampered: Vec<char> = token.chars().collect();
        for at in [0, tampered.len() / 2, tampered.len() - 1] {
            let mut forged = tampered.clone();
            forged[at] = if forged[at] == 'A' { 'B' } else { 'A' };
            let forged: String = forged.into_iter().collect();
            let reply = get(address, &format!("/blobs/{forged}/{filename}"));
            assert!(
                matches!(reply.status, 403 | 404),
                "a token changed at {at}: {}",
                reply.status
            );
        }
        tampered.truncate(tampered.len() - 4);
        let short: String = tampered.into_iter().collect();
        for path in [
            format!("/blobs/{short}/{filename}"),
            format!("/blobs/{token}x/{filename}"),
            "/blobs/00000000000000000000000000000000/x.png".to_owned(),
            format!("/blobs/..%2F..%2Fgallery.sqlite3/{filename}"),
        ] {
            let reply = get(address, &path);
            assert!(
                matches!(reply.status, 403 | 404),
                "{path}: {}",
                reply.status
            );
        }
        assert_eq!(get(address, url).status, 200, "the real token still serves");
    }
    gallery.destroy_and_wait_purged(created.id, "the token test's record", &before);

    // A cross-site multipart POST is refused like any other write, before it stores a file.
    for headers in [
        &[("Origin", "https://evil.example")][..],
        &[("Sec-Fetch-Site", "cross-site")][..],
    ] {
        let reply = gallery.upload(
            &gallery.photos,
            headers,
            Form::new().text("caption", "Forged").file(
                "photo",
                "forged.png",
                "image/png",
                &png(16, 16, 9),
            ),
        );
        assert_eq!(reply.status, 403, "a cross-site upload with {headers:?}");
    }
    unchanged("a cross-site upload", &before);
}

/// With the store unavailable (moto stopped, or the disk's directory not writable), an upload
/// is a clear error, 503 with a page that says nothing was saved, and no record is written.
fn storage_unavailable_is_a_clear_error_and_writes_nothing(gallery: &Gallery) {
    // A stopped moto_server cannot be asked what it holds: there, the rows are what is counted.
    let rows = |g: &Gallery| g.rows();
    let blocked = match &gallery.store {
        Store::Disk(root) => {
            // The disk backend writes into `tmp/` under its root first: a plain file where that
            // directory should be makes every write fail, as a full or read-only disk would.
            let tmp = root.join("tmp");
            let _ = std::fs::remove_dir_all(&tmp);
            std::fs::create_dir_all(root).unwrap();
            std::fs::write(&tmp, b"not a directory").unwrap();
            Some(tmp)
        }
        Store::S3 { .. } => None,
    };
    let before = rows(gallery);
    let reply = gallery.upload(
        &gallery.photos,
        &[],
        Form::new().text("caption", "Nowhere to go").file(
            "photo",
            "lost.png",
            "image/png",
            &png(64, 48, 10),
        ),
    );
    assert_eq!(
        reply.status,
        503,
        "the storage is unavailable: {}",
        reply.text()
    );
    assert!(
        reply.text().contains("could not be stored") && reply.text().contains("nothing was saved"),
        "the page says what happened: {}",
        reply.text()
    );
    assert_eq!(rows(gallery), before, "no record was written");
    let reply = gallery.upload(
        &gallery.photos,
        &[TURBO],
        Form::new().text("caption", "Nowhere to go").file(
            "photo",
            "lost.png",
            "image/png",
            &png(64, 48, 10),
        ),
    );
    assert_eq!(reply.status, 503, "through Turbo too: {}", reply.text());
    assert_eq!(rows(gallery), before, "no record was written");
    // The pages without files still answer.
    assert_eq!(get(gallery.address(), &gallery.photos).status, 200);
    if let Some(tmp) = blocked {
        std::fs::remove_file(&tmp).unwrap();
        let objects = gallery.store.objects();
        assert!(objects.is_empty(), "nothing was left: {objects:?}");
    }
}
