//! The calendar against hand-worked instants: weekdays, a lunch break, a
//! weekend, a holiday, both daylight-saving changes in Berlin and a zone on
//! the other side of the Atlantic, and every configuration error.

use super::*;

/// An instant from its UTC text.
fn utc(text: &str) -> Timestamp {
    let instant: jiff::Timestamp = text.parse().unwrap();
    Timestamp::from_millis(u64::try_from(instant.as_millisecond()).unwrap())
}

fn spans(list: &[&str]) -> Vec<String> {
    list.iter().map(|span| (*span).to_owned()).collect()
}

/// Berlin, weekdays 09:00–12:30 and 13:30–17:00, Christmas closed.
fn office() -> OpeningHours {
    let day = spans(&["09:00-12:30", "13:30-17:00"]);
    OpeningHours::parse(&HoursSection {
        zone: "Europe/Berlin".into(),
        monday: day.clone(),
        tuesday: day.clone(),
        wednesday: day.clone(),
        thursday: day.clone(),
        friday: day,
        holidays: spans(&["2026-12-24", "2026-12-25"]),
        ..HoursSection::default()
    })
    .unwrap()
}

fn closed_until(opens_at: &str) -> Openness {
    Openness::Closed { opens_at: Some(utc(opens_at)) }
}

fn open_until(closes_at: &str) -> Openness {
    Openness::Open { closes_at: Some(utc(closes_at)) }
}

#[test]
fn a_weekday_opens_and_closes_at_local_wall_clock_times() {
    let hours = office();
    // Monday 2026-12-07, Berlin is UTC+1 in winter.
    assert_eq!(hours.at(utc("2026-12-07T07:59:59Z")), closed_until("2026-12-07T08:00:00Z"));
    assert_eq!(hours.at(utc("2026-12-07T08:00:00Z")), open_until("2026-12-07T11:30:00Z"));
    // The lunch break, then the afternoon.
    assert_eq!(hours.at(utc("2026-12-07T11:30:00Z")), closed_until("2026-12-07T12:30:00Z"));
    assert_eq!(hours.at(utc("2026-12-07T15:59:00Z")), open_until("2026-12-07T16:00:00Z"));
    // After closing: Tuesday morning.
    assert_eq!(hours.at(utc("2026-12-07T16:00:00Z")), closed_until("2026-12-08T08:00:00Z"));
}

#[test]
fn the_weekend_is_skipped() {
    // Friday 2026-12-11 after 17:00 local: Monday 14th, 09:00.
    assert_eq!(office().at(utc("2026-12-11T16:30:00Z")), closed_until("2026-12-14T08:00:00Z"));
    assert_eq!(office().at(utc("2026-12-12T10:00:00Z")), closed_until("2026-12-14T08:00:00Z"));
}

#[test]
fn a_holiday_is_closed_all_day_whatever_its_weekday() {
    // Thursday 24th and Friday 25th December are holidays; Wednesday
    // evening's next opening is Monday 28th.
    assert_eq!(office().at(utc("2026-12-23T17:00:00Z")), closed_until("2026-12-28T08:00:00Z"));
    assert_eq!(office().at(utc("2026-12-24T10:00:00Z")), closed_until("2026-12-28T08:00:00Z"));
    // The holiday is a local date: 23:30 UTC on the 23rd is already the
    // 24th in Berlin.
    assert!(!office().at(utc("2026-12-23T23:30:00Z")).is_open());
}

#[test]
fn opening_times_follow_daylight_saving_in_the_zone() {
    // Summer time began on Sunday 2026-03-29: 09:00 local is 08:00 UTC
    // the Monday before and 07:00 UTC the Monday after.
    let hours = office();
    assert_eq!(hours.at(utc("2026-03-23T07:30:00Z")), closed_until("2026-03-23T08:00:00Z"));
    assert_eq!(hours.at(utc("2026-03-30T07:30:00Z")), open_until("2026-03-30T10:30:00Z"));
    // Friday before, after closing: the next opening is across the change.
    assert_eq!(hours.at(utc("2026-03-27T17:00:00Z")), closed_until("2026-03-30T07:00:00Z"));
    // Winter time came back on Sunday 2026-10-25.
    assert_eq!(hours.at(utc("2026-10-23T16:00:00Z")), closed_until("2026-10-26T08:00:00Z"));
}

#[test]
fn an_opening_inside_the_spring_forward_gap_is_the_jump_itself() {
    // On 2026-03-29 Berlin's clocks go from 02:00 straight to 03:00
    // (01:00 UTC); 02:30 does not exist that night.
    let hours = OpeningHours::parse(&HoursSection {
        zone: "Europe/Berlin".into(),
        sunday: spans(&["02:30-05:00"]),
        ..HoursSection::default()
    })
    .unwrap();
    assert_eq!(hours.at(utc("2026-03-29T00:30:00Z")), closed_until("2026-03-29T01:00:00Z"));
    // At the jump the local time is 03:00, inside the span.
    assert_eq!(hours.at(utc("2026-03-29T01:00:00Z")), open_until("2026-03-29T03:00:00Z"));
}

#[test]
fn an_opening_in_the_repeated_autumn_hour_is_its_first_showing() {
    // On 2026-10-25 Berlin shows 02:00-03:00 twice (00:00 and 01:00 UTC).
    let hours = OpeningHours::parse(&HoursSection {
        zone: "Europe/Berlin".into(),
        sunday: spans(&["02:30-06:00"]),
        ..HoursSection::default()
    })
    .unwrap();
    assert_eq!(hours.at(utc("2026-10-25T00:00:00Z")), closed_until("2026-10-25T00:30:00Z"));
    assert!(hours.at(utc("2026-10-25T00:45:00Z")).is_open());
}

#[test]
fn another_zone_is_read_in_its_own_time() {
    // New York, Saturdays 10:00-14:00: UTC-5 in December.
    let hours = OpeningHours::parse(&HoursSection {
        zone: "America/New_York".into(),
        saturday: spans(&["10:00-14:00"]),
        ..HoursSection::default()
    })
    .unwrap();
    assert_eq!(hours.at(utc("2026-12-12T14:59:00Z")), closed_until("2026-12-12T15:00:00Z"));
    assert_eq!(hours.at(utc("2026-12-12T15:00:00Z")), open_until("2026-12-12T19:00:00Z"));
    // Friday 23:00 in New York is already Saturday in UTC; still closed.
    assert_eq!(hours.at(utc("2026-12-12T04:00:00Z")), closed_until("2026-12-12T15:00:00Z"));
}

#[test]
fn a_span_to_midnight_closes_at_the_next_midnight() {
    let hours = OpeningHours::parse(&HoursSection {
        zone: "UTC".into(),
        monday: spans(&["20:00-24:00"]),
        tuesday: spans(&["00:00-02:00"]),
        ..HoursSection::default()
    })
    .unwrap();
    assert_eq!(hours.at(utc("2026-12-07T23:00:00Z")), open_until("2026-12-08T00:00:00Z"));
    assert_eq!(hours.at(utc("2026-12-08T00:00:00Z")), open_until("2026-12-08T02:00:00Z"));
}

#[test]
fn hours_with_no_open_day_are_closed_with_no_next_opening() {
    let hours = OpeningHours::parse(&HoursSection { zone: "UTC".into(), ..HoursSection::default() }).unwrap();
    assert_eq!(hours.at(utc("2026-12-07T12:00:00Z")), Openness::Closed { opens_at: None });
    assert!(always_open().is_open());
}

#[test]
fn bad_hours_are_refused_with_the_field_and_what_is_allowed() {
    let with = |zone: &str, monday: &[&str], holidays: &[&str]| {
        OpeningHours::parse(&HoursSection {
            zone: zone.into(),
            monday: spans(monday),
            holidays: spans(holidays),
            ..HoursSection::default()
        })
        .err()
    };
    assert_eq!(with("Mars/Olympus", &[], &[]), Some(HoursError::UnknownZone { zone: "Mars/Olympus".into() }));
    for bad in ["9-17", "09:00", "09:00-25:00", "09:60-10:00", "ab:cd-10:00", "09:00-24:01"] {
        assert_eq!(with("UTC", &[bad], &[]), Some(HoursError::BadSpan { day: "monday", span: bad.into() }), "{bad}");
    }
    assert_eq!(
        with("UTC", &["17:00-09:00"], &[]),
        Some(HoursError::EmptySpan { day: "monday", span: "17:00-09:00".into() })
    );
    assert_eq!(
        with("UTC", &["13:00-17:00", "09:00-13:30"], &[]),
        Some(HoursError::Overlap { day: "monday", first: "09:00-13:30".into(), second: "13:00-17:00".into() })
    );
    assert_eq!(with("UTC", &[], &["25.12.2026"]), Some(HoursError::BadHoliday { date: "25.12.2026".into() }));
    let message = with("UTC", &["9-17"], &[]).unwrap().to_string();
    assert!(message.contains("monday") && message.contains("HH:MM-HH:MM"), "{message}");
}
