//! Compile-and-behave tier for the deadline of uploads: the gallery app of
//! `fixtures/attachments.toml`, run with a 1 s `HTTP_REQUEST_TIMEOUT`, an `UPLOAD_MIN_RATE` of
//! 16 KiB a second and a 3 s `HTTP_UPLOAD_TIMEOUT`, is sent photos at paced rates over a raw
//! connection. An upload above the rate that takes longer than the request timeout is stored;
//! a trickle below the rate, and a fast upload that outlasts the maximum, are answered 408 before
//! they are sent whole, and leave the rows and the stored objects as they were.

mod support;

use std::collections::BTreeSet;
use std::io::{Cursor, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use support::Fixture;
use support::app::{Reply, Server, apps_target, cargo, post, read_reply, spawn};
use support::multipart::Form;

/// The minimum rate the app runs with, in bytes a second.
const MIN_RATE: usize = 16 * 1024;

/// How long the test waits for a reply before it fails instead of hanging; not a speed assertion.
const REPLY_WAIT: Duration = Duration::from_secs(15);

#[test]
fn uploads_earn_time_by_their_rate_and_a_trickle_is_cut_off() {
    let parent = tempfile::tempdir().unwrap();
    let (app, _) = Fixture::named("attachments").generate(parent.path());
    cargo(&app, &["build"]);
    let gallery = Gallery::start(&app);

    // (a) Twice the minimum rate, 4 KiB each 125 ms: about 1.5 s, longer than the 1 s every
    // ordinary request has, and the photo is stored.
    let before = gallery.snapshot();
    let photo = noise_png(128, 128, 1);
    let (reply, sent_whole) = gallery.upload_paced("Steady", &photo, 4 * 1024, 125);
    assert!(
        sent_whole,
        "the steady upload was sent whole before its reply: {} {}",
        reply.status,
        reply.text()
    );
    assert_eq!(
        reply.status,
        303,
        "a steady upload is stored: {}",
        reply.text()
    );
    let after = gallery.snapshot();
    assert_eq!(
        after.rows,
        rows_plus(&before, 1),
        "one photo, its blob and its thumbnail's, and its attachment"
    );
    assert_eq!(
        after.objects.difference(&before.objects).count(),
        2,
        "the original and its thumbnail are stored: {:?}",
        after.objects
    );

    // (b) An eighth of the rate, 512 bytes each 250 ms: the 1 s start and the bytes it earns
    // run out after about 1.1 s, long before the 24 s it would take to send the photo.
    let before = gallery.snapshot();
    let (reply, sent_whole) = gallery.upload_paced("Trickle", &photo, 512, 250);
    assert_eq!(reply.status, 408, "a trickle is cut off: {}", reply.text());
    assert!(
        reply.text().contains("arrived too slowly"),
        "the reply says why: {}",
        reply.text()
    );
    assert!(!sent_whole, "the reply came before the body was sent whole");
    assert_eq!(gallery.snapshot(), before, "the trickle stored nothing");
    assert!(
        gallery.server.log().contains("UPLOAD_MIN_RATE"),
        "the log names the rate: {}",
        gallery.server.log()
    );

    // (c) Four times the rate, 8 KiB each 125 ms, for a photo that would take about 4 s: the
    // rate allows it, the 3 s maximum does not.
    let before = gallery.snapshot();
    let large = noise_png(300, 300, 2);
    let (reply, sent_whole) = gallery.upload_paced("Too long", &large, 8 * 1024, 125);
    assert_eq!(reply.status, 408, "the maximum holds: {}", reply.text());
    assert!(!sent_whole, "the reply came before the body was sent whole");
    assert_eq!(gallery.snapshot(), before, "the long upload stored nothing");
    assert!(
        gallery.server.log().contains("HTTP_UPLOAD_TIMEOUT"),
        "the log names the maximum: {}",
        gallery.server.log()
    );
}

/// The gallery app running in a directory of its own, with one album.
struct Gallery {
    server: Server,
    dir: tempfile::TempDir,
    /// `/albums/N/photos`.
    photos: String,
}

/// The rows of the photos, blobs and attachments tables, and the files under the blob storage
/// (a temporary left behind included).
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    rows: [u64; 3],
    objects: BTreeSet<String>,
}

impl Gallery {
    fn start(app: &Path) -> Gallery {
        let dir = tempfile::tempdir().unwrap();
        support::copy_tree(&app.join("static"), &dir.path().join("static"));
        std::fs::create_dir_all(dir.path().join("storage")).unwrap();
        let log = dir.path().join("app.log");
        let min_rate = MIN_RATE.to_string();
        let env = [
            (
                "SECRET_KEY_BASE",
                "a secret for the upload rate test, long enough to sign with",
            ),
            ("DATABASE_URL", "sqlite://storage/gallery.sqlite3"),
            ("MAX_UPLOAD_BYTES", "1048576"),
            ("HTTP_REQUEST_TIMEOUT", "1"),
            ("UPLOAD_MIN_RATE", min_rate.as_str()),
            ("HTTP_UPLOAD_TIMEOUT", "3"),
        ];
        let server = spawn(
            &apps_target().join("debug/gallery"),
            dir.path(),
            &env,
            Some(&log),
        );
        let reply = post(server.address, "/albums", &[], &[("name", "Holidays")]);
        assert_eq!(reply.status, 303, "creating an album: {}", reply.text());
        let album = reply.header("location").expect("a redirect to the album");
        let photos = format!("{album}/photos");
        Gallery {
            server,
            dir,
            photos,
        }
    }

    fn address(&self) -> SocketAddr {
        self.server.address
    }

    /// Runs one SQL query on the app's SQLite file, which the app keeps open in WAL mode.
    fn sql(&self, query: &str) -> String {
        support::sqlite3(&self.dir.path().join("storage/gallery.sqlite3"), query)
    }

    fn snapshot(&self) -> Snapshot {
        let counts = self.sql(
            "SELECT (SELECT count(*) FROM photos) || ' ' || (SELECT count(*) FROM blobs) \
             || ' ' || (SELECT count(*) FROM attachments)",
        );
        let counts: Vec<u64> = counts
            .split(' ')
            .map(|count| count.parse().unwrap())
            .collect();
        let root = self.dir.path().join("storage/blobs");
        let objects = if root.exists() {
            walkdir::WalkDir::new(&root)
                .into_iter()
                .map(|entry| entry.unwrap())
                .filter(|entry| !entry.file_type().is_dir())
                .map(|entry| {
                    entry
                        .path()
                        .strip_prefix(&root)
                        .unwrap()
                        .display()
                        .to_string()
                })
                .collect()
        } else {
            BTreeSet::new()
        };
        Snapshot {
            rows: [counts[0], counts[1], counts[2]],
            objects,
        }
    }

    /// Posts a photo with `caption` and the image `png` as a browser's form would, its body
    /// written `chunk` bytes each `every_ms` milliseconds from a thread of its own, and reads the
    /// reply as it comes. Gives the reply, and whether the whole body had been written when it
    /// came.
    fn upload_paced(
        &self,
        caption: &str,
        png: &[u8],
        chunk: usize,
        every_ms: u64,
    ) -> (Reply, bool) {
        let body = Form::new()
            .text("caption", caption)
            .file("photo", "photo.png", "image/png", png)
            .finish();
        let mut connection = TcpStream::connect(self.address()).unwrap();
        connection.set_nodelay(true).unwrap();
        let head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
            self.photos,
            self.address(),
            Form::content_type(),
            body.len()
        );
        connection.write_all(head.as_bytes()).unwrap();
        let replied = Arc::new(AtomicBool::new(false));
        let sent_whole = Arc::new(AtomicBool::new(false));
        let writer = {
            let mut connection = connection.try_clone().unwrap();
            let (replied, sent_whole) = (replied.clone(), sent_whole.clone());
            std::thread::spawn(move || {
                for (i, piece) in body.chunks(chunk).enumerate() {
                    if i > 0 {
                        std::thread::sleep(Duration::from_millis(every_ms));
                    }
                    // A write fails once the server has answered and closed the connection.
                    if replied.load(Ordering::SeqCst) || connection.write_all(piece).is_err() {
                        return;
                    }
                }
                sent_whole.store(true, Ordering::SeqCst);
            })
        };
        let reply = read_reply(connection, REPLY_WAIT);
        let whole = sent_whole.load(Ordering::SeqCst);
        replied.store(true, Ordering::SeqCst);
        writer.join().unwrap();
        (reply.expect("a reply to the upload"), whole)
    }
}

/// The rows after `photos` more photos with a thumbnailed image each: two blobs and one
/// attachment apiece.
fn rows_plus(before: &Snapshot, photos: u64) -> [u64; 3] {
    let [records, blobs, attachments] = before.rows;
    [records + photos, blobs + 2 * photos, attachments + photos]
}

/// A PNG of `width` by `height` pixels of noise seeded by `seed`, which does not compress, so
/// its size is about three bytes a pixel.
fn noise_png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut state = 0x9e37_79b9_u32 ^ seed;
    let image = image::RgbImage::from_fn(width, height, |_, _| {
        // xorshift32: cheap, deterministic, and incompressible enough.
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut bytes = Cursor::new(Vec::new());
    image
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("the PNG encodes");
    bytes.into_inner()
}
