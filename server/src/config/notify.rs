//! How a waiting customer who left the page is told an agent is available:
//! `[push]` (Web Push, `notify/push.rs`) and `[email]` (an SMTP relay,
//! `notify/email.rs`). Both are optional; without them `notifyMe` answers
//! `unsupported` for that channel.

use serde::Deserialize;
use std::path::PathBuf;

/// `[push]`: Web Push with the server's own VAPID key pair.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSection {
    /// Where the VAPID private key is kept (made at first start). Every node
    /// of a cluster must name the same key: subscriptions are bound to it.
    #[serde(default = "default_key_file")]
    pub key_file: PathBuf,
    /// Who runs this server, for push services to reach (RFC 8292 `sub`):
    /// `mailto:ops@shop.example` or an `https:` URL.
    pub contact: String,
    /// Accept `http:` push endpoints on loopback addresses (tests and local
    /// push services only; real push services are `https:`).
    #[serde(default)]
    pub allow_loopback_http: bool,
    /// The push services a subscription may name: its endpoint's host must
    /// be one of these or below one. Without the list a customer could make
    /// the server post to any `https:` address, its own network's included.
    /// The default names the services of Chrome/Edge/Android (FCM), Firefox,
    /// Safari and Windows.
    #[serde(default = "default_services")]
    pub services: Vec<String>,
}

fn default_key_file() -> PathBuf {
    PathBuf::from("data/vapid.key")
}

fn default_services() -> Vec<String> {
    ["fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com"]
        .map(str::to_owned)
        .to_vec()
}

/// `[email]`: the fallback through an SMTP relay.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSection {
    /// The relay: `smtp://host:587?tls=required` (STARTTLS), `smtps://host`
    /// (TLS), `smtp://127.0.0.1:25` (plain, a local relay); user and
    /// password in the URL (`smtps://user:password@host`).
    pub smtp_url: String,
    /// The sender: `Shop support <support@shop.example>`.
    pub from: String,
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    fn parse(extra: &str) -> Result<Config, ConfigError> {
        Config::parse(&format!(
            "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n{extra}"
        ))
    }

    fn refused_key(extra: &str) -> String {
        match parse(extra) {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("not refused with a key: {other:?}"),
        }
    }

    #[test]
    fn push_and_email_are_off_by_default_and_checked_when_given() {
        let plain = parse("").expect("valid");
        assert!(plain.push.is_none() && plain.email.is_none());
        let both = parse(
            "[push]\ncontact = \"mailto:ops@shop.example\"\n[email]\nsmtp_url = \"smtps://mail.shop.example\"\nfrom = \"Shop <chat@shop.example>\"\n",
        )
        .expect("valid");
        let push = both.push.expect("[push]");
        assert_eq!(push.key_file, std::path::PathBuf::from("data/vapid.key"));
        assert!(!push.allow_loopback_http);
        assert!(push.services.iter().any(|service| service == "fcm.googleapis.com"));
        assert_eq!(refused_key("[push]\ncontact = \"ops\"\n"), "push.contact");
        assert_eq!(refused_key("[email]\nsmtp_url = \"smtp://h\"\nfrom = \"not an address\"\n"), "email.from");
        assert_eq!(refused_key("[email]\nsmtp_url = \"http://h\"\nfrom = \"a@b.example\"\n"), "email.smtp_url");
    }
}
