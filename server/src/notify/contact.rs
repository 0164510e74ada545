//! How to reach a customer who left the page, parsed once from `notifyMe`:
//! a Web Push subscription whose keys are checked (a P-256 point, a
//! 16-byte secret) or an e-mail address, and the page to bring them back to.
//! Pure: the core keeps these on the chat request.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use switchboard_protocol::message::customer::{NotifyBy, NotifyMe, PushSubscription};
use web_push_native::p256;

/// Longest page URL or push endpoint kept (browsers' endpoints are a few
/// hundred bytes; pages rarely need more).
pub const MAX_URL: usize = 2048;

/// A checked Web Push subscription.
#[derive(Clone, PartialEq, Eq)]
pub struct PushTarget {
    /// `https:` (or `http:` on loopback when the configuration allows it).
    pub endpoint: String,
    /// The browser's public key, uncompressed (65 bytes).
    pub p256dh: Vec<u8>,
    /// The authentication secret (16 bytes).
    pub auth: [u8; 16],
}

impl std::fmt::Debug for PushTarget {
    // The endpoint is a capability (anyone holding it can push): kept out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushTarget").finish_non_exhaustive()
    }
}

/// How the customer is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Channel {
    Push(PushTarget),
    Email(lettre::Address),
}

impl Channel {
    pub fn by(&self) -> NotifyBy {
        match self {
            Channel::Push(_) => NotifyBy::Push,
            Channel::Email(_) => NotifyBy::Email,
        }
    }
}

/// A checked `notifyMe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwayContact {
    pub channel: Channel,
    /// The page the chat began on.
    pub url: String,
}

/// What the server can send with (from its configuration).
#[derive(Clone, Copy, Debug, Default)]
pub struct Capabilities<'a> {
    pub push: bool,
    pub email: bool,
    pub loopback_http: bool,
    /// `[push] services`: the hosts (and their subdomains) a push endpoint may name.
    pub push_services: &'a [String],
}

/// Why a `notifyMe` is refused: each says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContactError {
    #[error("`url` must be the page's http: or https: address, at most {MAX_URL} characters")]
    BadUrl,
    #[error("`push.endpoint` must be the push service's https: URL, at most {MAX_URL} characters")]
    BadEndpoint,
    #[error("`push.endpoint` names a push service this server does not send to (see `[push] services`)")]
    UnknownService,
    #[error("`push.keys.p256dh` must be a P-256 public key (65 bytes, base64url)")]
    BadKey,
    #[error("`push.keys.auth` must be a 16-byte secret (base64url)")]
    BadAuth,
    #[error("`email` is not an e-mail address")]
    BadEmail,
    #[error("give a push subscription (`push`) or an e-mail address (`email`)")]
    Nothing,
    #[error("this server sends no Web Push; give an e-mail address instead")]
    NoPush,
    #[error("this server sends no e-mail; notifications need push")]
    NoEmail,
}

impl ContactError {
    /// Whether the server lacks the channel (rather than the request being wrong).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, ContactError::NoPush | ContactError::NoEmail)
    }
}

/// Checks a `notifyMe`: push when a subscription is given and the server
/// pushes, else e-mail when an address is given and the server mails.
pub fn parse(notify: &NotifyMe, can: Capabilities<'_>) -> Result<AwayContact, ContactError> {
    let url = page_url(&notify.url).ok_or(ContactError::BadUrl)?;
    let channel = match (&notify.push, &notify.email) {
        (Some(push), _) if can.push => Channel::Push(push_target(push, &can)?),
        (_, Some(email)) if can.email => Channel::Email(email.trim().parse().map_err(|_| ContactError::BadEmail)?),
        (Some(_), _) => return Err(ContactError::NoPush),
        (None, Some(_)) => return Err(ContactError::NoEmail),
        (None, None) => return Err(ContactError::Nothing),
    };
    Ok(AwayContact { channel, url })
}

fn page_url(url: &str) -> Option<String> {
    let fine = url.len() <= MAX_URL
        && (url.starts_with("https://") || url.starts_with("http://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    fine.then(|| url.to_owned())
}

fn push_target(push: &PushSubscription, can: &Capabilities<'_>) -> Result<PushTarget, ContactError> {
    let endpoint = &push.endpoint;
    let uri: http::Uri = endpoint.parse().map_err(|_| ContactError::BadEndpoint)?;
    let secure = uri.scheme_str() == Some("https");
    let loopback = uri.scheme_str() == Some("http") && uri.host().is_some_and(is_loopback);
    let Some(host) = uri.host().filter(|_| endpoint.len() <= MAX_URL) else {
        return Err(ContactError::BadEndpoint);
    };
    let local_test = can.loopback_http && loopback;
    if !(secure || local_test) {
        return Err(ContactError::BadEndpoint);
    }
    if !local_test && !is_known_service(host, can.push_services) {
        return Err(ContactError::UnknownService);
    }
    let p256dh = URL_SAFE_NO_PAD.decode(push.keys.p256dh.trim_end_matches('=')).map_err(|_| ContactError::BadKey)?;
    if p256dh.len() != 65 || p256::PublicKey::from_sec1_bytes(&p256dh).is_err() {
        return Err(ContactError::BadKey);
    }
    let auth = URL_SAFE_NO_PAD.decode(push.keys.auth.trim_end_matches('=')).map_err(|_| ContactError::BadAuth)?;
    let auth: [u8; 16] = auth.try_into().map_err(|_| ContactError::BadAuth)?;
    Ok(PushTarget { endpoint: endpoint.clone(), p256dh, auth })
}

/// Whether `host` is one of `services` or a subdomain of one (FCM's
/// endpoints are `fcm.googleapis.com`, Windows' `*.notify.windows.com`).
fn is_known_service(host: &str, services: &[String]) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    services.iter().any(|service| {
        let service = service.trim_end_matches('.').to_ascii_lowercase();
        host == service || host.strip_suffix(&service).is_some_and(|head| head.ends_with('.'))
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<::core::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchboard_protocol::message::customer::PushKeys;

    // RFC 8291, Appendix A: the user agent's public key and secret.
    const UA_PUBLIC: &str = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4";
    const AUTH: &str = "BTBZMqHH6r4Tts7J_aSIgg";
    const SERVICES: &[String] = &[];
    const ALL: Capabilities = Capabilities { push: true, email: true, loopback_http: false, push_services: SERVICES };

    fn services() -> Vec<String> {
        vec!["push.example.net".into(), "notify.windows.com".into()]
    }

    fn notify(endpoint: &str, p256dh: &str, auth: &str) -> NotifyMe {
        NotifyMe {
            url: "https://shop.example.com/cart".into(),
            push: Some(PushSubscription {
                endpoint: endpoint.into(),
                expiration_time: None,
                keys: PushKeys { p256dh: p256dh.into(), auth: auth.into() },
            }),
            email: Some("j.b@example.com".into()),
        }
    }

    #[test]
    fn a_subscription_is_chosen_over_the_address_and_its_keys_are_checked() {
        let services = services();
        let can = Capabilities { push_services: &services, ..ALL };
        let contact = parse(&notify("https://push.example.net/a", UA_PUBLIC, AUTH), can).expect("valid");
        assert_eq!(contact.channel.by(), NotifyBy::Push);
        assert_eq!(contact.url, "https://shop.example.com/cart");
        let bad_key = &UA_PUBLIC[..UA_PUBLIC.len() - 2];
        assert_eq!(parse(&notify("https://push.example.net/a", bad_key, AUTH), can), Err(ContactError::BadKey));
        assert_eq!(parse(&notify("https://push.example.net/a", UA_PUBLIC, "AAAA"), can), Err(ContactError::BadAuth));
    }

    #[test]
    fn endpoints_are_https_and_http_only_on_loopback_when_allowed() {
        let plain = notify("http://127.0.0.1:9/push", UA_PUBLIC, AUTH);
        assert_eq!(parse(&plain, ALL), Err(ContactError::BadEndpoint));
        assert!(parse(&plain, Capabilities { loopback_http: true, ..ALL }).is_ok());
        let inside = notify("http://10.0.0.1/push", UA_PUBLIC, AUTH);
        assert_eq!(parse(&inside, Capabilities { loopback_http: true, ..ALL }), Err(ContactError::BadEndpoint));
        assert_eq!(parse(&notify("ftp://x/y", UA_PUBLIC, AUTH), ALL), Err(ContactError::BadEndpoint));
    }

    #[test]
    fn endpoints_name_a_configured_push_service_or_a_subdomain_of_one() {
        let services = services();
        let can = Capabilities { push_services: &services, ..ALL };
        let at = |endpoint: &str| parse(&notify(endpoint, UA_PUBLIC, AUTH), can).map(|contact| contact.channel.by());
        assert_eq!(at("https://push.example.net/a"), Ok(NotifyBy::Push));
        assert_eq!(at("https://wns2-by3p.notify.windows.com/w/?token=x"), Ok(NotifyBy::Push));
        assert_eq!(at("https://PUSH.example.net./a"), Ok(NotifyBy::Push), "case and a trailing dot");
        for elsewhere in [
            "https://evilpush.example.net/a",
            "https://push.example.net.evil.example/a",
            "https://10.0.0.1/a",
            "https://169.254.169.254/latest/meta-data",
            "https://localhost/a",
        ] {
            assert_eq!(at(elsewhere), Err(ContactError::UnknownService), "{elsewhere}");
        }
        let none = Capabilities { push_services: &[], ..ALL };
        assert_eq!(
            parse(&notify("https://push.example.net/a", UA_PUBLIC, AUTH), none),
            Err(ContactError::UnknownService)
        );
    }

    #[test]
    fn without_push_the_address_is_used_and_without_either_it_is_refused() {
        let mut request = notify("https://push.example.net/a", UA_PUBLIC, AUTH);
        let mail_only = Capabilities { push: false, ..ALL };
        assert_eq!(parse(&request, mail_only).map(|contact| contact.channel.by()), Ok(NotifyBy::Email));
        request.email = None;
        assert_eq!(parse(&request, mail_only), Err(ContactError::NoPush));
        request.push = None;
        assert_eq!(parse(&request, ALL), Err(ContactError::Nothing));
        request.email = Some("not an address\r\nBcc: x@y".into());
        assert_eq!(parse(&request, ALL), Err(ContactError::BadEmail));
        request.email = Some("j.b@example.com".into());
        request.url = "javascript:alert(1)".into();
        assert_eq!(parse(&request, ALL), Err(ContactError::BadUrl));
    }
}
