//! Blob storage: uploads to the disk backend and to a real S3-compatible server (`moto_server`,
//! from the Python package `moto[server]`, started on a free loopback port), and the attacks
//! each must refuse while storing nothing: a disguised file, an oversized or truncated upload,
//! a key or filename that would leave the store.

use std::convert::Infallible;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use turbogen_runtime::deadline::TooSlow;
use turbogen_runtime::storage::{
    self, Accept, DEFAULT_MAX_UPLOAD_BYTES, Disk, Disposition, Key, S3, S3Config, Storage,
    UploadError, UploadLimits, read_to_vec, sanitize_filename, serving_headers, sniff, upload,
};

/// The first bytes of a PNG: its signature and the start of its header chunk.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";

/// A page that would run script if a browser rendered it from the app's origin.
const HTML: &[u8] =
    b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>";

/// An SVG with a script, which a browser runs when it shows the SVG as a document.
const SVG: &[u8] = b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>";

/// `bytes` as a request body arrives: in chunks of `chunk` bytes.
fn body(bytes: &[u8], chunk: usize) -> impl futures_util::Stream<Item = Result<Bytes, Infallible>> {
    let chunks: Vec<Result<Bytes, Infallible>> = bytes
        .chunks(chunk)
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    futures_util::stream::iter(chunks)
}

/// A PNG of `len` bytes: the signature, then a pattern that differs from offset to offset, so a
/// misplaced chunk would show.
fn png_of(len: usize) -> Vec<u8> {
    let mut bytes = PNG.to_vec();
    bytes.extend((0..len.saturating_sub(PNG.len())).map(|i| (i % 251) as u8));
    bytes.truncate(len);
    bytes
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh directory for one test's blobs, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        let dir = std::env::temp_dir().join(format!("turbogen-storage-{}", Key::generate()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every file under `dir`, temporaries included.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn a_file_is_streamed_to_disk_hashed_and_sniffed() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let bytes = png_of(300_000);
    let stored = upload(
        &disk,
        UploadLimits::default(),
        &[Accept::Image],
        "../Holiday \"best\".png",
        body(&bytes, 16 * 1024),
    )
    .await
    .unwrap();
    assert_eq!(stored.content_type, "image/png");
    assert_eq!(stored.byte_size, 300_000);
    assert_eq!(stored.checksum, hex_sha256(&bytes));
    assert_eq!(stored.filename, "Holiday best.png");
    assert_eq!(Key::parse(stored.key.as_str()), Some(stored.key.clone()));
    let path = disk.path(&stored.key);
    assert!(path.starts_with(&dir.0), "{path:?}");
    assert_eq!(files_under(&dir.0), [path], "one file, no temporary left");
    let read = read_to_vec(disk.read(&stored.key, None).await.unwrap())
        .await
        .unwrap();
    assert_eq!(read, bytes);
    let range = read_to_vec(
        disk.read(&stored.key, Some(100_000..200_123))
            .await
            .unwrap(),
    )
    .await
    .unwrap();
    assert_eq!(range, &bytes[100_000..200_123]);
    let outside = disk
        .read(&stored.key, Some(0..300_001))
        .await
        .err()
        .unwrap();
    assert_eq!(outside.kind(), io::ErrorKind::InvalidInput);

    disk.delete(&stored.key).await.unwrap();
    assert!(files_under(&dir.0).is_empty());
    let gone = disk.read(&stored.key, None).await.err().unwrap();
    assert_eq!(gone.kind(), io::ErrorKind::NotFound);
    disk.delete(&stored.key).await.unwrap();
}

/// An upload whose request goes away mid-body (a cancelled request, a server shutting down)
/// is dropped before its commit or its abort, and leaves no partial file behind.
#[tokio::test]
async fn an_upload_dropped_mid_body_leaves_no_temporary_file() {
    use futures_util::StreamExt;

    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let (sent, mut arrived) = tokio::sync::mpsc::channel::<()>(1);
    // The first 64 KiB arrive, then the client stops sending and never finishes.
    let bytes = png_of(64 * 1024);
    let first = body(&bytes, 16 * 1024).chain(futures_util::stream::once(async move {
        let _ = sent.send(()).await;
        std::future::pending::<Result<Bytes, Infallible>>().await
    }));
    let upload = upload(&disk, UploadLimits::default(), &[], "big.png", first);
    tokio::select! {
        stored = upload => panic!("a body that never ends was stored: {stored:?}"),
        _ = arrived.recv() => {}
    }
    assert!(
        files_under(&dir.0).is_empty(),
        "the partial file goes with the upload: {:?}",
        files_under(&dir.0)
    );
}

#[tokio::test]
async fn a_file_shorter_than_the_sniffed_head_and_an_empty_one_are_stored() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let stored = upload(&disk, UploadLimits::default(), &[], "a.png", body(PNG, 3))
        .await
        .unwrap();
    assert_eq!(stored.content_type, "image/png");
    let read = read_to_vec(disk.read(&stored.key, None).await.unwrap())
        .await
        .unwrap();
    assert_eq!(read, PNG);
    let empty = upload(&disk, UploadLimits::default(), &[], "empty", body(b"", 1))
        .await
        .unwrap();
    assert_eq!(
        (empty.byte_size, empty.content_type),
        (0, "application/octet-stream")
    );
    assert_eq!(empty.checksum, hex_sha256(b""));
}

#[tokio::test]
async fn html_or_svg_named_png_is_refused_on_an_image_field_and_nothing_is_stored() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    for (name, bytes, chunk) in [("photo.png", HTML, 7), ("photo.png", SVG, 4096)] {
        let e = upload(
            &disk,
            UploadLimits::default(),
            &[Accept::Image],
            name,
            body(bytes, chunk),
        )
        .await
        .unwrap_err();
        let UploadError::WrongKind { content_type } = e else {
            panic!("{name}: {e}");
        };
        assert!(!Accept::Image.allows(content_type), "{content_type}");
        assert_eq!(Disposition::of(content_type), Disposition::Attachment);
    }
    // A refused file larger than the sniffed head is refused before its rest is written.
    let mut large_html = HTML.to_vec();
    large_html.resize(100_000, b' ');
    let e = upload(
        &disk,
        UploadLimits::default(),
        &[Accept::Image, Accept::Pdf],
        "x.png",
        body(&large_html, 1000),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            e,
            UploadError::WrongKind {
                content_type: "text/html"
            }
        ),
        "{e}"
    );
    assert!(files_under(&dir.0).is_empty(), "{:?}", files_under(&dir.0));
}

#[tokio::test]
async fn an_svg_on_an_open_field_is_kept_but_only_ever_served_as_a_sandboxed_download() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let stored = upload(
        &disk,
        UploadLimits::default(),
        &[],
        "logo.svg",
        body(SVG, 50),
    )
    .await
    .unwrap();
    assert_ne!(stored.content_type, "image/svg+xml");
    for content_type in [
        stored.content_type,
        "image/svg+xml",
        "text/html",
        "text/xml",
    ] {
        let headers = serving_headers(content_type, "logo.svg");
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.as_str() == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            get("content-type").as_deref(),
            Some("application/octet-stream")
        );
        assert!(
            get("content-disposition")
                .unwrap()
                .starts_with("attachment; ")
        );
        assert_eq!(get("content-security-policy").as_deref(), Some("sandbox"));
        assert_eq!(get("x-content-type-options").as_deref(), Some("nosniff"));
    }
    let png = serving_headers("image/png", "a.png");
    assert!(
        png.iter()
            .any(|(n, v)| n == "content-type" && v == "image/png")
    );
    assert!(png.iter().any(|(n, v)| n == "content-disposition" && v.to_str().unwrap().starts_with("inline; ")));
    assert!(!png.iter().any(|(n, _)| n == "content-security-policy"));
}

#[test]
fn only_raster_images_audio_video_and_pdf_are_inline() {
    for inline in [
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "video/mp4",
        "audio/mpeg",
        "application/pdf",
    ] {
        assert_eq!(Disposition::of(inline), Disposition::Inline, "{inline}");
    }
    for download in [
        "image/svg+xml",
        "text/html",
        "text/xml",
        "application/octet-stream",
        "application/zip",
        "image/tiff",
        "text/javascript",
    ] {
        assert_eq!(
            Disposition::of(download),
            Disposition::Attachment,
            "{download}"
        );
    }
    assert_eq!(sniff(PNG), "image/png");
    assert_eq!(sniff(b"%PDF-1.7\n%"), "application/pdf");
    assert_eq!(sniff(HTML), "text/html");
    assert_eq!(sniff(b"just some text"), "application/octet-stream");
    assert_eq!(
        Accept::html_accept(&[Accept::Image, Accept::Pdf]),
        "image/png,image/jpeg,image/gif,image/webp,application/pdf"
    );
    assert_eq!(Accept::html_accept(&[]), "");
}

#[tokio::test]
async fn an_upload_over_the_limit_stores_nothing_and_one_at_the_limit_is_kept() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let limits = UploadLimits { max_bytes: 20_000 };
    for len in [20_001, 50_000] {
        let e = upload(&disk, limits, &[], "big.png", body(&png_of(len), 4096))
            .await
            .unwrap_err();
        assert!(
            matches!(e, UploadError::TooLarge { max_bytes: 20_000 }),
            "{e}"
        );
        assert!(
            files_under(&dir.0).is_empty(),
            "{len}: {:?}",
            files_under(&dir.0)
        );
    }
    // Over the limit within the sniffed head, before anything was written, stores nothing too.
    let small = UploadLimits { max_bytes: 10 };
    let e = upload(&disk, small, &[], "a.png", body(PNG, 64))
        .await
        .unwrap_err();
    assert!(matches!(e, UploadError::TooLarge { .. }), "{e}");
    assert!(files_under(&dir.0).is_empty());
    let kept = upload(&disk, limits, &[], "ok.png", body(&png_of(20_000), 4096))
        .await
        .unwrap();
    assert_eq!(kept.byte_size, 20_000);
    assert_eq!(files_under(&dir.0).len(), 1);
}

#[tokio::test]
async fn a_truncated_body_stores_nothing() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let bytes = png_of(40_000);
    let chunks: Vec<Result<Bytes, io::Error>> = vec![
        Ok(Bytes::copy_from_slice(&bytes[..20_000])),
        Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the client went away",
        )),
    ];
    let e = upload(
        &disk,
        UploadLimits::default(),
        &[],
        "a.png",
        futures_util::stream::iter(chunks),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, UploadError::Body(_)), "{e}");
    assert!(e.to_string().contains("the client went away"), "{e}");
    assert!(files_under(&dir.0).is_empty());
}

#[tokio::test]
async fn a_body_cut_off_by_its_deadline_is_too_slow_and_stores_nothing() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let bytes = png_of(40_000);
    // What a multipart field's stream gives when the body under it fell behind its minimum
    // rate: the body's error, wrapped by the layers between (here an io::Error).
    let cut_off = TooSlow::BelowRate { min_rate: 1_000 };
    let chunks: Vec<Result<Bytes, io::Error>> = vec![
        Ok(Bytes::copy_from_slice(&bytes[..20_000])),
        Err(io::Error::other(cut_off)),
    ];
    let e = upload(
        &disk,
        UploadLimits::default(),
        &[],
        "a.png",
        futures_util::stream::iter(chunks),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(e, UploadError::TooSlow(reason) if reason == cut_off),
        "{e}"
    );
    assert_eq!(e.status(), axum::http::StatusCode::REQUEST_TIMEOUT);
    assert!(files_under(&dir.0).is_empty());
}

#[tokio::test]
async fn a_store_that_cannot_be_written_is_a_storage_error() {
    let dir = TempDir::new();
    // The root is a file, so no directory can be made under it.
    let root = dir.0.join("not-a-directory");
    std::fs::write(&root, b"").unwrap();
    let e = upload(
        &Disk::new(&root),
        UploadLimits::default(),
        &[],
        "a.png",
        body(PNG, 8),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, UploadError::Storage(_)), "{e}");
}

#[test]
fn keys_come_from_the_store_and_never_name_a_path() {
    let key = Key::generate();
    assert_eq!(key.as_str().len(), 32);
    assert_ne!(key, Key::generate());
    for bad in [
        "../../../../etc/passwd",
        "..%2f..%2fetc%2fpasswd",
        "0123456789abcdef0123456789abcde/",
        "0123456789ABCDEF0123456789ABCDEF",
        "0123456789abcdef0123456789abcde",
        "0123456789abcdef0123456789abcdef0",
        "",
        "/tmp/x",
    ] {
        assert_eq!(Key::parse(bad), None, "{bad}");
    }
    let parsed = Key::parse("0123456789abcdef0123456789abcdef").unwrap();
    let disk = Disk::new("/srv/app/storage/blobs");
    assert_eq!(
        disk.path(&parsed),
        Path::new("/srv/app/storage/blobs/01/23/0123456789abcdef0123456789abcdef")
    );
}

#[test]
fn filenames_are_sanitised_for_storage_and_headers() {
    for (given, kept) in [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\evil.png", "evil.png"),
        ("a\0b\r\n\u{7}c.png", "abc.png"),
        ("say \"hi\".txt", "say hi.txt"),
        ("..", "file"),
        ("../", "file"),
        ("", "file"),
        ("   ", "file"),
        (".htaccess", "htaccess"),
        ("résumé.pdf", "résumé.pdf"),
    ] {
        assert_eq!(sanitize_filename(given), kept, "{given:?}");
    }
    let long = format!("{}.jpeg", "é".repeat(300));
    let cut = sanitize_filename(&long);
    assert!(
        cut.len() <= storage::MAX_FILENAME_BYTES && cut.ends_with("é.jpeg"),
        "{cut}"
    );
    let header = storage::content_disposition(Disposition::Attachment, "../ré\"sumé\r\n.pdf");
    assert_eq!(
        header.to_str().unwrap(),
        "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    );
}

#[test]
fn the_upload_limit_comes_from_max_upload_bytes() {
    assert_eq!(
        UploadLimits::from_value(None).unwrap().max_bytes,
        DEFAULT_MAX_UPLOAD_BYTES
    );
    assert_eq!(DEFAULT_MAX_UPLOAD_BYTES, 26_214_400);
    assert_eq!(
        UploadLimits::from_value(Some("")).unwrap(),
        UploadLimits::default()
    );
    assert_eq!(
        UploadLimits::from_value(Some("1000")).unwrap().max_bytes,
        1000
    );
    for bad in ["0", "-5", "25MB", "1e9"] {
        let e = UploadLimits::from_value(Some(bad)).unwrap_err();
        assert!(e.starts_with(&format!("MAX_UPLOAD_BYTES={bad} ")), "{e}");
    }
}

#[test]
fn s3_is_configured_from_exactly_the_variables_fly_storage_create_sets() {
    let all = |name: &str| Some(format!("value of {name}"));
    let config = S3Config::from_lookup(all).unwrap().unwrap();
    assert_eq!(config.bucket, "value of BUCKET_NAME");
    assert_eq!(config.endpoint, "value of AWS_ENDPOINT_URL_S3");
    assert_eq!(config.access_key_id, "value of AWS_ACCESS_KEY_ID");
    assert_eq!(config.secret_access_key, "value of AWS_SECRET_ACCESS_KEY");
    assert_eq!(config.region, "value of AWS_REGION");
    assert!(
        !format!("{config:?}").contains("AWS_SECRET_ACCESS_KEY"),
        "the secret is hidden"
    );
    assert_eq!(
        S3Config::from_lookup(|_| None).unwrap(),
        None,
        "no bucket: the disk"
    );
    let partial = |name: &str| {
        ["BUCKET_NAME", "AWS_REGION"]
            .contains(&name)
            .then(|| "x".to_owned())
    };
    let e = S3Config::from_lookup(partial).unwrap_err();
    assert!(
        e.contains("AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY are not set"),
        "{e}"
    );
}

/// A `moto_server` on a free loopback port, stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    async fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "moto_server could not be started ({e}); install it with \
                     `python3 -m pip install 'moto[server]'` (tests/run does)"
                )
            });
        let moto = Moto { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        moto
    }

    /// Sends one plain HTTP/1.1 request (moto checks no signature) and gives the response.
    async fn http(&self, method: &str, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        response
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn blobs_round_trip_through_a_real_s3_compatible_server() {
    let moto = Moto::start().await;
    let created = moto.http("PUT", "/blobs").await;
    assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    let config = S3Config::from_lookup(|name| {
        Some(match name {
            "BUCKET_NAME" => "blobs".to_owned(),
            "AWS_ENDPOINT_URL_S3" => format!("http://127.0.0.1:{}", moto.port),
            "AWS_REGION" => "us-east-1".to_owned(),
            _ => "testing".to_owned(),
        })
    })
    .unwrap()
    .unwrap();
    let s3 = S3::new(&config).unwrap();
    let listing = || async { moto.http("GET", "/blobs?list-type=2").await };
    let uploads = || async { moto.http("GET", "/blobs?uploads").await };

    // A small file is one part; a file of more than two parts shows the parts join in order.
    for len in [1_000, 2 * storage::s3::PART_BYTES + 12_345] {
        let bytes = png_of(len);
        let stored = upload(
            &s3,
            UploadLimits::default(),
            &[Accept::Image],
            "p.png",
            body(&bytes, 64 * 1024),
        )
        .await
        .unwrap();
        assert_eq!(
            (stored.byte_size, stored.content_type),
            (len as u64, "image/png")
        );
        assert_eq!(stored.checksum, hex_sha256(&bytes));
        assert!(
            listing()
                .await
                .contains(&format!("<Key>{}</Key>", stored.key))
        );
        let read = read_to_vec(s3.read(&stored.key, None).await.unwrap())
            .await
            .unwrap();
        assert!(read == bytes, "{len} bytes read back differ");
        let range = read_to_vec(s3.read(&stored.key, Some(500..900)).await.unwrap())
            .await
            .unwrap();
        assert_eq!(range, &bytes[500..900]);
        s3.delete(&stored.key).await.unwrap();
        let gone = s3.read(&stored.key, None).await.err().unwrap();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound, "{gone}");
        s3.delete(&stored.key).await.unwrap();
    }

    // Refused uploads leave no object and no unfinished multipart upload behind.
    let limits = UploadLimits {
        max_bytes: storage::s3::PART_BYTES as u64 + 1,
    };
    let too_large = upload(
        &s3,
        limits,
        &[],
        "big.png",
        body(&png_of(2 * storage::s3::PART_BYTES), 64 * 1024),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(too_large, UploadError::TooLarge { .. }),
        "{too_large}"
    );
    let disguised = upload(
        &s3,
        UploadLimits::default(),
        &[Accept::Image],
        "x.png",
        body(HTML, 16),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(disguised, UploadError::WrongKind { .. }),
        "{disguised}"
    );
    let listed = listing().await;
    assert!(!listed.contains("<Key>"), "{listed}");
    let unfinished = uploads().await;
    assert!(unfinished.starts_with("HTTP/1.1 200"), "{unfinished}");
    assert!(!unfinished.contains("<UploadId>"), "{unfinished}");
}

/// An upload route as a generated app mounts one: a multipart form whose `photo` field streams
/// into the disk, answering with the stored key or the upload's status.
fn upload_app(disk: Disk, limits: UploadLimits) -> axum::Router {
    use axum::extract::{DefaultBodyLimit, Multipart, State};
    use axum::response::IntoResponse;

    async fn create(
        State((disk, limits)): State<(Disk, UploadLimits)>,
        mut form: Multipart,
    ) -> axum::response::Response {
        loop {
            let field = match form.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => return axum::http::StatusCode::BAD_REQUEST.into_response(),
                Err(e) => return e.status().into_response(),
            };
            if field.name() != Some("photo") {
                continue;
            }
            let filename = field.file_name().unwrap_or_default().to_owned();
            return match upload(&disk, limits, &[Accept::Image], &filename, field).await {
                Ok(stored) => (axum::http::StatusCode::CREATED, stored.filename).into_response(),
                Err(e) => e.status().into_response(),
            };
        }
    }

    axum::Router::new()
        .route("/photos", axum::routing::post(create))
        .layer(DefaultBodyLimit::max(storage::upload_body_limit(limits)))
        .with_state((disk, limits))
}

/// A multipart/form-data body with a caption and the file `bytes` as `photo`, cut after
/// `keep` bytes when given, as a client that went away would leave it.
fn multipart(
    filename: &str,
    bytes: &[u8],
    keep: Option<usize>,
) -> axum::http::Request<axum::body::Body> {
    let mut body = Vec::new();
    body.extend_from_slice(
        b"--XyZ\r\nContent-Disposition: form-data; name=\"caption\"\r\n\r\nHello\r\n",
    );
    body.extend_from_slice(
        format!("--XyZ\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(b"\r\n--XyZ--\r\n");
    if let Some(keep) = keep {
        body.truncate(keep);
    }
    axum::http::Request::post("/photos")
        .header("content-type", "multipart/form-data; boundary=XyZ")
        .body(axum::body::Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn a_multipart_upload_route_answers_each_failure_with_its_status_and_stores_nothing() {
    use tower::ServiceExt;

    let dir = TempDir::new();
    let limits = UploadLimits { max_bytes: 100_000 };
    let app = upload_app(Disk::new(&dir.0), limits);
    let send = |request| {
        let app = app.clone();
        async move { app.oneshot(request).await.unwrap() }
    };
    let stored = |status: u16, what: &str, response: &axum::response::Response| {
        assert_eq!(response.status().as_u16(), status, "{what}");
    };

    let response = send(multipart("../../x.png", &png_of(50_000), None)).await;
    stored(201, "an image", &response);
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(&body[..], b"x.png");
    assert_eq!(files_under(&dir.0).len(), 1);

    for (status, what, request) in [
        (422, "HTML named .png", multipart("photo.png", HTML, None)),
        (
            413,
            "a file over the limit",
            multipart("big.png", &png_of(100_001), None),
        ),
        (
            413,
            "a body over the route's limit",
            multipart("huge.png", &png_of(3 * 1024 * 1024), None),
        ),
        (
            400,
            "a truncated body",
            multipart("cut.png", &png_of(60_000), Some(40_000)),
        ),
    ] {
        let response = send(request).await;
        stored(status, what, &response);
        assert_eq!(files_under(&dir.0).len(), 1, "{what} stored nothing");
    }
}

#[tokio::test]
async fn an_unreachable_s3_service_is_a_storage_error_within_seconds() {
    // A port nothing listens on: every connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = S3Config {
        bucket: "blobs".to_owned(),
        endpoint: format!("http://127.0.0.1:{port}"),
        access_key_id: "k".to_owned(),
        secret_access_key: "s".to_owned(),
        region: "us-east-1".to_owned(),
    };
    let s3 = S3::new(&config).unwrap();
    let started = Instant::now();
    let e = upload(&s3, UploadLimits::default(), &[], "a.png", body(PNG, 8))
        .await
        .unwrap_err();
    assert!(matches!(e, UploadError::Storage(_)), "{e}");
    // Refused connections, retried, and not a client that could not even be configured.
    assert!(format!("{e:?}").contains("ConnectionRefused"), "{e:?}");
    assert_eq!(e.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
    let waited = started.elapsed();
    assert!(
        waited <= storage::s3::RETRY_TIMEOUT + Duration::from_secs(10),
        "{waited:?}"
    );
}

impl Moto {
    /// A new bucket on this server, and the variables `fly storage create` would set for it.
    async fn bucket(&self, name: &str) -> impl Fn(&str) -> Option<String> + use<> {
        let created = self.http("PUT", &format!("/{name}")).await;
        assert!(created.starts_with("HTTP/1.1 200"), "{created}");
        let (name, port) = (name.to_owned(), self.port);
        move |variable: &str| {
            Some(match variable {
                "BUCKET_NAME" => name.clone(),
                "AWS_ENDPOINT_URL_S3" => format!("http://127.0.0.1:{port}"),
                "AWS_REGION" => "us-east-1".to_owned(),
                _ => "testing".to_owned(),
            })
        }
    }

    /// How many objects the bucket holds.
    async fn objects(&self, bucket: &str) -> usize {
        let listing = self.http("GET", &format!("/{bucket}?list-type=2")).await;
        assert!(listing.starts_with("HTTP/1.1 200"), "{listing}");
        listing.matches("<Key>").count()
    }
}

#[tokio::test]
async fn the_environment_chooses_the_disk_or_the_bucket_and_names_what_is_wrong() {
    assert!(
        storage::from_lookup(|_| None).is_ok(),
        "no bucket: the disk"
    );
    let partial = |name: &str| (name == "BUCKET_NAME").then(|| "blobs".to_owned());
    let e = storage::from_lookup(partial).err().unwrap();
    assert!(
        e.contains(
            "AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION are not set"
        ),
        "{e}"
    );
    let schemeless = |name: &str| {
        Some(match name {
            "AWS_ENDPOINT_URL_S3" => "fly.storage.tigris.dev".to_owned(),
            _ => "x".to_owned(),
        })
    };
    let e = storage::from_lookup(schemeless).err().unwrap();
    assert!(
        e.starts_with("AWS_ENDPOINT_URL_S3=fly.storage.tigris.dev is not"),
        "{e}"
    );

    // With the bucket's variables, blobs go to the bucket.
    let moto = Moto::start().await;
    let chosen = storage::from_lookup(moto.bucket("chosen").await).unwrap();
    let stored = upload(
        chosen.as_ref(),
        UploadLimits::default(),
        &[],
        "a.png",
        body(PNG, 8),
    )
    .await
    .unwrap();
    let listing = moto.http("GET", "/chosen?list-type=2").await;
    assert!(
        listing.contains(&format!("<Key>{}</Key>", stored.key)),
        "{listing}"
    );
}

/// A request's headers from `(name, value)` pairs.
fn headers(pairs: &[(&str, &str)]) -> axum::http::HeaderMap {
    let mut map = axum::http::HeaderMap::new();
    for (name, value) in pairs {
        map.append(
            axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            axum::http::HeaderValue::from_str(value).unwrap(),
        );
    }
    map
}

/// A response's status, the value of each named header (`None` when absent), and its body.
async fn answer(response: axum::response::Response) -> (u16, axum::http::HeaderMap, Vec<u8>) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn header<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

/// The blobs table's row of a stored blob, as serving takes it.
fn meta(stored: &storage::StoredBlob) -> storage::BlobMeta<'_> {
    storage::BlobMeta {
        key: &stored.key,
        content_type: stored.content_type,
        filename: &stored.filename,
        byte_size: stored.byte_size,
        checksum: &stored.checksum,
    }
}

/// Serving from `store`: the whole blob with its headers, 304 for each form of a matching
/// `If-None-Match`, each form of `Range` as 206, 416 past the end, several ranges and a stale
/// `If-Range` as the whole blob, an SVG with a script as a sandboxed download, a missing blob 404.
async fn serving_from(store: &dyn Storage) {
    let bytes = png_of(200_000);
    let stored = upload(
        store,
        UploadLimits::default(),
        &[Accept::Image],
        "../a b.png",
        body(&bytes, 10_000),
    )
    .await
    .unwrap();
    let etag = format!("\"{}\"", stored.checksum);
    let serve = |pairs: &[(&str, &str)]| {
        let request = headers(pairs);
        let blob = meta(&stored);
        async move { answer(storage::serve(store, blob, &request).await).await }
    };

    let (status, h, body) = serve(&[]).await;
    assert_eq!(status, 200);
    assert!(body == bytes, "the whole blob");
    assert_eq!(header(&h, "etag"), Some(etag.as_str()));
    assert_eq!(header(&h, "content-length"), Some("200000"));
    assert_eq!(header(&h, "content-type"), Some("image/png"));
    assert_eq!(header(&h, "accept-ranges"), Some("bytes"));
    assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));
    assert_eq!(
        header(&h, "cache-control"),
        Some("private, max-age=31536000, immutable")
    );
    assert_eq!(
        header(&h, "content-disposition"),
        Some("inline; filename=\"a b.png\"; filename*=UTF-8''a%20b.png")
    );
    assert_eq!(header(&h, "content-security-policy"), None);

    let weak = format!("W/{etag}");
    let listed = format!("\"other\", {etag}");
    for value in [etag.as_str(), weak.as_str(), listed.as_str(), "*"] {
        let (status, h, body) = serve(&[("if-none-match", value)]).await;
        assert_eq!(status, 304, "{value}");
        assert!(body.is_empty(), "{value}");
        assert_eq!(header(&h, "etag"), Some(etag.as_str()));
        assert_eq!(header(&h, "content-length"), None);
    }
    let (status, _, body) = serve(&[("if-none-match", "\"other\"")]).await;
    assert_eq!((status, body.len()), (200, bytes.len()), "another tag");

    for (range, start, end) in [
        ("bytes=0-0", 0, 1),
        ("bytes=1000-1999", 1000, 2000),
        ("bytes=150000-", 150_000, 200_000),
        ("bytes=-500", 199_500, 200_000),
        ("bytes=199000-999999", 199_000, 200_000),
    ] {
        let (status, h, body) = serve(&[("range", range)]).await;
        assert_eq!(status, 206, "{range}");
        assert!(body == bytes[start..end], "{range}");
        let content_range = format!("bytes {start}-{}/200000", end - 1);
        assert_eq!(header(&h, "content-range"), Some(content_range.as_str()));
        assert_eq!(
            header(&h, "content-length"),
            Some((end - start).to_string().as_str())
        );
        assert_eq!(header(&h, "etag"), Some(etag.as_str()));
    }
    let (status, _, part) = serve(&[("range", "bytes=10-19"), ("if-range", etag.as_str())]).await;
    assert_eq!(
        (status, part.as_slice()),
        (206, &bytes[10..20]),
        "a current If-Range"
    );

    for range in ["bytes=200000-", "bytes=300000-400000", "bytes=-0"] {
        let (status, h, body) = serve(&[("range", range)]).await;
        assert_eq!(status, 416, "{range}");
        assert_eq!(header(&h, "content-range"), Some("bytes */200000"));
        assert!(body.is_empty());
    }
    for pairs in [
        &[("range", "bytes=0-9,20-29")][..],
        &[("range", "bytes=20-10")][..],
        &[("range", "lines=1-2")][..],
        &[("range", "bytes=10-19"), ("if-range", "\"stale\"")][..],
        &[
            ("range", "bytes=10-19"),
            ("if-range", "Tue, 01 Dec 2026 10:00:00 GMT"),
        ][..],
    ] {
        let (status, h, body) = serve(pairs).await;
        assert_eq!(status, 200, "{pairs:?}");
        assert!(body == bytes, "{pairs:?}");
        assert_eq!(header(&h, "content-range"), None);
    }

    // An SVG with a script, kept on a field that takes any file, is only ever a download that
    // could not run script even if a browser rendered it.
    let svg = upload(
        store,
        UploadLimits::default(),
        &[],
        "logo.svg",
        crate::body(SVG, 7),
    )
    .await
    .unwrap();
    for content_type in [svg.content_type, "image/svg+xml", "text/html"] {
        let blob = storage::BlobMeta {
            content_type,
            ..meta(&svg)
        };
        let (status, h, body) = answer(storage::serve(store, blob, &headers(&[])).await).await;
        assert_eq!(status, 200);
        assert_eq!(body, SVG);
        assert_eq!(header(&h, "content-type"), Some("application/octet-stream"));
        assert!(
            header(&h, "content-disposition")
                .unwrap()
                .starts_with("attachment; filename=\"logo.svg\"")
        );
        assert_eq!(header(&h, "content-security-policy"), Some("sandbox"));
        assert_eq!(header(&h, "x-content-type-options"), Some("nosniff"));
    }

    // An empty blob: the whole of it is nothing, and no range of it can be satisfied; once it
    // is gone from the backend it is 404, even though no byte of it would have been read.
    let empty = upload(
        store,
        UploadLimits::default(),
        &[],
        "empty",
        crate::body(b"", 1),
    )
    .await
    .unwrap();
    let (status, h, got) = answer(storage::serve(store, meta(&empty), &headers(&[])).await).await;
    assert_eq!((status, got.len()), (200, 0));
    assert_eq!(header(&h, "content-length"), Some("0"));
    let ranged = headers(&[("range", "bytes=0-")]);
    let (status, h, _) = answer(storage::serve(store, meta(&empty), &ranged).await).await;
    assert_eq!(status, 416);
    assert_eq!(header(&h, "content-range"), Some("bytes */0"));
    store.delete(&empty.key).await.unwrap();
    let (status, _, _) = answer(storage::serve(store, meta(&empty), &headers(&[])).await).await;
    assert_eq!(status, 404, "an empty blob that is gone");

    // A row whose blob is not in storage.
    store.delete(&stored.key).await.unwrap();
    let (status, h, body) = serve(&[]).await;
    assert_eq!((status, body.len()), (404, 0));
    assert_eq!(header(&h, "content-disposition"), None);
    store.delete(&svg.key).await.unwrap();
}

#[tokio::test]
async fn blobs_are_served_from_disk_with_etags_ranges_and_safe_headers() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    serving_from(&disk).await;
    assert!(files_under(&dir.0).is_empty());

    // The body streams: a blob of a megabyte arrives in chunks, none of them the whole.
    let bytes = png_of(1024 * 1024);
    let stored = upload(
        &disk,
        UploadLimits::default(),
        &[],
        "big.png",
        body(&bytes, 65_536),
    )
    .await
    .unwrap();
    let response = storage::serve(&disk, meta(&stored), &headers(&[])).await;
    let mut body = response.into_body();
    let mut frames = Vec::new();
    while let Some(frame) = http_body_util::BodyExt::frame(&mut body).await {
        frames.push(frame.unwrap().into_data().unwrap().len());
    }
    assert_eq!(frames.iter().sum::<usize>(), bytes.len());
    assert!(
        frames.len() >= 16 && frames.iter().all(|&n| n <= 64 * 1024),
        "{frames:?}"
    );

    // A store that fails (its root is a file, so no blob path can be opened) is 503, not 404.
    let root = dir.0.join("not-a-directory");
    std::fs::write(&root, b"").unwrap();
    let broken = Disk::new(&root);
    let (status, _, body) =
        answer(storage::serve(&broken, meta(&stored), &headers(&[])).await).await;
    assert_eq!((status, body.len()), (503, 0));
}

#[tokio::test]
async fn blobs_are_served_from_a_real_s3_compatible_server_alike() {
    let moto = Moto::start().await;
    let s3 = S3::new(
        &S3Config::from_lookup(moto.bucket("served").await)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    serving_from(&s3).await;
    assert_eq!(moto.objects("served").await, 0);

    // An unreachable service is 503.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let unreachable = S3::new(&S3Config {
        bucket: "served".to_owned(),
        endpoint: format!("http://127.0.0.1:{port}"),
        access_key_id: "k".to_owned(),
        secret_access_key: "s".to_owned(),
        region: "us-east-1".to_owned(),
    })
    .unwrap();
    let key = Key::generate();
    let blob = storage::BlobMeta {
        key: &key,
        content_type: "image/png",
        filename: "a.png",
        byte_size: 10,
        checksum: "0",
    };
    let (status, _, _) = answer(storage::serve(&unreachable, blob, &headers(&[])).await).await;
    assert_eq!(status, 503);
}

/// `image` encoded as `format` by the `image` crate.
fn encoded(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A photograph-like image: every pixel differs from its neighbours.
fn picture(width: u32, height: u32, alpha: bool) -> image::DynamicImage {
    let pixels = image::RgbaImage::from_fn(width, height, |x, y| {
        image::Rgba([
            (x % 256) as u8,
            (y % 256) as u8,
            ((x + y) % 256) as u8,
            if alpha { 200 } else { 255 },
        ])
    });
    if alpha {
        image::DynamicImage::ImageRgba8(pixels)
    } else {
        image::DynamicImage::ImageRgb8(image::DynamicImage::ImageRgba8(pixels).to_rgb8())
    }
}

/// The CRC-32 of a PNG chunk (ISO 3309, the one zlib computes), bit by bit.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A decompression bomb: a PNG of 100 bytes or so, every checksum right, whose header declares
/// 100000 × 100000 pixels of RGBA (40 GB decoded).
fn png_bomb() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut checked = kind.to_vec();
        checked.extend_from_slice(data);
        out.extend_from_slice(&checked);
        out.extend_from_slice(&crc32(&checked).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&100_000u32.to_be_bytes());
    header.extend_from_slice(&100_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 6, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    // A zlib stream of a few zero bytes: the start of rows that would decode to gigabytes.
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x63, 0x60, 0x18, 0x05, 0x00, 0x00, 0x00, 0x00],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Counts the objects of a store, for checking that a refused image stored nothing.
type Count<'a> = &'a (dyn Fn() -> storage::BoxFuture<'a, usize> + Sync);

/// Variants made in `store`: a PNG, a JPEG, a GIF and a WebP scaled to fit, a small image kept at
/// its size, and Ok(None) with nothing stored for a truncated image, a decompression bomb and
/// files that are not images.
async fn variants_in(store: &dyn Storage, objects: Count<'_>) {
    use image::ImageFormat::{Gif, Jpeg, Png, WebP};
    let limits = UploadLimits::default();
    let attach = |bytes: Vec<u8>, name: &'static str| async move {
        upload(store, limits, &[], name, body(&bytes, 32 * 1024))
            .await
            .unwrap()
    };
    for (image, format, name, size, variant_type, variant_size) in [
        (
            picture(1600, 900, true),
            Png,
            "wide.png",
            (1600, 900),
            "image/png",
            (800, 450),
        ),
        (
            picture(1200, 1600, false),
            Jpeg,
            "tall.jpg",
            (1200, 1600),
            "image/jpeg",
            (600, 800),
        ),
        (
            picture(64, 32, false),
            Png,
            "small.png",
            (64, 32),
            "image/png",
            (64, 32),
        ),
        (
            picture(1000, 400, false),
            Gif,
            "anim.gif",
            (1000, 400),
            "image/png",
            (800, 320),
        ),
        (
            picture(1000, 1000, true),
            WebP,
            "square.webp",
            (1000, 1000),
            "image/png",
            (800, 800),
        ),
    ] {
        let original = attach(encoded(image, format), name).await;
        let before = objects().await;
        let info = storage::process_image(store, &original, limits)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{name} gave no variant"));
        assert_eq!((info.width, info.height), size, "{name}");
        assert_eq!(
            (info.variant_width, info.variant_height),
            variant_size,
            "{name}"
        );
        assert_eq!(info.variant.content_type, variant_type, "{name}");
        assert_ne!(info.variant.key, original.key);
        assert!(
            info.variant.filename.contains("-thumbnail."),
            "{}",
            info.variant.filename
        );
        assert_eq!(
            objects().await,
            before + 1,
            "{name}: the variant is one new blob"
        );
        let stored = read_to_vec(store.read(&info.variant.key, None).await.unwrap())
            .await
            .unwrap();
        assert_eq!(stored.len() as u64, info.variant.byte_size);
        assert_eq!(hex_sha256(&stored), info.variant.checksum);
        let decoded = image::load_from_memory(&stored).unwrap();
        assert_eq!((decoded.width(), decoded.height()), variant_size, "{name}");
        store.delete(&info.variant.key).await.unwrap();
        store.delete(&original.key).await.unwrap();
    }

    let whole = encoded(picture(900, 900, false), Png);
    let truncated = whole[..whole.len() / 2].to_vec();
    let pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n".to_vec();
    for (bytes, name, content_type) in [
        (truncated, "cut.png", "image/png"),
        (png_bomb(), "bomb.png", "image/png"),
        (pdf, "doc.pdf", "application/pdf"),
        (HTML.to_vec(), "page.png", "text/html"),
        (SVG.to_vec(), "logo.svg", "text/xml"),
    ] {
        let blob = attach(bytes, name).await;
        assert_eq!(blob.content_type, content_type, "{name}");
        let before = objects().await;
        let info = storage::process_image(store, &blob, limits).await.unwrap();
        assert_eq!(info, None, "{name} is kept as a plain file");
        assert_eq!(objects().await, before, "{name} stored no variant");
        store.delete(&blob.key).await.unwrap();
    }

    // An original over the limit is not read back, whatever its type says.
    let blob = attach(encoded(picture(10, 10, false), Png), "tiny.png").await;
    let small = UploadLimits {
        max_bytes: blob.byte_size - 1,
    };
    assert_eq!(
        storage::process_image(store, &blob, small).await.unwrap(),
        None
    );
    store.delete(&blob.key).await.unwrap();
}

#[tokio::test]
async fn image_variants_are_made_on_disk_and_bombs_refused() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let count =
        || -> storage::BoxFuture<'_, usize> { Box::pin(async { files_under(&dir.0).len() }) };
    variants_in(&disk, &count).await;
    assert!(files_under(&dir.0).is_empty(), "{:?}", files_under(&dir.0));

    // A missing original is the backend's error, not a plain file.
    let gone = upload(
        &disk,
        UploadLimits::default(),
        &[],
        "a.png",
        body(&encoded(picture(4, 4, false), image::ImageFormat::Png), 64),
    )
    .await
    .unwrap();
    disk.delete(&gone.key).await.unwrap();
    let e = storage::process_image(&disk, &gone, UploadLimits::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::NotFound);
}

#[tokio::test]
async fn image_variants_are_made_on_a_real_s3_compatible_server_alike() {
    let moto = Moto::start().await;
    let s3 = S3::new(
        &S3Config::from_lookup(moto.bucket("variants").await)
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    let count = || -> storage::BoxFuture<'_, usize> { Box::pin(moto.objects("variants")) };
    variants_in(&s3, &count).await;
    assert_eq!(moto.objects("variants").await, 0);
}

/// Purges `keys` from `store` later, and waits (for ten seconds at most) until none is there.
async fn purged(store: Arc<dyn Storage>, keys: Vec<Key>) {
    storage::purge_later(store.clone(), keys.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    for key in keys {
        loop {
            match store.read(&key, None).await {
                Err(e) if e.kind() == io::ErrorKind::NotFound => break,
                _ => {
                    assert!(Instant::now() < deadline, "{key} was not purged");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
}

/// Three stored blobs and a key never stored, for a purge.
async fn purgeable(store: &dyn Storage) -> Vec<Key> {
    let mut keys = vec![Key::generate()];
    for len in [0, 10, 100_000] {
        let stored = upload(
            store,
            UploadLimits::default(),
            &[],
            "a.png",
            body(&png_of(len), 4096),
        )
        .await
        .unwrap();
        keys.push(stored.key);
    }
    keys
}

#[tokio::test]
async fn purges_delete_blobs_off_the_request_path_on_disk() {
    let dir = TempDir::new();
    let disk: Arc<dyn Storage> = Arc::new(Disk::new(&dir.0));
    let keys = purgeable(disk.as_ref()).await;
    assert_eq!(files_under(&dir.0).len(), 3);
    purged(disk, keys).await;
    assert!(files_under(&dir.0).is_empty());

    // A key that cannot be deleted (a directory stands at its path) is logged, and the task
    // goes on to the next key.
    let disk = Disk::new(&dir.0);
    let stuck = Key::generate();
    std::fs::create_dir_all(disk.path(&stuck)).unwrap();
    let next = upload(&disk, UploadLimits::default(), &[], "b.png", body(PNG, 8))
        .await
        .unwrap();
    let store: Arc<dyn Storage> = Arc::new(disk.clone());
    storage::purge_later(store.clone(), vec![stuck.clone(), next.key.clone()]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.read(&next.key, None).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the key after a failed one was not purged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        disk.path(&stuck).is_dir(),
        "the failed key's path is left as it was"
    );
}

#[test]
fn a_purge_outside_a_runtime_is_logged_and_does_not_panic() {
    let dir = TempDir::new();
    storage::purge_later(Arc::new(Disk::new(&dir.0)), vec![Key::generate()]);
}

#[tokio::test]
async fn purges_delete_blobs_on_a_real_s3_compatible_server() {
    let moto = Moto::start().await;
    let s3: Arc<dyn Storage> = Arc::new(
        S3::new(
            &S3Config::from_lookup(moto.bucket("purged").await)
                .unwrap()
                .unwrap(),
        )
        .unwrap(),
    );
    let keys = purgeable(s3.as_ref()).await;
    assert_eq!(moto.objects("purged").await, 3);
    purged(s3, keys).await;
    assert_eq!(moto.objects("purged").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn images_attached_at_once_are_decoded_in_turn_and_each_gets_its_answer() {
    let dir = TempDir::new();
    let disk = Disk::new(&dir.0);
    let limits = UploadLimits::default();
    let good = encoded(picture(1200, 300, false), image::ImageFormat::Png);
    let mut blobs = Vec::new();
    for (i, bytes) in [
        good.clone(),
        good[..good.len() / 3].to_vec(),
        png_bomb(),
        good.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        let name = format!("{i}.png");
        blobs.push(
            upload(&disk, limits, &[], &name, body(&bytes, 8192))
                .await
                .unwrap(),
        );
    }
    // A missing original fails while the semaphore is held, which must not keep it.
    let missing = storage::StoredBlob {
        key: Key::generate(),
        ..blobs[0].clone()
    };
    blobs.push(missing);
    let all = futures_util::future::join_all(
        blobs
            .iter()
            .map(|blob| storage::process_image(&disk, blob, limits)),
    );
    let results = tokio::time::timeout(Duration::from_secs(60), all)
        .await
        .expect("every decode finishes: the semaphore is released on every path");
    let made: Vec<Option<(u32, u32)>> = results[..4]
        .iter()
        .map(|r| {
            r.as_ref()
                .unwrap()
                .as_ref()
                .map(|i| (i.variant_width, i.variant_height))
        })
        .collect();
    assert_eq!(made, [Some((800, 200)), None, None, Some((800, 200))]);
    assert_eq!(
        results[4].as_ref().unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    // And the semaphore is free again afterwards.
    let again = storage::process_image(&disk, &blobs[0], limits)
        .await
        .unwrap();
    assert!(again.is_some());
}
