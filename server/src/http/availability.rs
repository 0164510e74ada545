//! `GET /widget/availability?service=…`: whether the chat service can take
//! a chat now (`switchboard_protocol::message::availability`), for the
//! loader's launcher on any host page (issue 16, item 3).
//!
//! Anonymous and cross-origin (`Access-Control-Allow-Origin: *`: it says
//! nothing about anyone), so it must stay cheap whoever asks how often: each
//! configured service's answer is kept for [`FRESH_FOR`] and shared, so the
//! center is asked at most once per service per interval (the cache holds
//! configured services only: bounded), and browsers may keep it as long.
//! An unknown service is `404`; a cluster's node that does not run the
//! center answers `503`, and the loader then shows the normal launcher.

use crate::AppState;
use crate::gateway::Gateway;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use switchboard_protocol::message::availability::Availability;

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
    fn get(&self, gateway: &Gateway, service: &str) -> Result<Option<Availability>, Unknown> {
        let mut answers = self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((at, answer)) = answers.get(service)
            && at.elapsed() < FRESH_FOR
        {
            return Ok(Some(answer.clone()));
        }
        let answer = gateway.availability(service).ok_or(Unknown)?;
        if let Some(answer) = &answer {
            answers.insert(service.to_owned(), (Instant::now(), answer.clone()));
        }
        Ok(answer)
    }
}

/// The center does not run in this process.
pub struct Unknown;

pub async fn availability(State(state): State<AppState>, Query(query): Query<AvailabilityQuery>) -> Response {
    let (status, body) = match state.availability.get(&state.gateway, &query.service) {
        Ok(Some(answer)) => (StatusCode::OK, serde_json::to_string(&answer).unwrap_or_default()),
        Ok(None) => (StatusCode::NOT_FOUND, r#"{"error":"there is no such chat service"}"#.to_owned()),
        Err(Unknown) => {
            (StatusCode::SERVICE_UNAVAILABLE, r#"{"error":"this node does not know; ask again"}"#.to_owned())
        }
    };
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=10"));
    response
}
