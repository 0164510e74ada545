//! The charts, drawn as SVG by the page itself (no chart library): waiting
//! customers and the longest wait over the last hour (live), service level
//! and abandonment per interval today, chats offered against handled per
//! interval. Each has a title, a text summary (also the drawing's
//! accessible name) and its data as a table behind a "Show data" toggle; the
//! drawing stretches to the card's width, so it reads at 390 px and in print.
//!
//! Each chart is first a plain [`ChartModel`] (shapes in whole numbers,
//! words, table rows), built and tested natively; one component draws any
//! model, so the page carries one chart's view code, not three.

use super::board::clock_time;
use super::insight::{
    CenterInterval, LIVE_SPAN_MS, Sample, millis_text, percent_text, sample_of, service_level_summary, volume_summary,
    waiting_summary,
};
use super::{Supervisor, use_supervisor};
use leptos::prelude::*;
use std::collections::VecDeque;
use switchboard_protocol::message::intervals::INTERVAL_MS;
use switchboard_protocol::time::Timestamp;

/// The drawing's own coordinates (it is scaled to fit): large enough that
/// whole numbers are precise, because formatting floats would pull
/// `core::fmt`'s float code into the page (kilobytes).
const WIDTH: f64 = 6000.0;
const HEIGHT: f64 = 1200.0;
/// Headroom above the highest value.
const TOP: f64 = 40.0;

/// Everything one chart shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChartModel {
    pub title: &'static str,
    pub test_id: &'static str,
    pub summary: String,
    /// `(class, points)` of each line.
    pub lines: Vec<(&'static str, String)>,
    /// `(class, [x, y, width, height])` of each bar.
    pub bars: Vec<(&'static str, [i64; 4])>,
    /// The height of the objective's line, if the chart has one.
    pub target: Option<i64>,
    /// `(class, words)` of each series.
    pub legend: Vec<(&'static str, &'static str)>,
    /// What the left and right ends of the time axis are.
    pub axis: (String, String),
    pub head: [&'static str; 3],
    pub rows: Vec<[String; 3]>,
}

impl ChartModel {
    /// The SVG shapes: bars, then lines, then the objective's line.
    pub fn shapes(&self) -> String {
        let mut out = String::new();
        for (class, [x, y, width, height]) in &self.bars {
            out.push_str(&format!(
                "<rect class=\"bar {class}\" x=\"{x}\" y=\"{y}\" width=\"{width}\" height=\"{height}\"></rect>"
            ));
        }
        for (class, points) in &self.lines {
            out.push_str(&format!("<polyline class=\"series {class}\" points=\"{points}\"></polyline>"));
        }
        if let Some(y) = self.target {
            out.push_str(&format!("<line class=\"target\" x1=\"0\" x2=\"6000\" y1=\"{y}\" y2=\"{y}\"></line>"));
        }
        out
    }
}

fn whole(value: f64) -> i64 {
    value.round() as i64
}

/// The height of `value` on a scale up to `max`.
fn y_of(value: f64, max: f64) -> f64 {
    let max = if max > 0.0 { max } else { 1.0 };
    HEIGHT - value / max * (HEIGHT - TOP)
}

/// Points of a line through `(x in 0..=1, value)` on a scale up to `max`.
fn line_points(values: &[(f64, f64)], max: f64) -> String {
    values
        .iter()
        .map(|(x, value)| format!("{},{}", whole(x * WIDTH), whole(y_of(*value, max))))
        .collect::<Vec<_>>()
        .join(" ")
}

fn bar(class: &'static str, left: f64, width: f64, value: f64, max: f64) -> (&'static str, [i64; 4]) {
    let top = y_of(value, max);
    (class, [whole(left), whole(top), whole(width), whole(HEIGHT - top)])
}

fn hh_mm(time: Timestamp, offset: i64) -> String {
    clock_time(time, offset)[..5].to_owned()
}

/// Waiting customers and the longest wait over the hour up to `now`, each
/// on its own scale.
pub fn waiting_chart(samples: &VecDeque<Sample>, now: Timestamp, offset: i64) -> ChartModel {
    let start = now.as_millis().saturating_sub(LIVE_SPAN_MS);
    let x = |sample: &Sample| (sample.time.as_millis().saturating_sub(start) as f64 / LIVE_SPAN_MS as f64).min(1.0);
    let waiting: Vec<(f64, f64)> = samples.iter().map(|sample| (x(sample), f64::from(sample.waiting))).collect();
    let waits: Vec<(f64, f64)> = samples.iter().map(|sample| (x(sample), sample.longest_wait_ms as f64)).collect();
    let max = |values: &[(f64, f64)]| values.iter().map(|(_, value)| *value).fold(0.0, f64::max);
    ChartModel {
        title: "Waiting customers and longest wait, last hour",
        test_id: "chart-waiting",
        summary: waiting_summary(samples, offset),
        lines: vec![("waiting", line_points(&waiting, max(&waiting))), ("wait", line_points(&waits, max(&waits)))],
        legend: vec![("waiting", "Waiting customers"), ("wait", "Longest wait")],
        axis: (hh_mm(Timestamp(start), offset), format!("{} now", hh_mm(now, offset))),
        head: ["Time", "Waiting", "Longest wait"],
        rows: samples
            .iter()
            .rev()
            .take(60)
            .map(|sample| {
                [clock_time(sample.time, offset), sample.waiting.to_string(), millis_text(Some(sample.longest_wait_ms))]
            })
            .collect(),
        ..ChartModel::default()
    }
}

/// The slot of each interval from the first to the last, and their count.
fn slots(intervals: &[CenterInterval]) -> (u64, f64) {
    let first = intervals.first().map_or(0, |interval| interval.start.as_millis());
    let last = intervals.last().map_or(0, |interval| interval.start.as_millis());
    (first, ((last - first) / INTERVAL_MS + 1) as f64)
}

fn slot(interval: &CenterInterval, first: u64) -> f64 {
    ((interval.start.as_millis() - first) / INTERVAL_MS) as f64
}

fn day_axis(intervals: &[CenterInterval], offset: i64) -> (String, String) {
    match (intervals.first(), intervals.last()) {
        (Some(first), Some(last)) => {
            (hh_mm(first.start, offset), hh_mm(Timestamp(last.start.as_millis() + INTERVAL_MS), offset))
        }
        _ => (String::new(), String::new()),
    }
}

/// Service level as bars, abandonment as a line, the objective as a dashed line.
pub fn service_chart(intervals: &[CenterInterval], share: Option<u8>, offset: i64) -> ChartModel {
    let (first, count) = slots(intervals);
    let width = WIDTH / count;
    let bars = intervals
        .iter()
        .filter_map(|interval| {
            let level = interval.figures.service_level()?;
            Some(bar("service", slot(interval, first) * width + width * 0.15, width * 0.7, level, 100.0))
        })
        .collect();
    let abandoned: Vec<(f64, f64)> = intervals
        .iter()
        .filter_map(|interval| {
            let rate = interval.figures.abandonment()?;
            Some(((slot(interval, first) + 0.5) / count, rate))
        })
        .collect();
    ChartModel {
        title: "Service level and abandonment per interval",
        test_id: "chart-service",
        summary: service_level_summary(intervals, share, offset),
        lines: vec![("abandoned", line_points(&abandoned, 100.0))],
        bars,
        target: share.map(|share| whole(y_of(f64::from(share), 100.0))),
        legend: vec![("service", "Service level"), ("abandoned", "Abandoned"), ("target", "Target")],
        axis: day_axis(intervals, offset),
        head: ["Interval", "Service level", "Abandoned"],
        rows: intervals
            .iter()
            .map(|interval| {
                [
                    hh_mm(interval.start, offset),
                    percent_text(interval.figures.service_level()),
                    percent_text(interval.figures.abandonment()),
                ]
            })
            .collect(),
    }
}

/// Offered and handled side by side per interval.
pub fn volume_chart(intervals: &[CenterInterval], offset: i64) -> ChartModel {
    let (first, count) = slots(intervals);
    let width = WIDTH / count;
    let max =
        intervals.iter().map(|interval| interval.figures.offered.max(interval.figures.handled)).max().unwrap_or(0);
    let max = max as f64;
    let mut bars = Vec::new();
    for interval in intervals {
        let left = slot(interval, first) * width;
        bars.push(bar("offered", left + width * 0.1, width * 0.4, interval.figures.offered as f64, max));
        bars.push(bar("handled", left + width * 0.5, width * 0.4, interval.figures.handled as f64, max));
    }
    ChartModel {
        title: "Chats offered and handled per interval",
        test_id: "chart-volume",
        summary: volume_summary(intervals, offset),
        bars,
        legend: vec![("offered", "Offered"), ("handled", "Handled")],
        axis: day_axis(intervals, offset),
        head: ["Interval", "Offered", "Handled"],
        rows: intervals
            .iter()
            .map(|interval| {
                [
                    hh_mm(interval.start, offset),
                    interval.figures.offered.to_string(),
                    interval.figures.handled.to_string(),
                ]
            })
            .collect(),
        ..ChartModel::default()
    }
}

/// Text for markup: the models hold only this module's words, times and
/// numbers, but everything is escaped all the same.
fn escaped(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl ChartModel {
    /// The title, summary, drawing, axis and legend as markup.
    pub fn figure_html(&self) -> String {
        let summary = escaped(&self.summary);
        let legend: String = self
            .legend
            .iter()
            .map(|(class, words)| format!("<span class=\"key {class}\">{}</span>", escaped(words)))
            .collect();
        format!(
            "<h3>{title}</h3><p class=\"chart-summary\" data-testid=\"chart-summary\">{summary}</p>\
             <svg class=\"chart-svg\" viewBox=\"0 0 6000 1200\" preserveAspectRatio=\"none\" role=\"img\" \
             aria-label=\"{summary}\">{shapes}</svg>\
             <p class=\"chart-axis\" aria-hidden=\"true\"><span>{from}</span><span>{to}</span></p>\
             <p class=\"chart-legend\">{legend}</p>",
            title = escaped(self.title),
            shapes = self.shapes(),
            from = escaped(&self.axis.0),
            to = escaped(&self.axis.1),
        )
    }

    /// The data as a table's markup.
    pub fn table_html(&self) -> String {
        let head: String = self.head.iter().map(|head| format!("<th scope=\"col\">{}</th>", escaped(head))).collect();
        let rows: String = self
            .rows
            .iter()
            .map(|[first, second, third]| {
                format!(
                    "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escaped(first),
                    escaped(second),
                    escaped(third)
                )
            })
            .collect();
        format!("<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    }
}

/// Draws any chart: the figure as markup (one string is far less page code
/// than an element builder per part), the data behind a real `<details>`
/// that keeps its open state while the figure redraws.
#[component]
fn Chart(model: Memo<ChartModel>) -> impl IntoView {
    view! {
        <figure class="chart" data-testid=move || model.with(|m| m.test_id)>
            <div inner_html=move || model.with(ChartModel::figure_html)></div>
            <details class="chart-data">
                <summary>"Show data"</summary>
                <div inner_html=move || model.with(ChartModel::table_html)></div>
            </details>
        </figure>
    }
}

#[component]
pub fn ChartsPanel() -> impl IntoView {
    let Supervisor { view, now, utc_offset_minutes: offset, .. } = use_supervisor();
    // The samples, and the board as it stands this second (waits keep growing between snapshots).
    let waiting = Memo::new(move |_| {
        view.with(|v| {
            let now = now.get();
            let mut samples = v.insight.samples().clone();
            samples.push_back(sample_of(&v.board.queue_rows(now), now));
            waiting_chart(&samples, now, offset)
        })
    });
    let intervals = Memo::new(move |_| view.with(|v| v.insight.center_intervals()));
    let share = Memo::new(move |_| view.with(|v| v.insight.center_share()));
    let service = Memo::new(move |_| intervals.with(|intervals| service_chart(intervals, share.get(), offset)));
    let volume = Memo::new(move |_| intervals.with(|intervals| volume_chart(intervals, offset)));
    view! {
        <section class="card panel charts" aria-labelledby="charts-title">
            <h2 id="charts-title">"Through the day"</h2>
            <Chart model=waiting/>
            <Chart model=service/>
            <Chart model=volume/>
        </section>
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use switchboard_protocol::message::intervals::IntervalFigures;

    const EIGHT: u64 = 1_699_948_800_000;

    #[test]
    fn bars_and_lines_are_whole_numbers_on_the_drawings_scale() {
        let figures = |offered, answered, in_target, handled| IntervalFigures {
            offered,
            answered,
            answered_in_target: in_target,
            handled,
            ..Default::default()
        };
        let intervals = [
            CenterInterval { start: Timestamp(EIGHT), figures: figures(4, 4, 2, 2) },
            CenterInterval { start: Timestamp(EIGHT + 2 * INTERVAL_MS), figures: figures(2, 2, 2, 4) },
        ];
        let service = service_chart(&intervals, Some(80), 0);
        // Three slots (08:00, 08:15 empty, 08:30), 2,000 wide each; 50% and 100%.
        assert_eq!(service.bars, [("service", [300, 620, 1400, 580]), ("service", [4300, 40, 1400, 1160])]);
        assert_eq!(service.target, Some(272), "80% of the 1,160 below the headroom");
        assert!(
            service
                .shapes()
                .starts_with(r#"<rect class="bar service" x="300" y="620" width="1400" height="580"></rect>"#)
        );
        assert!(service.shapes().ends_with(r#"<line class="target" x1="0" x2="6000" y1="272" y2="272"></line>"#));
        assert_eq!(service.axis, ("08:00".to_owned(), "08:45".to_owned()));
        assert_eq!(service.rows[1], ["08:30".to_owned(), "100%".to_owned(), "0%".to_owned()]);
        let volume = volume_chart(&intervals, 0);
        assert_eq!(volume.bars.len(), 4);
        assert_eq!(volume.bars[3], ("handled", [5000, 40, 800, 1160]), "the tallest bar reaches the top");
        let empty = volume_chart(&[], 0);
        assert!(empty.bars.is_empty() && empty.rows.is_empty());
        assert_eq!(empty.summary, "No chats offered yet today.");
    }

    #[test]
    fn the_live_chart_spans_the_last_hour() {
        let mut samples = VecDeque::new();
        samples.push_back(Sample { time: Timestamp(EIGHT), waiting: 2, longest_wait_ms: 30_000 });
        samples.push_back(Sample { time: Timestamp(EIGHT + LIVE_SPAN_MS / 2), waiting: 4, longest_wait_ms: 60_000 });
        let chart = waiting_chart(&samples, Timestamp(EIGHT + LIVE_SPAN_MS), 0);
        assert_eq!(chart.lines[0], ("waiting", "0,620 3000,40".to_owned()));
        assert_eq!(chart.lines[1], ("wait", "0,620 3000,40".to_owned()));
        assert_eq!(chart.axis, ("08:00".to_owned(), "09:00 now".to_owned()));
        assert_eq!(chart.rows[0][1], "4", "newest first");
        let html = chart.figure_html();
        assert!(html.starts_with("<h3>Waiting customers and longest wait, last hour</h3>"));
        assert!(html.contains(r#"role="img" aria-label="Waiting customers now 4"#));
        assert!(chart.table_html().contains(r#"<th scope="col">Longest wait</th>"#));
    }
}
