//! `GET /widget/availability?service=…`: whether the chat service can take
//! a chat now (`switchboard_protocol::message::availability`), for the
//! loader's launcher on any host page (issue 16, item 3).
//!
//! Anonymous and cross-origin (`Access-Control-Allow-Origin: *`: it says
//! nothing about anyone), so it must stay cheap whoever asks how often: each
//! configured service's answer is kept for [`FRESH_FOR`] and shared, so the
//! center is asked at most once per service per interval (the cache holds
//! configured services only: bounded), and browsers may keep it as long.
//! An unknown service is `404`. A cluster's node that does not run the
//! center answers from the opening hours alone (every node has the same
//! configuration; who is logged in is the center's to know): closed outside
//! them, open within.

use crate::AppState;
use crate::clock::now;
use crate::config::Config;
use crate::gateway::Gateway;
use crate::hours::{OpeningHours, Openness};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchboard_protocol::message::availability::{Availability, Offline};

/// How long an answer is reused (and may be cached by browsers).
pub const FRESH_FOR: Duration = Duration::from_secs(10);

#[derive(Deserialize)]
pub struct AvailabilityQuery {
    service: String,
}

/// The answers of the last [`FRESH_FOR`], by service.
#[derive(Default)]
pub struct Cache {
    answers: Mutex<HashMap<String, (Instant, Availability)>>,
}

impl Cache {
    fn get(&self, gateway: &Gateway, service: &str) -> Option<Availability> {
        let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, answer)) = answers.get(service)
            && at.elapsed() < FRESH_FOR
        {
            return Some(answer.clone());
        }
        let answer = match gateway.availability(service) {
            Some(answer) => answer,
            None => by_hours_only(gateway.config(), service),
        };
        if let Some(answer) = &answer {
            answers.insert(service.to_owned(), (Instant::now(), answer.clone()));
        }
        answer
    }
}

/// What a node without the center can say: closed outside the service's
/// opening hours, else open (`None` for an unknown service). The hours are
/// parsed here again: this runs once per service per [`FRESH_FOR`].
fn by_hours_only(config: &Config, service: &str) -> Option<Availability> {
    let entry = config.service(service)?;
    let opening = entry.hours.as_ref().and_then(|section| OpeningHours::parse(section).ok());
    Some(match opening.map(|hours| hours.at(now())) {
        Some(Openness::Closed { opens_at }) => Availability { open: false, reason: Some(Offline::Closed), opens_at },
        _ => Availability { open: true, reason: None, opens_at: None },
    })
}

pub async fn availability(State(state): State<AppState>, Query(query): Query<AvailabilityQuery>) -> Response {
    let (status, body) = match state.availability.get(&state.gateway, &query.service) {
        Some(answer) => (StatusCode::OK, serde_json::to_string(&answer).unwrap_or_default()),
        None => (StatusCode::NOT_FOUND, r#"{"error":"there is no such chat service"}"#.to_owned()),
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=10"));
    response
}
