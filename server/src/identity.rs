//! A customer's identity as the host page vouches for it: the user id,
//! name and e-mail its own login knows, signed with a secret it shares
//! with Switchboard (per chat service), so the desktop can show the
//! customer as verified and list their earlier chats.
//!
//! **Invariant: pure.** No clock, no I/O; the secret comes in as bytes.
//!
//! # The scheme (as Intercom's and Chatwoot's identity verification)
//! The host page's *server* computes
//! `HMAC-SHA256(secret, user_id + "\n" + name + "\n" + email)` and writes
//! it as lowercase hex into the snippet beside the three fields; the
//! secret never reaches a browser. Fields may be empty (an e-mail the shop
//! does not have) but never contain a control character, so that no two
//! different identities sign the same text. The check compares in constant
//! time (`hmac`'s `verify_slice`).
//!
//! A wrong or malformed signature is a refusal with a reason the widget can
//! report; the chat goes on unverified (the customer is not punished for a
//! shop's misconfiguration).

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The longest field accepted: enough for any real user id, name or
/// address; bounds the work an anonymous client can ask for.
pub const MAX_FIELD_CHARS: usize = 256;

/// What the host page claims about its customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityClaim {
    pub user_id: String,
    pub name: String,
    pub email: String,
    /// Lowercase or uppercase hex of the HMAC-SHA256.
    pub signature: String,
}

/// A claim whose signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedIdentity {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

/// Why a claim is not taken; each says what the host page must fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity: this chat service has no identity_secret configured, so identities cannot be verified")]
    NotConfigured,
    #[error("identity: userId is empty; a verified identity needs the host's user id")]
    MissingUserId,
    #[error("identity: {field} is longer than {MAX_FIELD_CHARS} characters")]
    TooLong { field: &'static str },
    #[error("identity: {field} contains a control character (a line break?); sign the plain value")]
    ControlCharacter { field: &'static str },
    #[error("identity: the signature is not 64 hex digits (HMAC-SHA256 as hex)")]
    MalformedSignature,
    #[error(
        "identity: the signature does not match; sign userId, name and email joined by line breaks with the service's identity_secret"
    )]
    BadSignature,
}

impl IdentityError {
    /// The `failure`/event code clients see.
    pub fn code(&self) -> &'static str {
        match self {
            IdentityError::NotConfigured => "identity-not-configured",
            IdentityError::BadSignature => "identity-signature-mismatch",
            _ => "identity-malformed",
        }
    }
}

/// Checks `claim` against the service's `secret` (`None`: not configured).
pub fn verify(claim: &IdentityClaim, secret: Option<&[u8]>) -> Result<VerifiedIdentity, IdentityError> {
    let secret = secret.ok_or(IdentityError::NotConfigured)?;
    if claim.user_id.is_empty() {
        return Err(IdentityError::MissingUserId);
    }
    for (field, value) in [("userId", &claim.user_id), ("name", &claim.name), ("email", &claim.email)] {
        if value.chars().count() > MAX_FIELD_CHARS {
            return Err(IdentityError::TooLong { field });
        }
        if value.chars().any(char::is_control) {
            return Err(IdentityError::ControlCharacter { field });
        }
    }
    let signature = hex::decode(claim.signature.trim()).map_err(|_| IdentityError::MalformedSignature)?;
    if signature.len() != 32 {
        return Err(IdentityError::MalformedSignature);
    }
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).map_err(|_| IdentityError::NotConfigured)?;
    mac.update(signed_text(&claim.user_id, &claim.name, &claim.email).as_bytes());
    mac.verify_slice(&signature).map_err(|_| IdentityError::BadSignature)?;
    Ok(VerifiedIdentity { user_id: claim.user_id.clone(), name: claim.name.clone(), email: claim.email.clone() })
}

/// The text the host signs.
pub fn signed_text(user_id: &str, name: &str, email: &str) -> String {
    format!("{user_id}\n{name}\n{email}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"shop-secret-1";
    /// Computed independently with Python's `hmac`:
    /// `hmac.new(b"shop-secret-1", b"customer-42\nAnn Example\nann@example.com", hashlib.sha256).hexdigest()`.
    const ANN_SIGNATURE: &str = "012a9a6452a6c099fa818a7d283a5a97f9acf62f945b4c9316b9f617ca06fc38";
    /// The same without an e-mail: `b"customer-42\nAnn Example\n"`.
    const ANN_WITHOUT_EMAIL: &str = "9fde3e555e1c17f8727e7a61f55b6c36f0401a1cc198bb4d01879ac75e0c77cf";

    fn ann(signature: &str) -> IdentityClaim {
        IdentityClaim {
            user_id: "customer-42".into(),
            name: "Ann Example".into(),
            email: "ann@example.com".into(),
            signature: signature.into(),
        }
    }

    #[test]
    fn a_claim_signed_with_the_secret_is_verified() {
        let verified = verify(&ann(ANN_SIGNATURE), Some(SECRET)).unwrap();
        assert_eq!(verified.user_id, "customer-42");
        assert_eq!(verified.email, "ann@example.com");
        // Hex in capitals is the same signature.
        assert!(verify(&ann(&ANN_SIGNATURE.to_uppercase()), Some(SECRET)).is_ok());
        let without_email = IdentityClaim { email: String::new(), ..ann(ANN_WITHOUT_EMAIL) };
        assert!(verify(&without_email, Some(SECRET)).is_ok());
    }

    #[test]
    fn a_tampered_field_or_another_secret_fails_the_signature() {
        let tampered = IdentityClaim { email: "mallory@example.com".into(), ..ann(ANN_SIGNATURE) };
        assert_eq!(verify(&tampered, Some(SECRET)), Err(IdentityError::BadSignature));
        // Moving text between fields changes the signed text too.
        let shifted =
            IdentityClaim { name: "Ann".into(), email: "Example\nann@example.com".into(), ..ann(ANN_SIGNATURE) };
        assert_eq!(verify(&shifted, Some(SECRET)), Err(IdentityError::ControlCharacter { field: "email" }));
        assert_eq!(verify(&ann(ANN_SIGNATURE), Some(b"another")), Err(IdentityError::BadSignature));
        let mut flipped = ANN_SIGNATURE.to_owned();
        flipped.replace_range(0..1, "1");
        assert_eq!(verify(&ann(&flipped), Some(SECRET)), Err(IdentityError::BadSignature));
    }

    #[test]
    fn missing_or_malformed_parts_are_refused_with_what_to_fix() {
        assert_eq!(verify(&ann(ANN_SIGNATURE), None), Err(IdentityError::NotConfigured));
        assert_eq!(verify(&ann(""), Some(SECRET)), Err(IdentityError::MalformedSignature));
        assert_eq!(verify(&ann("zz"), Some(SECRET)), Err(IdentityError::MalformedSignature));
        assert_eq!(verify(&ann(&ANN_SIGNATURE[..62]), Some(SECRET)), Err(IdentityError::MalformedSignature));
        let anonymous = IdentityClaim { user_id: String::new(), ..ann(ANN_SIGNATURE) };
        assert_eq!(verify(&anonymous, Some(SECRET)), Err(IdentityError::MissingUserId));
        let long = IdentityClaim { name: "a".repeat(MAX_FIELD_CHARS + 1), ..ann(ANN_SIGNATURE) };
        assert_eq!(verify(&long, Some(SECRET)), Err(IdentityError::TooLong { field: "name" }));
        assert_eq!(IdentityError::BadSignature.code(), "identity-signature-mismatch");
        assert!(IdentityError::BadSignature.to_string().contains("identity_secret"));
    }
}
