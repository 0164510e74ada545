//! The server's VAPID key pair (RFC 8292): made at first start, kept in
//! `[push] key_file` (the 32-byte private scalar, base64url, mode 0600), so
//! subscriptions made against its public key keep working across restarts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use web_push_native::jwt_simple::algorithms::{ECDSAP256PublicKeyLike as _, ES256KeyPair};

/// The VAPID key pair.
pub struct VapidKey {
    pair: ES256KeyPair,
}

#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("cannot read the VAPID key {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the VAPID key {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "the VAPID key {path} is not a base64url P-256 private key; delete it to make a new one (browsers then subscribe again)"
    )]
    Invalid { path: PathBuf },
}

impl VapidKey {
    /// The key kept at `path`, made (and kept) if there is none yet.
    pub fn load_or_create(path: &Path) -> Result<Self, VapidError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_text(text.trim()).ok_or_else(|| VapidError::Invalid { path: path.to_owned() }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Self::create(path),
            Err(source) => Err(VapidError::Read { path: path.to_owned(), source }),
        }
    }

    fn from_text(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        ES256KeyPair::from_bytes(&bytes).ok().map(|pair| Self { pair })
    }

    fn create(path: &Path) -> Result<Self, VapidError> {
        let write = |source| VapidError::Write { path: path.to_owned(), source };
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        let pair = ES256KeyPair::generate();
        let text = URL_SAFE_NO_PAD.encode(pair.to_bytes());
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(path) {
            Ok(mut file) => {
                file.write_all(text.as_bytes()).and_then(|()| file.sync_all()).map_err(write)?;
                tracing::info!(path = %path.display(), "made the server's VAPID key pair (Web Push)");
                Ok(Self { pair })
            }
            // Another process (a cluster's node) made it first: use theirs.
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Self::load_or_create(path),
            Err(source) => Err(write(source)),
        }
    }

    pub fn pair(&self) -> &ES256KeyPair {
        &self.pair
    }

    /// The public key as browsers take it (`applicationServerKey`):
    /// the uncompressed point, base64url.
    pub fn public_base64(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.pair.public_key().public_key().to_bytes_uncompressed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_made_once_and_kept() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("keys/vapid.key");
        let made = VapidKey::load_or_create(&path).expect("made");
        let again = VapidKey::load_or_create(&path).expect("read back");
        assert_eq!(made.public_base64(), again.public_base64());
        assert_eq!(URL_SAFE_NO_PAD.decode(made.public_base64()).expect("base64url").len(), 65);
        std::fs::write(&path, "garbage").expect("writable");
        assert!(matches!(VapidKey::load_or_create(&path), Err(VapidError::Invalid { .. })));
    }
}
