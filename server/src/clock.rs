//! The server's one clock read. Everything else takes `now` as an argument.

use std::time::{SystemTime, UNIX_EPOCH};
use switchboard_protocol::time::Timestamp;

pub fn now() -> Timestamp {
    let millis = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.as_millis()).unwrap_or(0);
    Timestamp::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// A random id with a readable prefix: 128 bits from the OS, so it can serve
/// as a bearer secret (session ids, chat tokens).
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    // getrandom only fails when the OS has no entropy source at all; a
    // server without one must not hand out guessable ids.
    getrandom::fill(&mut bytes).expect("the operating system provides no random numbers");
    let mut id = String::with_capacity(prefix.len() + 32);
    id.push_str(prefix);
    for byte in bytes {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}
