//! Any text parses to a target path or an error (never a panic), and a
//! target prints to text that parses back to the same target.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchboard_protocol::target::TargetPath;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(target) = text.parse::<TargetPath>() {
        let printed = target.to_string();
        let again: TargetPath = printed.parse().expect("a printed target parses");
        assert_eq!(again, target, "{text:?} printed as {printed:?}");
    }
});
