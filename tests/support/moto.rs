//! A real S3-compatible server for the attachment tests: `moto_server`, from the Python package
//! `moto[server]` (tests/run installs it), started on a free loopback port and stopped when
//! dropped, with the few plain HTTP calls the tests make of it (moto checks no signature).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::app::free_port;

/// A running `moto_server`.
pub struct Moto {
    child: Option<Child>,
    pub port: u16,
}

impl Moto {
    /// Starts `moto_server` on a free loopback port and waits until it accepts connections.
    pub fn start() -> Moto {
        let port = free_port();
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
        let moto = Moto {
            child: Some(child),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        moto
    }

    /// The endpoint an app reads from `AWS_ENDPOINT_URL_S3`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The variables `fly storage create` sets, pointing at this server and `bucket`.
    pub fn env(&self, bucket: &str) -> Vec<(&'static str, String)> {
        vec![
            ("BUCKET_NAME", bucket.to_owned()),
            ("AWS_ENDPOINT_URL_S3", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
        ]
    }

    /// Sends one plain HTTP/1.1 request and gives the whole response as text.
    pub fn http(&self, method: &str, path: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
    }

    /// Creates the bucket `name`.
    pub fn create_bucket(&self, name: &str) {
        let created = self.http("PUT", &format!("/{name}"));
        assert!(created.starts_with("HTTP/1.1 200"), "{created}");
    }

    /// The keys of every object in `bucket`, sorted; a bucket of the tests holds far fewer than
    /// the 1,000 keys of one listing page.
    pub fn keys(&self, bucket: &str) -> Vec<String> {
        let listing = self.http("GET", &format!("/{bucket}?list-type=2"));
        assert!(listing.starts_with("HTTP/1.1 200"), "{listing}");
        assert!(
            !listing.contains("<IsTruncated>true</IsTruncated>"),
            "{listing}"
        );
        let mut keys: Vec<String> = listing
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect();
        keys.sort();
        keys
    }

    /// How many multipart uploads were started in `bucket` and neither completed nor aborted.
    pub fn unfinished_uploads(&self, bucket: &str) -> usize {
        let listing = self.http("GET", &format!("/{bucket}?uploads"));
        assert!(listing.starts_with("HTTP/1.1 200"), "{listing}");
        listing.matches("<UploadId>").count()
    }

    /// Stops the server, as an outage would; the app's next request to it is refused.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}
