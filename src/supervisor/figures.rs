//! The figures panels: per queue and for the whole center, today so far and
//! the last 15 minutes (rolling); per agent, the day's chats, handle time and
//! occupancy. A figure past its queue's objective is marked amber or red
//! with a word, not by colour alone (`insight::Level`).

use super::insight::{Level, QueueFigures, millis_text, percent_text};
use super::{Supervisor, use_supervisor};
use leptos::prelude::*;

/// A service level with how it stands against the objective: the text
/// (with its word when off target) and the level's key.
fn level_text(percent: Option<f64>, share: Option<u8>) -> (String, &'static str) {
    let level = share.and_then(|share| Level::of_service_level(percent, share));
    let mut text = percent_text(percent);
    if let Some(level) = level.filter(|level| *level != Level::Ok) {
        text.push_str(&format!(" ({})", level.word()));
    }
    (text, level.map_or("none", Level::key))
}

/// Customers' average rating and how many rated ("4.5 (12)"), or "—".
/// In whole tenths, not `{:.1}`: float formatting would add kilobytes of
/// `core::fmt` to the page.
fn rating_text(figures: &switchboard_protocol::message::intervals::IntervalFigures) -> String {
    let rated = figures.rated;
    if rated == 0 {
        return "—".into();
    }
    let tenths = (figures.rating_sum * 10 + rated / 2) / rated;
    format!("{}.{} ({rated})", tenths / 10, tenths % 10)
}

/// One row's cells: `(text, test id, level key)`; one view draws them all.
fn queue_cells(figures: &QueueFigures) -> Vec<(String, &'static str, &'static str)> {
    let share = figures.target.as_ref().map(|target| target.share);
    let (today, now) = (&figures.today, &figures.last_15_minutes);
    let (today_level, today_key) = level_text(today.service_level(), share);
    let (now_level, now_key) = level_text(now.service_level(), share);
    vec![
        (today_level, "figure-service-level", today_key),
        (now_level, "figure-service-level", now_key),
        (percent_text(today.abandonment()), "figure-abandonment", "none"),
        (millis_text(today.average_speed_of_answer_ms()), "figure-asa", "none"),
        (millis_text(today.average_handle_ms()), "figure-aht", "none"),
        (today.offered.to_string(), "figure-offered", "none"),
        (today.answered.to_string(), "figure-answered", "none"),
        (rating_text(today), "figure-rating", "none"),
    ]
}

fn queue_row(figures: QueueFigures, center: bool) -> impl IntoView {
    let objective = figures
        .target
        .as_ref()
        .map(|target| format!("{}% in {} s", target.share, target.within_ms / 1000))
        .unwrap_or_default();
    let cells = queue_cells(&figures);
    let name = figures.name.clone();
    view! {
        <tr data-testid="figures-row" data-queue=name class:center=center>
            <th scope="row">{figures.name}<span class="muted objective">{objective}</span></th>
            {cells.into_iter().map(|(text, test_id, level)| view! {
                <td class="num figure" data-level=level data-testid=test_id>{text}</td>
            }).collect_view()}
        </tr>
    }
}

/// Service level, abandonment, ASA, AHT and volumes per queue and center.
#[component]
pub fn FiguresPanel() -> impl IntoView {
    let Supervisor { view, .. } = use_supervisor();
    let rows = move || {
        view.with(|v| {
            let recent = v.board.recent();
            let mut rows: Vec<_> = v.insight.queues(recent).into_iter().map(|queue| queue_row(queue, false)).collect();
            rows.push(queue_row(v.insight.center(recent), true));
            rows
        })
    };
    view! {
        <section class="card panel figures" aria-labelledby="figures-title">
            <h2 id="figures-title">"Service today"</h2>
            <p class="notice" hidden=move || view.with(|v| v.insight.has_intervals())>"Loading today's figures…"</p>
            <div class="table-scroll">
                <table data-testid="figures">
                    <thead><tr>
                        <th scope="col">"Queue"</th>
                        <th scope="col" class="num">"Service level today"</th>
                        <th scope="col" class="num">"Last 15 min"</th>
                        <th scope="col" class="num">"Abandoned"</th>
                        <th scope="col" class="num"><abbr title="Average speed of answer">"ASA"</abbr></th>
                        <th scope="col" class="num"><abbr title="Average handle time">"AHT"</abbr></th>
                        <th scope="col" class="num">"Offered"</th>
                        <th scope="col" class="num">"Answered"</th>
                        <th scope="col" class="num">"Rating"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Per agent: chats handled today, average handle time, occupancy.
#[component]
pub fn AgentFiguresPanel() -> impl IntoView {
    let Supervisor { view, .. } = use_supervisor();
    let rows = move || {
        view.with(|v| {
            v.insight
                .agents()
                .into_iter()
                .map(|agent| {
                    let id = agent.id.clone();
                    view! {
                        <tr data-testid="agent-figures-row" data-agent=id>
                            <th scope="row">{agent.id}</th>
                            <td class="num" data-testid="agent-handled">{agent.today.handled}</td>
                            <td class="num">{millis_text(agent.today.average_handle_ms())}</td>
                            <td class="num" data-testid="agent-occupancy">{percent_text(agent.today.occupancy())}</td>
                            <td class="num" data-testid="agent-rating">{rating_text(&agent.today)}</td>
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="card panel agent-figures" aria-labelledby="agent-figures-title">
            <h2 id="agent-figures-title">"Agents today"</h2>
            <table data-testid="agent-figures">
                <thead><tr><th scope="col">"Agent"</th><th scope="col" class="num">"Chats handled"</th>
                    <th scope="col" class="num"><abbr title="Average handle time">"AHT"</abbr></th>
                    <th scope="col" class="num">"Occupancy"</th><th scope="col" class="num">"Rating"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
