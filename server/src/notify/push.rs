//! Sends one Web Push message (RFC 8030) to a push service: the payload
//! encrypted for the subscription (RFC 8291, aes128gcm) and signed with the
//! server's VAPID key (RFC 8292), both by `web-push-native` (RustCrypto);
//! the POST over HTTP/1.1 with hyper's client on rustls (Mozilla's roots).

use super::contact::PushTarget;
use super::vapid::VapidKey;
use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{ClientConfig, RootCertStore, pki_types::ServerName};
use web_push_native::{Auth, WebPushBuilder, p256};

/// Why a push was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("the subscription's keys are unusable")]
    Keys,
    #[error("could not build the push message: {0}")]
    Build(String),
    #[error("cannot reach the push service: {0}")]
    Connect(std::io::Error),
    #[error("TLS with the push service failed: {0}")]
    Tls(std::io::Error),
    #[error("HTTP with the push service failed: {0}")]
    Http(#[from] hyper::Error),
    #[error("the push service answered {0}")]
    Refused(StatusCode),
}

/// Sends pushes signed with the server's VAPID key.
pub struct PushSender {
    key: VapidKey,
    contact: String,
    tls: TlsConnector,
}

impl PushSender {
    pub fn new(key: VapidKey, contact: String) -> Result<Self, PushError> {
        let roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|error| PushError::Build(error.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self { key, contact, tls: TlsConnector::from(Arc::new(config)) })
    }

    /// The encrypted, signed request for `target` (kept for `ttl`: past the
    /// customer's time to confirm, the message is worthless).
    pub fn request(&self, target: &PushTarget, payload: &[u8], ttl: Duration) -> Result<Request<Vec<u8>>, PushError> {
        let endpoint: Uri = target.endpoint.parse().map_err(|_| PushError::Keys)?;
        let public = p256::PublicKey::from_sec1_bytes(&target.p256dh).map_err(|_| PushError::Keys)?;
        WebPushBuilder::new(endpoint, public, Auth::clone_from_slice(&target.auth))
            .with_valid_duration(ttl)
            .with_vapid(self.key.pair(), &self.contact)
            .build(payload.to_vec())
            .map_err(|error| PushError::Build(error.to_string()))
    }

    /// Posts the push; `Ok` once the push service accepted it (2xx).
    pub async fn send(&self, target: &PushTarget, payload: &[u8], ttl: Duration) -> Result<(), PushError> {
        let request = self.request(target, payload, ttl)?;
        let uri = request.uri().clone();
        let host = uri.host().ok_or(PushError::Keys)?.trim_start_matches('[').trim_end_matches(']').to_owned();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        // HTTP/1.1 over a connection of its own: origin-form target and a Host header.
        let (mut parts, body) = request.into_parts();
        let authority = uri.authority().map(|authority| authority.as_str().to_owned()).unwrap_or_default();
        parts.uri =
            uri.path_and_query().map(|path| path.as_str()).unwrap_or("/").parse().map_err(|_| PushError::Keys)?;
        parts.headers.insert(header::HOST, authority.parse().map_err(|_| PushError::Keys)?);
        let request = Request::from_parts(parts, Full::new(Bytes::from(body)));
        let tcp = TcpStream::connect((host.as_str(), port)).await.map_err(PushError::Connect)?;
        let status = if https {
            let name = ServerName::try_from(host).map_err(|_| PushError::Keys)?;
            let tls = self.tls.connect(name, tcp).await.map_err(PushError::Tls)?;
            exchange(TokioIo::new(tls), request).await?
        } else {
            exchange(TokioIo::new(tcp), request).await?
        };
        if status.is_success() { Ok(()) } else { Err(PushError::Refused(status)) }
    }
}

/// One request on a fresh HTTP/1.1 connection; the response's status.
async fn exchange<IO>(io: IO, request: Request<Full<Bytes>>) -> Result<StatusCode, PushError>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await?;
    tokio::pin!(connection);
    tokio::select! {
        response = sender.send_request(request) => Ok(response?.status()),
        ended = &mut connection => {
            ended?;
            Err(PushError::Connect(std::io::Error::other("the push service closed the connection without answering")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    /// RFC 8291, Appendix A: the user agent's keys, and the message the
    /// application server sends it.
    const UA_PRIVATE: &str = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94";
    const UA_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const AS_PUBLIC: &str = "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    const MESSAGE: &str = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN";
    const PLAINTEXT: &str = "When I grow up, I want to be a watermelon";

    fn decode(text: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(text).expect("base64url")
    }

    fn ua_secret() -> p256::SecretKey {
        p256::SecretKey::from_slice(&decode(UA_PRIVATE)).expect("the RFC's key")
    }

    #[test]
    fn the_rfc_8291_example_message_decrypts_to_its_plaintext() {
        // The same key agreement and derivation (ECDH, HKDF with "WebPush:
        // info", aes128gcm) that encrypts ours, run on the standard's bytes.
        let message = decode(MESSAGE);
        assert_eq!(&message[..16], decode("DGv6ra1nlYgDCS1FRnbzlw").as_slice(), "the salt");
        assert_eq!(u32::from_be_bytes([message[16], message[17], message[18], message[19]]), 4096, "rs");
        assert_eq!(&message[21..86], decode(AS_PUBLIC).as_slice(), "keyid: the sender's public key");
        let auth = Auth::clone_from_slice(&decode(AUTH));
        let plain = web_push_native::decrypt(message, &ua_secret(), &auth).expect("decrypts");
        assert_eq!(plain, PLAINTEXT.as_bytes());
    }

    #[test]
    fn our_request_to_the_rfc_user_agent_is_aes128gcm_signed_and_decrypts() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let key = VapidKey::load_or_create(&dir.path().join("vapid.key")).expect("a key");
        let public = key.public_base64();
        let sender = PushSender::new(key, "mailto:ops@shop.test".into()).expect("a sender");
        let target = PushTarget {
            endpoint: "https://push.example.net/send/abc".into(),
            p256dh: decode(UA_PUBLIC),
            auth: decode(AUTH).try_into().expect("16 bytes"),
        };
        let request = sender.request(&target, PLAINTEXT.as_bytes(), Duration::from_secs(90)).expect("built");
        assert_eq!(request.headers()["content-encoding"], "aes128gcm");
        assert_eq!(request.headers()["ttl"], "90");
        let authorization = request.headers()["authorization"].to_str().expect("text");
        assert!(authorization.starts_with("vapid t=") && authorization.ends_with(&format!(", k={public}")));
        let body = request.into_body();
        assert_ne!(body.windows(PLAINTEXT.len()).position(|window| window == PLAINTEXT.as_bytes()), Some(0));
        let auth = Auth::clone_from_slice(&decode(AUTH));
        assert_eq!(web_push_native::decrypt(body, &ua_secret(), &auth).expect("decrypts"), PLAINTEXT.as_bytes());
    }
}
