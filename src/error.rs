//! The generator's error type and the exit code each kind of failure maps to.

use std::fmt;

/// Everything that can stop a `gen` command. Every variant carries a message
/// that names the offending input, so the CLI prints it as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The user's input is wrong: a bad field, name, spec file or place to run in. Exit code 2.
    Input(String),
    /// Writing would overwrite a file the user owns; nothing was written. Exit code 1.
    Conflict(String),
    /// A user-owned file no longer has the anchor an injection needs; nothing was written. Exit code 1.
    NoAnchor(String),
    /// `gen check` found drift. The report has already been printed. Exit code 1.
    CheckFailed(String),
    /// The file system refused a read or a write. Exit code 1.
    Io(String),
    /// A scaffold template failed to render: a defect in a scaffold or an override. Exit code 1.
    Template(String),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) => 2,
            _ => 1,
        }
    }

    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Error::Io(format!("{}: {err}", path.display()))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(m)
            | Error::Conflict(m)
            | Error::NoAnchor(m)
            | Error::CheckFailed(m)
            | Error::Io(m)
            | Error::Template(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
