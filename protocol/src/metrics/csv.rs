//! The day's intervals as CSV: one row per interval and queue, with a
//! header, as a spreadsheet opens it (RFC 4180: comma-separated, CRLF line
//! ends, fields with a comma, quote or line break quoted). Times are UTC
//! (`2023-11-14 22:15`), durations whole seconds, shares per cent with one
//! decimal; a figure with nothing to count is an empty cell.

use crate::message::intervals::{IntervalRow, Intervals, Scope};
use crate::time::Timestamp;
use std::fmt::Write;

/// The header row's columns.
pub const CSV_COLUMNS: &[&str] = &[
    "interval_start_utc",
    "queue",
    "offered",
    "answered",
    "answered_in_target",
    "abandoned",
    "short_abandoned",
    "abandoned_after_agent_available",
    "transferred",
    "handled",
    "service_level_percent",
    "abandonment_percent",
    "average_speed_of_answer_s",
    "average_handle_time_s",
    "longest_wait_s",
    "target_s",
    "target_percent",
];

/// The queue rows of `intervals` as CSV text (agent rows are left out).
pub fn queue_csv(intervals: &Intervals) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push_str("\r\n");
    for row in &intervals.rows {
        let Scope::Queue(queue) = &row.scope else { continue };
        write_row(&mut out, row, queue, intervals);
    }
    out
}

fn write_row(out: &mut String, row: &IntervalRow, queue: &str, intervals: &Intervals) {
    let figures = &row.figures;
    let target = intervals.targets.iter().find(|target| target.queue == queue);
    let percent = |value: Option<f64>| value.map(|value| format!("{value:.1}")).unwrap_or_default();
    let seconds = |millis: Option<u64>| millis.map(|millis| ((millis + 500) / 1000).to_string()).unwrap_or_default();
    let cells = [
        utc_minute(row.start),
        field(queue),
        figures.offered.to_string(),
        figures.answered.to_string(),
        figures.answered_in_target.to_string(),
        figures.abandoned.to_string(),
        figures.short_abandoned.to_string(),
        figures.abandoned_after_agent_available.to_string(),
        figures.transferred.to_string(),
        figures.handled.to_string(),
        percent(figures.service_level()),
        percent(figures.abandonment()),
        seconds(figures.average_speed_of_answer_ms()),
        seconds(figures.average_handle_ms()),
        seconds(Some(figures.longest_wait_ms)),
        seconds(target.map(|target| target.within_ms)),
        target.map(|target| target.share.to_string()).unwrap_or_default(),
    ];
    out.push_str(&cells.join(","));
    out.push_str("\r\n");
}

/// A text cell: quoted when it must be, and kept from being read as a
/// formula by a spreadsheet (a leading `=`, `+`, `-` or `@` gets a `'`).
fn field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if text.contains([',', '"', '\r', '\n']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text }
}

/// `YYYY-MM-DD HH:MM` in UTC.
pub fn utc_minute(time: Timestamp) -> String {
    let secs = time.as_secs();
    let (days, of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut text = String::with_capacity(16);
    let _ = write!(text, "{year:04}-{month:02}-{day:02} {:02}:{:02}", of_day / 3600, of_day % 3600 / 60);
    text
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AgentId;
    use crate::message::intervals::{IntervalFigures, QueueTarget};

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_minute(Timestamp(0)), "1970-01-01 00:00");
        assert_eq!(utc_minute(Timestamp(1_699_999_200_000)), "2023-11-14 22:00");
        assert_eq!(utc_minute(Timestamp(951_782_400_000 + 61_000)), "2000-02-29 00:01", "a leap day");
        assert_eq!(utc_minute(Timestamp(1_798_761_540_000)), "2026-12-31 23:59");
    }

    #[test]
    fn one_row_per_interval_and_queue_with_a_header_and_no_agents() {
        let figures = IntervalFigures {
            offered: 4,
            answered: 2,
            answered_in_target: 1,
            abandoned: 2,
            short_abandoned: 1,
            answer_wait_ms: 120_000,
            longest_wait_ms: 90_400,
            handled: 2,
            handle_ms: 200_000,
            ..IntervalFigures::default()
        };
        let start = Timestamp(1_699_999_200_000);
        let intervals = Intervals {
            rows: vec![
                IntervalRow { start, scope: Scope::Queue("Billing".into()), figures },
                IntervalRow {
                    start,
                    scope: Scope::Queue("=Sales, \"EU\"".into()),
                    figures: IntervalFigures::default(),
                },
                IntervalRow { start, scope: Scope::Agent(AgentId::new("alice")), figures },
            ],
            targets: vec![QueueTarget { queue: "Billing".into(), within_ms: 60_000, share: 80 }],
        };
        let csv = queue_csv(&intervals);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert_eq!(lines[1], "2023-11-14 22:00,Billing,4,2,1,2,1,0,0,2,33.3,33.3,60,100,90,60,80");
        assert_eq!(lines[2], "2023-11-14 22:00,\"'=Sales, \"\"EU\"\"\",0,0,0,0,0,0,0,0,,,,,0,,");
        assert_eq!(lines[3], "", "CRLF after the last row, and no agent row");
        assert_eq!(lines.len(), 4);
    }
}
