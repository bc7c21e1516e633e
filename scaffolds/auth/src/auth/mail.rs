//! Mail the app sends (password-reset links): over SMTP when `SMTP_URL` is set, otherwise
//! written to `storage/mail/`, where development's `GET /dev/mailbox` lists it.

use std::path::{Path, PathBuf};

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Where messages go when no SMTP server is configured.
pub const MAIL_DIR: &str = "storage/mail";

/// One message to one recipient, in plain text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where the app's mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    /// One file per message in a directory, for development and tests.
    Files { directory: PathBuf, from: String },
    /// Production without `SMTP_URL`, which the boot check refuses: nothing can be sent.
    Unavailable,
}

impl Mailer {
    /// An SMTP mailer for `url` (`smtps://user:password@host:465`, or `smtp://…?tls=required`
    /// for STARTTLS), sending as `from`.
    pub fn smtp(url: &str, from: &str) -> Result<Self, String> {
        // rustls needs one process-wide crypto provider; an error means one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|error| format!("expected an smtp:// or smtps:// URL ({error})"))?
            .build();
        let from = from
            .parse()
            .map_err(|error| format!("MAIL_FROM {from:?} is not an address: {error}"))?;
        Ok(Mailer::Smtp { transport, from })
    }

    /// A mailer that writes each message to a file in `directory`.
    pub fn files(directory: impl Into<PathBuf>, from: &str) -> Self {
        Mailer::Files {
            directory: directory.into(),
            from: from.to_owned(),
        }
    }

    pub async fn send(&self, mail: Mail) -> Result<(), String> {
        match self {
            Mailer::Smtp { transport, from } => {
                let to: Mailbox = mail
                    .to
                    .parse()
                    .map_err(|error| format!("cannot send to {:?}: {error}", mail.to))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(mail.subject)
                    .header(ContentType::TEXT_PLAIN)
                    .body(mail.body)
                    .map_err(|error| format!("cannot build the message: {error}"))?;
                transport
                    .send(message)
                    .await
                    .map(|_| ())
                    .map_err(|error| format!("SMTP: {error}"))
            }
            Mailer::Files { directory, from } => {
                let directory = directory.clone();
                let text = format!(
                    "From: {from}\nTo: {}\nSubject: {}\nDate: {}\n\n{}",
                    mail.to,
                    mail.subject,
                    chrono::Utc::now().to_rfc2822(),
                    mail.body
                );
                tokio::task::spawn_blocking(move || write_message(&directory, &text))
                    .await
                    .map_err(|error| format!("cannot write the message: {error}"))?
                    .map_err(|error| format!("cannot write the message: {error}"))
            }
            Mailer::Unavailable => Err(format!(
                "cannot send {:?} to {}: SMTP_URL is not set",
                mail.subject, mail.to
            )),
        }
    }
}

/// Writes a message under a name that sorts by time, in a directory git ignores.
fn write_message(directory: &Path, text: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(directory)?;
    let ignore = directory.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(ignore, "# Mail written in development and tests.\n*\n")?;
    }
    let mut suffix = [0u8; 4];
    getrandom::fill(&mut suffix).map_err(std::io::Error::other)?;
    let suffix: String = suffix.iter().map(|byte| format!("{byte:02x}")).collect();
    let name = format!(
        "{}-{suffix}.eml",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f")
    );
    std::fs::write(directory.join(name), text)
}

/// A message as the mailbox shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub name: String,
    pub text: String,
}

/// The messages in `directory`, the newest first; none when it does not exist.
pub fn stored(directory: &Path) -> std::io::Result<Vec<Stored>> {
    let entries = match std::fs::read_dir(directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let mut messages = Vec::new();
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "eml") {
            messages.push(Stored {
                name: path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                text: std::fs::read_to_string(&path)?,
            });
        }
    }
    messages.sort_by(|a, b| b.name.cmp(&a.name));
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_message_without_smtp_is_a_file_in_the_mailbox() {
        let directory = std::env::temp_dir().join(format!("mail-test-{}", std::process::id()));
        let mailer = Mailer::files(&directory, "App <no-reply@localhost>");
        let mail = Mail {
            to: "ada@example.com".to_owned(),
            subject: "Hello".to_owned(),
            body: "A link: http://localhost/x\n".to_owned(),
        };
        mailer.send(mail).await.unwrap();
        let messages = stored(&directory).unwrap();
        assert_eq!(messages.len(), 1);
        assert!(messages[0].text.contains("To: ada@example.com\n"));
        assert!(messages[0].text.ends_with("A link: http://localhost/x\n"));
        assert!(directory.join(".gitignore").exists());
        std::fs::remove_dir_all(directory).unwrap();
    }

    #[test]
    fn an_smtp_url_is_checked() {
        assert!(Mailer::smtp("smtps://user:secret@mail.example.com", "a@example.com").is_ok());
        assert!(Mailer::smtp("http://mail.example.com", "a@example.com").is_err());
        assert!(Mailer::smtp("smtp://mail.example.com", "not an address").is_err());
    }
}
