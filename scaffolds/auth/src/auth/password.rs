//! Passwords: argon2id hashes, their verification, the length rule, and the dummy hash that makes
//! an unknown email cost what a wrong password costs.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Environment;

/// The shortest password accepted, as `mix phx.gen.auth` asks; NIST SP 800-63B asks for at
/// least 8 and no other composition rule, which this follows too.
pub const MIN_LENGTH: usize = 12;

/// The longest password accepted, in characters: ample for a passphrase, small enough that no
/// request makes hashing read megabytes.
pub const MAX_LENGTH: usize = 256;

/// Hashes and checks passwords with one set of argon2id parameters.
#[derive(Clone)]
pub struct Hasher {
    argon2: Argon2<'static>,
    /// A hash of a password nobody knows, checked when no account matches so that the answer
    /// takes as long as a wrong password.
    dummy: String,
}

impl Hasher {
    /// The crate's recommended parameters (OWASP's: 19 MiB, 2 passes, 1 lane) everywhere but
    /// the test environment, whose suites hash many passwords and get the smallest cost argon2
    /// allows. A hash records its parameters, so one made under either verifies under both.
    pub fn new(environment: Environment) -> Self {
        let params = match environment {
            Environment::Test => Params::new(Params::MIN_M_COST, Params::MIN_T_COST, 1, None)
                .expect("argon2's minimum parameters are valid"),
            Environment::Development | Environment::Production => Params::default(),
        };
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut hasher = Hasher {
            argon2,
            dummy: String::new(),
        };
        hasher.dummy = hasher
            .hash("a password nobody has, hashed to spend the same time")
            .expect("argon2 hashes with a fresh salt");
        hasher
    }

    /// The PHC string of `password` with a fresh random salt.
    pub fn hash(&self, password: &str) -> Result<String, argon2::password_hash::Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|_| argon2::password_hash::Error::Crypto)?;
        let salt = SaltString::encode_b64(&salt)?;
        Ok(self
            .argon2
            .hash_password(password.as_bytes(), &salt)?
            .to_string())
    }

    /// Whether `password` matches `hash`; argon2 compares the digests in constant time. With no
    /// hash (no such account) the dummy is checked instead, so both answers take as long.
    pub fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let matches = |stored: &str| {
            PasswordHash::new(stored).is_ok_and(|parsed| {
                self.argon2
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
        };
        match hash {
            Some(stored) => matches(stored),
            None => {
                matches(&self.dummy);
                false
            }
        }
    }
}

/// What is wrong with a new password, as the form shows it after the field's label.
pub fn problem(password: &str) -> Option<String> {
    let length = password.chars().count();
    if length < MIN_LENGTH {
        Some(format!("is too short (minimum is {MIN_LENGTH} characters)"))
    } else if length > MAX_LENGTH {
        Some(format!("is too long (maximum is {MAX_LENGTH} characters)"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hasher = Hasher::new(Environment::Test);
        let hash = hasher.hash("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(hasher.verify("correct horse battery", Some(&hash)));
        assert!(!hasher.verify("correct horse batterY", Some(&hash)));
        assert!(!hasher.verify("correct horse battery", None));
        assert!(!hasher.verify("anything", Some("not a hash")));
        // The same password hashes differently each time: the salt is fresh.
        assert_ne!(hash, hasher.hash("correct horse battery").unwrap());
    }

    #[test]
    fn production_uses_the_recommended_parameters() {
        let hasher = Hasher::new(Environment::Production);
        let hash = hasher.hash("correct horse battery").unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        // A hash made with the test parameters still verifies.
        let cheap = Hasher::new(Environment::Test)
            .hash("correct horse battery")
            .unwrap();
        assert!(hasher.verify("correct horse battery", Some(&cheap)));
    }

    #[test]
    fn passwords_have_a_length_range() {
        assert!(problem("short").is_some());
        assert!(problem(&"x".repeat(MIN_LENGTH - 1)).is_some());
        assert_eq!(problem(&"x".repeat(MIN_LENGTH)), None);
        assert_eq!(problem(&"é".repeat(MAX_LENGTH)), None);
        assert!(problem(&"x".repeat(MAX_LENGTH + 1)).is_some());
    }
}
