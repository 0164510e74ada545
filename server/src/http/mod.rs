//! The built web apps over HTTP, each page under a strict Content-Security-Policy.

pub mod desktop;
pub mod widget;
