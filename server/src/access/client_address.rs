//! The client's address: the TCP peer, or behind a configured trusted
//! reverse proxy, the address the proxy names in `X-Forwarded-For`.
//!
//! **Invariant: pure**, and nobody can claim an address by sending a
//! header: `X-Forwarded-For` is read only when the peer is a trusted proxy,
//! and then from the right (the hop the proxy appended) past every trusted
//! proxy — the entries further left were written by the client and prove
//! nothing.

use axum::http::HeaderMap;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// A trusted proxy: one address (`10.0.0.5`) or a network (`10.0.0.0/8`,
/// `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy {
    network: IpAddr,
    prefix: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustedProxyError {
    #[error("`{0}` is not an IP address (such as 10.0.0.5 or ::1)")]
    Address(String),
    #[error("`{0}` is not a prefix length: use 0 to 32 for IPv4 and 0 to 128 for IPv6")]
    Prefix(String),
}

impl FromStr for TrustedProxy {
    type Err = TrustedProxyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr = address.trim().parse().map_err(|_| TrustedProxyError::Address(address.to_owned()))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(prefix) => prefix
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|prefix| *prefix <= bits)
                .ok_or_else(|| TrustedProxyError::Prefix(prefix.to_owned()))?,
        };
        Ok(Self { network, prefix })
    }
}

/// Read from the configuration as text, so a wrong entry is reported
/// where it stands in the file.
impl<'de> serde::Deserialize<'de> for TrustedProxy {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl TrustedProxy {
    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.network, canonical(address)) {
            (IpAddr::V4(network), IpAddr::V4(address)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(network) & mask == u32::from(address) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(address)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(network) & mask == u128::from(address) & mask
            }
            _ => false,
        }
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:192.0.2.1`) is
/// the IPv4 address: one client, one key.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address for a request from `peer` with `headers`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |address: IpAddr| trusted.iter().any(|proxy| proxy.contains(address));
    if !is_trusted(peer) {
        return peer;
    }
    // Every X-Forwarded-For header in order, as one list; walk it from the
    // right past the trusted proxies.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Some(address) = parse_hop(hop) else {
            // A garbled hop: what is left of it cannot be trusted either.
            break;
        };
        client = address;
        if !is_trusted(address) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, maybe with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(address) = hop.parse::<IpAddr>() {
        return Some(canonical(address));
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn forwarded(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append("x-forwarded-for", value.parse().unwrap());
        }
        headers
    }

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|text| text.parse().unwrap()).collect()
    }

    #[test]
    fn proxies_parse_as_addresses_or_networks_and_say_what_is_wrong() {
        assert_eq!("10.0.0.0/8".parse::<TrustedProxy>().unwrap().to_string(), "10.0.0.0/8");
        assert_eq!("::1".parse::<TrustedProxy>().unwrap().to_string(), "::1/128");
        assert_eq!("10.0.0.0/33".parse::<TrustedProxy>(), Err(TrustedProxyError::Prefix("33".into())));
        assert_eq!("proxy.local".parse::<TrustedProxy>(), Err(TrustedProxyError::Address("proxy.local".into())));
        let network: TrustedProxy = "10.1.0.0/16".parse().unwrap();
        assert!(network.contains(ip("10.1.200.3")));
        assert!(!network.contains(ip("10.2.0.1")));
        assert!(network.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped addresses are IPv4");
        assert!("0.0.0.0/0".parse::<TrustedProxy>().unwrap().contains(ip("203.0.113.9")));
    }

    #[test]
    fn the_header_is_ignored_unless_the_peer_is_a_trusted_proxy() {
        let headers = forwarded(&["203.0.113.9"]);
        assert_eq!(client_address(ip("198.51.100.1"), &headers, &[]), ip("198.51.100.1"));
        assert_eq!(client_address(ip("198.51.100.1"), &headers, &proxies(&["10.0.0.1"])), ip("198.51.100.1"));
        assert_eq!(client_address(ip("10.0.0.1"), &headers, &proxies(&["10.0.0.1"])), ip("203.0.113.9"));
    }

    #[test]
    fn the_client_is_the_first_untrusted_hop_from_the_right() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client wrote the first entry itself; the proxies appended the rest.
        let headers = forwarded(&["1.2.3.4, 203.0.113.9", "10.0.0.7"]);
        assert_eq!(client_address(ip("10.0.0.1"), &headers, &trusted), ip("203.0.113.9"));
        assert_eq!(
            client_address(ip("10.0.0.1"), &forwarded(&["[2001:db8::5]:4711"]), &trusted),
            ip("2001:db8::5"),
            "ports are dropped"
        );
        assert_eq!(client_address(ip("10.0.0.1"), &forwarded(&["garbage"]), &trusted), ip("10.0.0.1"));
        assert_eq!(client_address(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
    }
}
