//! Any text parses to a skill expression or an error (never a panic, never
//! a stack overflow: nesting is bounded), and evaluating it against any
//! skill levels terminates without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::BTreeMap;
use switchboard_protocol::address::SkillExpr;

fuzz_target!(|data: &[u8]| {
    // The first bytes are skill levels, the rest the expression.
    let (levels, text) = data.split_at(data.len().min(4));
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(expression) = text.parse::<SkillExpr>() else {
        return;
    };
    let skills: BTreeMap<String, u32> = expression
        .comparisons()
        .iter()
        .zip(levels.iter().cycle())
        .map(|(comparison, level)| (comparison.skill.as_str().to_owned(), u32::from(*level)))
        .collect();
    let _ = expression.matches(&skills);
    let _ = expression.describe();
    let printed = expression.to_string();
    let again: SkillExpr = printed.parse().expect("a printed expression parses");
    assert_eq!(again, expression, "{text:?} printed as {printed:?}");
});
