//! A chat service's opening hours: is it open at `now`, and if not, when
//! does it open again?
//!
//! **Invariant: pure.** No clock, no I/O (the time zone database is read
//! once, when the hours are parsed): `now` comes in as an argument, and the
//! same hours and `now` always give the same answer.
//!
//! # Rules
//! - Hours are wall-clock times in the service's IANA time zone (`zone`),
//!   per weekday, as `"HH:MM-HH:MM"` spans (`"24:00"` ends a day; several
//!   spans a day for a lunch break). A weekday with no spans is closed.
//! - A holiday (a local date) is closed all day, whatever its weekday says.
//! - Daylight-saving changes follow the zone: a service open 09:00–17:00 is
//!   open from 09:00 local time on both sides of the change, so its UTC
//!   opening moves by an hour. An opening time that does not exist on a
//!   spring-forward day (02:30 in Berlin) opens when the clock jumps (at
//!   03:00 local): the first instant whose local time is past it.
//! - A service without hours is always open (the default: a contact center
//!   that configures nothing keeps today's behavior).
//!
//! # Driving it
//! ```
//! use switchboard_server::config::HoursSection;
//! use switchboard_server::hours::{OpeningHours, Openness};
//! use switchboard_protocol::time::Timestamp;
//!
//! let section = HoursSection {
//!     zone: "Europe/Berlin".into(),
//!     monday: vec!["09:00-17:00".into()],
//!     ..HoursSection::default()
//! };
//! let hours = OpeningHours::parse(&section).unwrap();
//! // Monday 2026-12-07 07:00 UTC is 08:00 in Berlin: closed, opens at 09:00 (08:00 UTC).
//! let now = Timestamp::from_millis(1_796_626_800_000);
//! assert_eq!(hours.at(now), Openness::Closed { opens_at: Some(Timestamp::from_millis(1_796_630_400_000)) });
//! ```

#[cfg(test)]
mod tests;

use crate::config::HoursSection;
use jiff::civil::Date;
use jiff::tz::{AmbiguousOffset, TimeZone};
use std::collections::BTreeSet;
use switchboard_protocol::time::Timestamp;

/// Minutes in a day: the end of the last span a day can have (`"24:00"`).
const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead the next opening is looked for: a year and a day, so a
/// service closed for a whole season still gets an answer, and one that is
/// never open (every weekday empty) gets `None` in bounded time.
const LOOKAHEAD_DAYS: u32 = 367;

/// Why the configured hours cannot be used; each message names the field
/// and what is allowed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoursError {
    #[error("hours: zone {zone:?} is not a time zone this machine knows (use an IANA name such as \"Europe/Berlin\")")]
    UnknownZone { zone: String },
    #[error("hours: {day} span {span:?} is not HH:MM-HH:MM (e.g. \"09:00-17:30\"; \"24:00\" ends the day)")]
    BadSpan { day: &'static str, span: String },
    #[error("hours: {day} span {span:?} closes before it opens")]
    EmptySpan { day: &'static str, span: String },
    #[error("hours: {day} spans {first:?} and {second:?} overlap")]
    Overlap { day: &'static str, first: String, second: String },
    #[error("hours: holiday {date:?} is not a date as YYYY-MM-DD")]
    BadHoliday { date: String },
}

/// Whether a service is open at an instant, and until or from when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Openness {
    /// Open now; `closes_at` is the end of the current span (`None` when the
    /// service has no hours, that is, never closes).
    Open { closes_at: Option<Timestamp> },
    /// Closed now; `opens_at` is the next opening within a year, if any.
    Closed { opens_at: Option<Timestamp> },
}

impl Openness {
    pub fn is_open(self) -> bool {
        matches!(self, Openness::Open { .. })
    }
}

/// A span of a day in local minutes: `opens < closes <= DAY_MINUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    opens: u16,
    closes: u16,
}

/// Parsed opening hours (see the module doc). Built only by [`parse`](Self::parse).
#[derive(Debug, Clone)]
pub struct OpeningHours {
    zone: TimeZone,
    /// Monday first, as `Weekday::to_monday_zero_offset`; spans sorted.
    week: [Vec<Span>; 7],
    holidays: BTreeSet<Date>,
}

impl OpeningHours {
    /// Checks and parses a configuration section. The time zone is looked up
    /// in the system's database (`/usr/share/zoneinfo`, Debian's `tzdata`).
    pub fn parse(section: &HoursSection) -> Result<Self, HoursError> {
        let zone = TimeZone::get(&section.zone).map_err(|_| HoursError::UnknownZone { zone: section.zone.clone() })?;
        let days: [(&'static str, &Vec<String>); 7] = [
            ("monday", &section.monday),
            ("tuesday", &section.tuesday),
            ("wednesday", &section.wednesday),
            ("thursday", &section.thursday),
            ("friday", &section.friday),
            ("saturday", &section.saturday),
            ("sunday", &section.sunday),
        ];
        let mut week: [Vec<Span>; 7] = Default::default();
        for (index, (day, spans)) in days.into_iter().enumerate() {
            week[index] = parse_day(day, spans)?;
        }
        let holidays = section
            .holidays
            .iter()
            .map(|text| text.parse::<Date>().map_err(|_| HoursError::BadHoliday { date: text.clone() }))
            .collect::<Result<_, _>>()?;
        Ok(Self { zone, week, holidays })
    }

    /// Open or closed at `now`, with the next change.
    pub fn at(&self, now: Timestamp) -> Openness {
        let instant = to_jiff(now);
        let local = instant.to_zoned_datetime(self.zone.clone());
        let date = local.date();
        let minute = u16::from(local.hour().unsigned_abs()) * 60 + u16::from(local.minute().unsigned_abs());
        if let Some(span) = self.spans_on(date).iter().find(|span| span.opens <= minute && minute < span.closes) {
            return Openness::Open { closes_at: self.instant(date, span.closes) };
        }
        Openness::Closed { opens_at: self.next_opening(date, minute) }
    }

    fn spans_on(&self, date: Date) -> &[Span] {
        if self.holidays.contains(&date) {
            return &[];
        }
        &self.week[usize::from(date.weekday().to_monday_zero_offset().unsigned_abs())]
    }

    /// The first span opening after `minute` on `date`, else on a later day.
    fn next_opening(&self, date: Date, minute: u16) -> Option<Timestamp> {
        if let Some(span) = self.spans_on(date).iter().find(|span| span.opens > minute) {
            return self.instant(date, span.opens);
        }
        let mut day = date;
        for _ in 0..LOOKAHEAD_DAYS {
            day = day.tomorrow().ok()?;
            if let Some(span) = self.spans_on(day).first() {
                return self.instant(day, span.opens);
            }
        }
        None
    }

    /// The instant of local `minute` on `date` (`DAY_MINUTES`: the next
    /// midnight). A time in a spring-forward gap is the jump itself: the
    /// first instant whose local time is past it, as [`at`](Self::at) sees it.
    fn instant(&self, date: Date, minute: u16) -> Option<Timestamp> {
        let (date, minute) = if minute >= DAY_MINUTES { (date.tomorrow().ok()?, 0) } else { (date, minute) };
        let hour = i8::try_from(minute / 60).ok()?;
        let minute = i8::try_from(minute % 60).ok()?;
        let civil = date.at(hour, minute, 0, 0);
        let ambiguous = self.zone.to_ambiguous_timestamp(civil);
        let instant = match ambiguous.offset() {
            // Read with the offset after the jump, the time lies before it:
            // the next transition from there is the jump.
            AmbiguousOffset::Gap { after, .. } => {
                let before_jump = civil.to_zoned_datetime(TimeZone::fixed(after)).ok()?.timestamp();
                self.zone.following(before_jump).next()?.timestamp()
            }
            // A repeated hour (autumn): the first time the clock shows it.
            AmbiguousOffset::Fold { .. } | AmbiguousOffset::Unambiguous { .. } => ambiguous.earlier().ok()?,
        };
        Some(Timestamp::from_millis(u64::try_from(instant.as_millisecond()).ok()?))
    }
}

impl OpeningHours {
    /// `at` as the customer should read it: the weekday and time in the
    /// service's zone, with the zone named ("on Monday at 09:00
    /// (Europe/Berlin)").
    pub fn describe(&self, at: Timestamp) -> String {
        let local = to_jiff(at).to_zoned_datetime(self.zone.clone());
        let zone = self.zone.iana_name().unwrap_or("UTC");
        format!("on {} at {:02}:{:02} ({zone})", weekday_name(local.weekday()), local.hour(), local.minute())
    }
}

fn weekday_name(day: jiff::civil::Weekday) -> &'static str {
    use jiff::civil::Weekday::*;
    match day {
        Monday => "Monday",
        Tuesday => "Tuesday",
        Wednesday => "Wednesday",
        Thursday => "Thursday",
        Friday => "Friday",
        Saturday => "Saturday",
        Sunday => "Sunday",
    }
}

/// Always open: a service without `hours`.
pub fn always_open() -> Openness {
    Openness::Open { closes_at: None }
}

fn to_jiff(now: Timestamp) -> jiff::Timestamp {
    let millis = i64::try_from(now.as_millis()).unwrap_or(i64::MAX);
    jiff::Timestamp::from_millisecond(millis).unwrap_or(jiff::Timestamp::MAX)
}

fn parse_day(day: &'static str, spans: &[String]) -> Result<Vec<Span>, HoursError> {
    let mut parsed = Vec::with_capacity(spans.len());
    for text in spans {
        let bad = || HoursError::BadSpan { day, span: text.clone() };
        let (opens, closes) = text.split_once('-').ok_or_else(bad)?;
        let span = Span { opens: parse_minute(opens).ok_or_else(bad)?, closes: parse_minute(closes).ok_or_else(bad)? };
        if span.opens >= span.closes {
            return Err(HoursError::EmptySpan { day, span: text.clone() });
        }
        parsed.push((span, text));
    }
    parsed.sort_by_key(|(span, _)| span.opens);
    for pair in parsed.windows(2) {
        if pair[1].0.opens < pair[0].0.closes {
            return Err(HoursError::Overlap { day, first: pair[0].1.clone(), second: pair[1].1.clone() });
        }
    }
    Ok(parsed.into_iter().map(|(span, _)| span).collect())
}

/// `"HH:MM"` (00:00 to 24:00) as minutes since midnight.
fn parse_minute(text: &str) -> Option<u16> {
    let (hours, minutes) = text.trim().split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let hours: u16 = hours.parse().ok()?;
    let minutes: u16 = minutes.parse().ok()?;
    let total = hours.checked_mul(60)?.checked_add(minutes)?;
    (minutes < 60 && total <= DAY_MINUTES).then_some(total)
}
