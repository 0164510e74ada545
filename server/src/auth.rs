//! Agent passwords: argon2id hashes, verified off the async runtime.

use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use argon2::{Argon2, PasswordHash, PasswordVerifier};

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// Hashes a password into an argon2id PHC string for the configuration file.
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| HashError::Hash(error.to_string()))
}

/// A hash of a password nobody knows, verified for unknown agent ids so that
/// a wrong id takes as long as a wrong password (no user enumeration by timing).
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c3dpdGNoYm9hcmRkZWNveQ$Y3aVq3m+u0n0CjK8XzBvZcRrS8yWbUaqyjNqk5X2h8Q";

/// Whether `password` matches `phc`. `None` (unknown agent) checks against
/// a decoy so the answer takes the same time, and is always false.
pub fn verify_password(phc: Option<&str>, password: &str) -> bool {
    let known = phc.is_some();
    let Ok(hash) = PasswordHash::new(phc.unwrap_or(DECOY_HASH)) else {
        return false;
    };
    Argon2::default().verify_password(password.as_bytes(), &hash).is_ok() && known
}

/// A token's fingerprint for storage and comparison: BLAKE2b-256 in hex. The
/// token itself (128 random bits) is never stored, so a copied database does
/// not let anyone resume a session or a chat.
pub fn token_hash(token: &str) -> String {
    use blake2::digest::consts::U32;
    use blake2::{Blake2b, Digest};
    let digest = Blake2b::<U32>::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_nothing_else() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(Some(&hash), "correct horse"));
        assert!(!verify_password(Some(&hash), "wrong"));
    }

    #[test]
    fn unknown_agents_never_verify() {
        assert!(!verify_password(None, ""));
        assert!(!verify_password(None, "anything"));
    }

    #[test]
    fn the_decoy_is_a_valid_phc_string() {
        assert!(PasswordHash::new(DECOY_HASH).is_ok());
    }
}
