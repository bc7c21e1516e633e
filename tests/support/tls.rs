//! Certificates for the tests that speak TLS to a real server (`rediss://`, Postgres with
//! `sslmode=verify-full`): a test CA and a certificate it signed for 127.0.0.1.

use std::path::Path;
use std::process::Command;

/// A CA, and a certificate it signed for 127.0.0.1, made with the `openssl` command.
pub struct Certificates {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

pub fn issue_certificates(dir: &Path) -> Certificates {
    let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl runs (tests/run installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=turbogen test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
    ]);
    Certificates {
        ca: path("ca.crt"),
        cert: path("server.crt"),
        key: path("server.key"),
    }
}
