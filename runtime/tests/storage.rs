//! Blob storage: uploads to the disk backend and to a real S3-compatible server (`moto_server`,
//! from the Python package `moto[server]`, started on a free loopback port), and the attacks
//! each must refuse while storing nothing: a disguised file, an oversized or truncated upload,
//! a key or filename that would leave the store.

use std::convert::Infallible;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
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
