//! The figures and charts' view model: today's 15-minute intervals as the
//! server counts them (`getIntervals`, the definitions are in
//! `docs/metrics.md`), the waiting customers and longest wait sampled from
//! the live snapshots over the last hour, thresholds that turn a figure
//! amber or red, and the words each chart says about itself. No clock, no
//! DOM: tested natively.

use super::board::{QueueRow, clock_time, format_duration};
use std::collections::VecDeque;
use std::time::Duration;
use switchboard_protocol::message::intervals::{IntervalFigures, IntervalRow, Intervals, QueueTarget, Scope};
use switchboard_protocol::time::Timestamp;

/// How far back the live chart looks.
pub const LIVE_SPAN_MS: u64 = 60 * 60 * 1000;

/// At most two samples a second (snapshots come at most once a second) for an hour.
const MAX_SAMPLES: usize = 7200;

/// The queues as `queues` shows them at `now`, summed.
pub fn sample_of(queues: &[QueueRow], now: Timestamp) -> Sample {
    let waiting = queues.iter().map(|queue| queue.waiting).sum();
    let longest = queues.iter().filter_map(|queue| queue.longest_wait).max().unwrap_or_default();
    Sample { time: now, waiting, longest_wait_ms: u64::try_from(longest.as_millis()).unwrap_or(u64::MAX) }
}

/// One look at the queues.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    pub time: Timestamp,
    pub waiting: u32,
    pub longest_wait_ms: u64,
}

/// How a figure stands against its queue's objective, said in words too
/// (colour is never the only sign).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Ok,
    Amber,
    Red,
}

impl Level {
    pub fn key(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Amber => "amber",
            Level::Red => "red",
        }
    }

    /// The word shown beside the figure.
    pub fn word(self) -> &'static str {
        match self {
            Level::Ok => "on target",
            Level::Amber => "below target",
            Level::Red => "far below target",
        }
    }

    /// Service level against the objective: amber under `share`, red more
    /// than 10 points under it.
    pub fn of_service_level(percent: Option<f64>, share: u8) -> Option<Level> {
        let percent = percent?;
        let share = f64::from(share);
        Some(if percent >= share {
            Level::Ok
        } else if percent >= share - 10.0 {
            Level::Amber
        } else {
            Level::Red
        })
    }

    /// A wait against the target time: amber past it, red past twice it.
    pub fn of_wait(wait_ms: u64, within_ms: u64) -> Level {
        if wait_ms <= within_ms {
            Level::Ok
        } else if wait_ms <= within_ms.saturating_mul(2) {
            Level::Amber
        } else {
            Level::Red
        }
    }
}

/// One queue's (or the center's) figures for the board.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueFigures {
    pub name: String,
    pub today: IntervalFigures,
    /// The last 15 minutes, rolling (the snapshot's `recent`).
    pub last_15_minutes: IntervalFigures,
    pub target: Option<QueueTarget>,
}

/// One agent's day.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentFigures {
    pub id: String,
    pub today: IntervalFigures,
}

/// One interval of the whole center.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CenterInterval {
    pub start: Timestamp,
    pub figures: IntervalFigures,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Insight {
    /// Today's rows, by start; `None` until the first answer.
    rows: Option<Vec<IntervalRow>>,
    targets: Vec<QueueTarget>,
    samples: VecDeque<Sample>,
}

impl Insight {
    /// The answer to `getIntervals` for today.
    pub fn apply_intervals(&mut self, intervals: Intervals) {
        self.rows = Some(intervals.rows);
        self.targets = intervals.targets;
    }

    pub fn has_intervals(&self) -> bool {
        self.rows.is_some()
    }

    /// Records the queues as the board shows them at `now`; keeps the last
    /// hour. The session samples the old state just before a snapshot
    /// replaces it (the longest wait grows between snapshots) and the new one
    /// after.
    pub fn sample(&mut self, queues: &[QueueRow], now: Timestamp) {
        self.samples.push_back(sample_of(queues, now));
        let oldest = now.as_millis().saturating_sub(LIVE_SPAN_MS);
        while self.samples.front().is_some_and(|sample| sample.time.as_millis() < oldest)
            || self.samples.len() > MAX_SAMPLES
        {
            self.samples.pop_front();
        }
    }

    pub fn samples(&self) -> &VecDeque<Sample> {
        &self.samples
    }

    pub fn target(&self, queue: &str) -> Option<&QueueTarget> {
        self.targets.iter().find(|target| target.queue == queue)
    }

    fn rows(&self) -> &[IntervalRow] {
        self.rows.as_deref().unwrap_or_default()
    }

    /// Per queue (configuration order), today so far and the last 15
    /// minutes (`recent`: the snapshot's rolling window).
    pub fn queues(&self, recent: &[IntervalRow]) -> Vec<QueueFigures> {
        self.targets
            .iter()
            .map(|target| {
                let scope = Scope::Queue(target.queue.clone());
                let mut figures = QueueFigures {
                    name: target.queue.clone(),
                    today: IntervalFigures::default(),
                    last_15_minutes: IntervalFigures::default(),
                    target: Some(target.clone()),
                };
                for row in self.rows().iter().filter(|row| row.scope == scope) {
                    figures.today.add(&row.figures);
                }
                for row in recent.iter().filter(|row| row.scope == scope) {
                    figures.last_15_minutes.add(&row.figures);
                }
                figures
            })
            .collect()
    }

    /// The whole center: the sum of the queues.
    pub fn center(&self, recent: &[IntervalRow]) -> QueueFigures {
        let mut center = QueueFigures {
            name: "Whole center".into(),
            today: IntervalFigures::default(),
            last_15_minutes: IntervalFigures::default(),
            target: None,
        };
        for queue in self.queues(recent) {
            center.today.add(&queue.today);
            center.last_15_minutes.add(&queue.last_15_minutes);
        }
        center
    }

    /// Every agent with a row today, by id.
    pub fn agents(&self) -> Vec<AgentFigures> {
        let mut agents: Vec<AgentFigures> = Vec::new();
        for row in self.rows() {
            let Scope::Agent(agent) = &row.scope else { continue };
            // Kept in id order as they come (no sort: it links sorting code into the page).
            let at = agents.partition_point(|known| known.id.as_str() < agent.as_str());
            match agents.get_mut(at).filter(|known| known.id == agent.as_str()) {
                Some(known) => known.today.add(&row.figures),
                None => agents.insert(at, AgentFigures { id: agent.to_string(), today: row.figures }),
            }
        }
        agents
    }

    /// The center per interval, by start.
    pub fn center_intervals(&self) -> Vec<CenterInterval> {
        let mut intervals: Vec<CenterInterval> = Vec::new();
        for row in self.rows().iter().filter(|row| matches!(row.scope, Scope::Queue(_))) {
            match intervals.last_mut() {
                Some(last) if last.start == row.start => last.figures.add(&row.figures),
                _ => intervals.push(CenterInterval { start: row.start, figures: row.figures }),
            }
        }
        intervals
    }

    /// The lowest objective share of the queues (the center's line on the chart).
    pub fn center_share(&self) -> Option<u8> {
        self.targets.iter().map(|target| target.share).min()
    }
}

/// A share for people: "83%", or "—" when there is nothing to count.
pub fn percent_text(value: Option<f64>) -> String {
    // Rounded to a whole number before formatting: float formatting would
    // add kilobytes of `core::fmt` to the page.
    value.map(|value| format!("{}%", value.round() as u64)).unwrap_or_else(|| "—".into())
}

/// A duration for people, or "—".
pub fn millis_text(value: Option<u64>) -> String {
    value.map(|millis| format_duration(Duration::from_millis(millis))).unwrap_or_else(|| "—".into())
}

fn hh_mm(time: Timestamp, offset_minutes: i64) -> String {
    clock_time(time, offset_minutes)[..5].to_owned()
}

/// What the live chart says: waiting customers and the longest wait, now
/// and at their peak in the last hour.
pub fn waiting_summary(samples: &VecDeque<Sample>, offset_minutes: i64) -> String {
    let Some(last) = samples.back() else {
        return "No samples yet: the chart starts when the wallboard opens.".into();
    };
    let peak_waiting = samples.iter().max_by_key(|sample| (sample.waiting, sample.time)).unwrap_or(last);
    let peak_wait = samples.iter().max_by_key(|sample| (sample.longest_wait_ms, sample.time)).unwrap_or(last);
    format!(
        "Waiting customers now {}, most {} at {}. Longest wait now {}, longest {} at {}.",
        last.waiting,
        peak_waiting.waiting,
        hh_mm(peak_waiting.time, offset_minutes),
        millis_text(Some(last.longest_wait_ms)),
        millis_text(Some(peak_wait.longest_wait_ms)),
        hh_mm(peak_wait.time, offset_minutes),
    )
}

/// What the service-level chart says: the latest interval, the lowest, and the day.
pub fn service_level_summary(intervals: &[CenterInterval], share: Option<u8>, offset_minutes: i64) -> String {
    let counted: Vec<(&CenterInterval, f64)> = intervals
        .iter()
        .filter_map(|interval| interval.figures.service_level().map(|level| (interval, level)))
        .collect();
    let Some((latest, latest_level)) = counted.last() else {
        return "No chat answered or abandoned yet today.".into();
    };
    let (lowest, lowest_level) =
        counted.iter().min_by(|a, b| a.1.total_cmp(&b.1)).copied().unwrap_or((latest, *latest_level));
    let mut day = IntervalFigures::default();
    for interval in intervals {
        day.add(&interval.figures);
    }
    let target = share.map(|share| format!(" against a target of {share}%")).unwrap_or_default();
    format!(
        "Service level {} today{target}; {} in the interval from {}, lowest {} from {}. Abandonment {} today.",
        percent_text(day.service_level()),
        percent_text(Some(*latest_level)),
        hh_mm(latest.start, offset_minutes),
        percent_text(Some(lowest_level)),
        hh_mm(lowest.start, offset_minutes),
        percent_text(day.abandonment()),
    )
}

/// What the volume chart says: offered and handled today, and the busiest interval.
pub fn volume_summary(intervals: &[CenterInterval], offset_minutes: i64) -> String {
    let Some(busiest) = intervals.iter().max_by_key(|interval| (interval.figures.offered, interval.start)) else {
        return "No chats offered yet today.".into();
    };
    let offered: u64 = intervals.iter().map(|interval| interval.figures.offered).sum();
    let handled: u64 = intervals.iter().map(|interval| interval.figures.handled).sum();
    format!(
        "{offered} chats offered and {handled} handled today; busiest interval from {} with {} offered.",
        hh_mm(busiest.start, offset_minutes),
        busiest.figures.offered,
    )
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use switchboard_protocol::ids::AgentId;
    use switchboard_protocol::message::intervals::INTERVAL_MS;

    /// 2023-11-14 08:00 UTC.
    const EIGHT: u64 = 1_699_948_800_000;

    fn figures(offered: u64, answered: u64, in_target: u64, abandoned: u64, handled: u64) -> IntervalFigures {
        IntervalFigures { offered, answered, answered_in_target: in_target, abandoned, handled, ..Default::default() }
    }

    fn insight() -> Insight {
        let billing = || Scope::Queue("Billing".into());
        let sales = || Scope::Queue("Sales".into());
        let mut insight = Insight::default();
        insight.apply_intervals(Intervals {
            rows: vec![
                IntervalRow { start: Timestamp(EIGHT), scope: billing(), figures: figures(4, 3, 3, 1, 2) },
                IntervalRow { start: Timestamp(EIGHT), scope: sales(), figures: figures(1, 1, 1, 0, 1) },
                IntervalRow {
                    start: Timestamp(EIGHT),
                    scope: Scope::Agent(AgentId::new("alice")),
                    figures: IntervalFigures {
                        handled: 3,
                        handle_ms: 360_000,
                        logged_in_ms: 900_000,
                        busy_ms: 450_000,
                        not_ready_ms: 0,
                        ..Default::default()
                    },
                },
                IntervalRow {
                    start: Timestamp(EIGHT + INTERVAL_MS),
                    scope: billing(),
                    figures: figures(6, 4, 1, 2, 3),
                },
            ],
            targets: vec![
                QueueTarget { queue: "Billing".into(), within_ms: 60_000, share: 80 },
                QueueTarget { queue: "Sales".into(), within_ms: 30_000, share: 90 },
            ],
        });
        insight
    }

    #[test]
    fn today_and_the_last_15_minutes_per_queue_and_for_the_center() {
        let insight = insight();
        // The snapshot's rolling window: Billing only (a queue without counts is absent).
        let recent = [IntervalRow {
            start: Timestamp(EIGHT + 60_000),
            scope: Scope::Queue("Billing".into()),
            figures: figures(5, 3, 1, 1, 2),
        }];
        let queues = insight.queues(&recent);
        assert_eq!(queues[0].name, "Billing");
        assert_eq!((queues[0].today.offered, queues[0].last_15_minutes.offered), (10, 5));
        // Billing today: 4 in target of 7 answered + 3 abandoned.
        assert_eq!(queues[0].today.service_level(), Some(40.0));
        assert_eq!(Level::of_service_level(queues[0].today.service_level(), 80), Some(Level::Red));
        assert_eq!(queues[1].last_15_minutes, IntervalFigures::default(), "Sales had nothing in the window");
        let center = insight.center(&recent);
        assert_eq!((center.today.offered, center.today.answered, center.today.handled), (11, 8, 6));
        assert_eq!(center.last_15_minutes.offered, 5);
        let agents = insight.agents();
        assert_eq!(agents.len(), 1);
        assert_eq!(agents[0].today.average_handle_ms(), Some(120_000));
        assert_eq!(agents[0].today.occupancy(), Some(50.0));
    }

    #[test]
    fn thresholds_come_from_the_queue_objective_and_say_so_in_words() {
        assert_eq!(Level::of_service_level(Some(80.0), 80), Some(Level::Ok));
        assert_eq!(Level::of_service_level(Some(70.0), 80), Some(Level::Amber));
        assert_eq!(Level::of_service_level(Some(69.9), 80), Some(Level::Red));
        assert_eq!(Level::of_service_level(None, 80), None, "nothing to judge");
        assert_eq!(Level::of_wait(60_000, 60_000), Level::Ok);
        assert_eq!(Level::of_wait(61_000, 60_000), Level::Amber);
        assert_eq!(Level::of_wait(121_000, 60_000), Level::Red);
        assert_eq!(Level::Red.word(), "far below target");
    }

    #[test]
    fn the_charts_say_what_they_show() {
        let insight = insight();
        let intervals = insight.center_intervals();
        assert_eq!(intervals.len(), 2);
        assert_eq!(
            service_level_summary(&intervals, insight.center_share(), 0),
            // Day: 5 in target of 8 answered + 3 abandoned; 08:15: 1 of 4 + 2.
            "Service level 45% today against a target of 80%; 17% in the interval from 08:15, \
             lowest 17% from 08:15. Abandonment 27% today."
        );
        assert_eq!(
            volume_summary(&intervals, 60),
            "11 chats offered and 6 handled today; busiest interval from 09:15 with 6 offered."
        );
        assert_eq!(service_level_summary(&[], Some(80), 0), "No chat answered or abandoned yet today.");
        assert_eq!(volume_summary(&[], 0), "No chats offered yet today.");
    }

    #[test]
    fn the_live_chart_keeps_an_hour_of_samples_and_names_the_peaks() {
        let mut insight = Insight::default();
        assert_eq!(waiting_summary(insight.samples(), 0), "No samples yet: the chart starts when the wallboard opens.");
        let queue = |waiting: u32, wait_secs: u64| QueueRow {
            name: "Billing".into(),
            waiting,
            longest_wait: (waiting > 0).then(|| Duration::from_secs(wait_secs)),
        };
        insight.sample(&[queue(1, 10)], Timestamp(EIGHT));
        insight.sample(&[queue(4, 95)], Timestamp(EIGHT + 600_000));
        insight.sample(&[queue(2, 30), queue(1, 5)], Timestamp(EIGHT + 1_200_000));
        assert_eq!(
            waiting_summary(insight.samples(), 0),
            "Waiting customers now 3, most 4 at 08:10. Longest wait now 0:30, longest 1:35 at 08:10."
        );
        insight.sample(&[queue(0, 0)], Timestamp(EIGHT + LIVE_SPAN_MS + 1));
        assert_eq!(insight.samples().len(), 3, "the first sample is older than an hour");
    }
}
