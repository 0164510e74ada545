//! The server's integration tests: the real server over real WebSockets and a
//! real SQLite file (or PostgreSQL with `SWITCHBOARD_TEST_DATABASE_URL`).
//!
//! One test binary, one module per suite: sixteen binaries each linked the
//! whole server, which cost minutes of link time and gigabytes of target dir.

mod common;
mod journey;

mod abuse;
mod agent_session;
mod agent_settings;
mod association;
mod availability;
mod binary;
mod category_routing;
mod chat_journey;
mod cli;
mod cluster;
mod collaboration;
mod database_outage;
mod desktop_http;
mod identity;
mod inactivity;
mod intervals;
mod layers;
mod notify;
mod operator;
mod priority;
mod properties;
mod receipts;
mod reporting;
mod satisfaction;
mod services;
mod widget_http;
