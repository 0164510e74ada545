//! `GET /supervisor/intervals.csv?from=…&to=…`: the interval statistics of a
//! span (milliseconds since the epoch, `from` inclusive, `to` exclusive, at
//! most 31 days) as CSV, one row per interval and queue, for a supervisor
//! only. Authentication is HTTP Basic with the supervisor's id and password,
//! checked under the same throttle as every login; a browser asks for them
//! itself on the `401`. The rows are the protocol crate's
//! (`metrics::queue_csv`), the same figures `getIntervals` sends.

use crate::AppState;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::net::SocketAddr;
use switchboard_protocol::message::intervals::GetIntervals;
use switchboard_protocol::metrics::{queue_csv, utc_minute};
use switchboard_protocol::time::Timestamp;

/// The realm a browser names in its password prompt.
const CHALLENGE: &str = "Basic realm=\"Switchboard supervisors\", charset=\"UTF-8\"";

pub async fn download(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some((id, password)) = basic_credentials(&headers) else {
        return challenge("Log in with a supervisor's id and password.");
    };
    let config = state.gateway.config();
    let hash = config.agent(&id).map(|entry| entry.password_hash.clone());
    match state.access.check_password(&id, peer.ip(), hash, password).await {
        Ok(true) => {}
        Ok(false) => return challenge("Unknown id or wrong password."),
        Err(refused) => {
            let message = refused.failure().message;
            return plain(StatusCode::TOO_MANY_REQUESTS, &message);
        }
    }
    if !config.is_supervisor(&id) {
        return plain(StatusCode::FORBIDDEN, &format!("`{id}` is not a supervisor."));
    }
    let span = match parse_span(query.as_deref().unwrap_or_default()) {
        Ok(span) => span,
        Err(message) => return plain(StatusCode::BAD_REQUEST, &message),
    };
    match state.gateway.intervals(span).await {
        Ok(intervals) => {
            let filename = format!("switchboard-intervals-{}.csv", utc_minute(span.from).replace([' ', ':'], "-"));
            let disposition = format!("attachment; filename=\"{filename}\"");
            let mut response = queue_csv(&intervals).into_response();
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => {
            tracing::error!(%error, "could not read the interval statistics for a CSV download");
            plain(StatusCode::SERVICE_UNAVAILABLE, "The interval statistics could not be read; try again.")
        }
    }
}

/// `from` and `to` from the query string.
fn parse_span(query: &str) -> Result<GetIntervals, String> {
    let mut from = None;
    let mut to = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let millis = || {
            value
                .parse::<u64>()
                .map(Timestamp)
                .map_err(|_| format!("`{name}` must be a time in milliseconds since 1970-01-01 UTC, not `{value}`"))
        };
        match name {
            "from" => from = Some(millis()?),
            "to" => to = Some(millis()?),
            other => return Err(format!("unknown parameter `{other}`; use `from` and `to`")),
        }
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err("give `from` and `to` (milliseconds since 1970-01-01 UTC)".to_owned());
    };
    let span = GetIntervals { from, to };
    span.check()?;
    Ok(span)
}

/// The id and password of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, password) = text.split_once(':')?;
    Some((id.to_owned(), password.to_owned()))
}

fn challenge(message: &str) -> Response {
    let mut response = plain(StatusCode::UNAUTHORIZED, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(CHALLENGE));
    response
}

fn plain(status: StatusCode, message: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{message}\n")).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_span_is_parsed_with_errors_that_say_what_to_send() {
        assert_eq!(
            parse_span("from=1699999200000&to=1700085600000"),
            Ok(GetIntervals { from: Timestamp(1_699_999_200_000), to: Timestamp(1_700_085_600_000) })
        );
        assert!(parse_span("").unwrap_err().contains("give `from` and `to`"));
        assert!(parse_span("from=yesterday&to=1").unwrap_err().contains("`from` must be a time"));
        assert!(parse_span("from=1&to=2&day=3").unwrap_err().contains("unknown parameter `day`"));
        assert!(parse_span("from=5&to=5").unwrap_err().contains("must be after"));
    }

    #[test]
    fn basic_credentials_are_read_and_anything_else_is_not() {
        let mut headers = HeaderMap::new();
        assert_eq!(basic_credentials(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic c2FtOmRlbW8tc2Ft"));
        assert_eq!(basic_credentials(&headers), Some(("sam".into(), "demo-sam".into())));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer c2FtOmRlbW8tc2Ft"));
        assert_eq!(basic_credentials(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&headers), None);
    }
}
