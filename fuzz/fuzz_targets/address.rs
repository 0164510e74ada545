//! Any text parses to an address or an error (never a panic), and an
//! address prints to text that parses back to the same address.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::address::Address;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(address) = text.parse::<Address>() {
        let printed = address.to_string();
        let again: Address = printed.parse().expect("a printed address parses");
        assert_eq!(again, address, "{text:?} printed as {printed:?}");
    }
});
