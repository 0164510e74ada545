//! The built web apps over HTTP, each page under a strict Content-Security-Policy.

pub mod availability;
pub mod desktop;
pub mod intervals;
pub mod push;
pub mod widget;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The answer to a path nobody serves: 404 with a small page (a browser
/// shows it as a page of this origin, not as an error of its own).
pub async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><title>Not found</title><p>Not found.</p>\n",
    )
        .into_response()
}
