//! `multipart/form-data` bodies as a browser sends a form with a file input: text parts and
//! file parts in order, between one boundary, for the upload tests and the upload benchmark.

/// The boundary every body here uses; no test's bytes contain it.
pub const BOUNDARY: &str = "----turbogenFormBoundary0b5c9e2a41d7";

/// A form body being written.
#[derive(Debug, Default, Clone)]
pub struct Form {
    body: Vec<u8>,
}

impl Form {
    pub fn new() -> Form {
        Form::default()
    }

    /// The `Content-Type` header value that goes with the body.
    pub fn content_type() -> String {
        format!("multipart/form-data; boundary={BOUNDARY}")
    }

    /// Adds a text field.
    pub fn text(mut self, name: &str, value: &str) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
        self
    }

    /// Adds a file, with the filename and the type the browser would claim for it. The filename
    /// goes into the part's header as given, quotes, slashes and control characters included,
    /// as a hostile client could send it.
    pub fn file(mut self, name: &str, filename: &str, content_type: &str, bytes: &[u8]) -> Form {
        self.body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
            )
            .as_bytes(),
        );
        self.body.extend_from_slice(bytes);
        self.body.extend_from_slice(b"\r\n");
        self
    }

    /// Adds a file input left empty, as a browser sends one: a part without a filename's bytes.
    pub fn empty_file(self, name: &str) -> Form {
        self.file(name, "", "application/octet-stream", b"")
    }

    /// The whole body, closed by the final boundary.
    pub fn finish(mut self) -> Vec<u8> {
        self.body
            .extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        self.body
    }
}
