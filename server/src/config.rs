//! The server's configuration file (TOML): service information, agents,
//! reason and disposition codes, queues, and limits.
//!
//! Passwords are stored as argon2 PHC strings (`switchboard-server
//! hash-password` makes one), never in clear.

mod agent_tools;
mod cluster;
mod notify;
mod priority;

pub use agent_tools::ResponseEntry;
pub use cluster::ClusterSection;
pub use notify::{EmailSection, PushSection};

use crate::access::client_address::TrustedProxy;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;
use switchboard_protocol::address::Address;
use switchboard_protocol::message::agent::{AgentSettings, LabelledCode};
use switchboard_protocol::message::service::ServiceInfo;

/// Why a configuration was refused. Each says which file, where in it
/// (line, key) and what is allowed instead.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// TOML syntax, an unknown key (the message lists the allowed ones) or
    /// a value of the wrong type; the TOML error shows the line and column.
    #[error("the configuration file {path} is not valid: {source}")]
    Parse { path: String, source: Box<toml::de::Error> },
    /// A well-formed value this server does not accept.
    #[error("{path}{}: `{key}`: {message}", line.map(|line| format!(":{line}")).unwrap_or_default())]
    Invalid {
        /// The file (`<text>` when parsed from a string).
        path: String,
        /// Where in the file: `limits.idle_timeout_secs`, `agents[2].capacity`.
        key: String,
        /// The key's line, when it is in the file (not a default).
        line: Option<usize>,
        message: String,
    },
}

/// The longest configurable timer (30 days), so a typo cannot overflow one.
const MAX_TIMER_SECS: f64 = 30.0 * 24.0 * 3600.0;

/// A validated number of seconds (`validate` refuses NaN, ≤ 0 and huge ones).
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { path: "<text>".into(), key: key.into(), line: None, message: message.into() }
}

/// The line of `key` (a path such as `agents[2].capacity`) in `text`, if
/// the file sets it: the line of the deepest part of the path found.
fn line_of(text: &str, key: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut table = root.get_ref();
    let mut span = None;
    let mut parts = key.split('.').peekable();
    while let Some(part) = parts.next() {
        let (name, index) = match part.split_once('[') {
            Some((name, index)) => (name, index.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Some((found_key, value)) = table.iter().find(|(candidate, _)| candidate.get_ref().as_ref() == name) else {
            break;
        };
        span = Some(found_key.span());
        let value = match (value.get_ref(), index) {
            (DeValue::Array(items), Some(index)) => match items.get(index) {
                Some(item) => {
                    span = Some(item.span());
                    item.get_ref()
                }
                None => break,
            },
            (other, _) => other,
        };
        match value {
            DeValue::Table(inner) if parts.peek().is_some() => table = inner,
            _ => break,
        }
    }
    let start = span?.start;
    Some(text.get(..start)?.matches('\n').count() + 1)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub service: ServiceSection,
    #[serde(default)]
    pub limits: Limits,
    #[serde(default)]
    pub security: Security,
    #[serde(default)]
    pub not_ready_reasons: Vec<CodeEntry>,
    #[serde(default)]
    pub dispositions: Vec<CodeEntry>,
    /// Whether `markDone` must name a disposition.
    #[serde(default)]
    pub disposition_required: bool,
    /// Auto-answer for every agent without their own `auto_answer`: the
    /// desktop accepts offered chats at once (and still announces them).
    #[serde(default)]
    pub auto_answer: bool,
    /// After how long without an answer a waiting customer raises the
    /// desktop's alarm (in the chat list).
    #[serde(default = "default_waiting_alarm_secs")]
    pub waiting_alarm_secs: u64,
    #[serde(default)]
    pub agents: Vec<AgentEntry>,
    #[serde(default)]
    pub queues: Vec<QueueEntry>,
    /// Customers who leave after waiting less than this are short abandons,
    /// left out of service level and abandonment (`docs/metrics.md`).
    #[serde(default = "default_short_abandon_secs")]
    pub short_abandon_secs: u64,
    #[serde(default)]
    pub services: Vec<ServiceEntry>,
    #[serde(default)]
    pub routing: RoutingSection,
    /// Third-party (ESP) services `request3rdServer` can name.
    #[serde(default)]
    pub esp: Vec<EspEntry>,
    /// Canned responses the desktop offers behind "/" (`config/agent_tools.rs`).
    #[serde(default)]
    pub responses: Vec<ResponseEntry>,
    #[serde(default)]
    pub widget: WidgetSection,
    #[serde(default)]
    pub storage: StorageSection,
    /// This server as a node of a cluster (`config/cluster.rs`).
    #[serde(default)]
    pub cluster: Option<ClusterSection>,
    /// Web Push to customers away from the page (`config/notify.rs`).
    #[serde(default)]
    pub push: Option<PushSection>,
    /// E-mail to customers away from the page, when push is not available.
    #[serde(default)]
    pub email: Option<EmailSection>,
}

/// Where Switchboard keeps its data. Without `url`, in the SQLite file the
/// server's `--db` names; `serve --database` wins over both.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSection {
    /// A PostgreSQL database: `postgres://user:password@host:port/database`
    /// (libpq's URL; `?options=-c%20search_path%3Dname` for a schema of its own).
    #[serde(default)]
    pub url: Option<String>,
}

/// The customer chat widget served at `/widget/` (see `http::widget`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetSection {
    /// Who may embed the widget's frame: CSP `frame-ancestors` sources
    /// (`'self'`, `https://shop.example.com`). Default: only this server.
    #[serde(default = "default_frame_ancestors")]
    pub frame_ancestors: Vec<String>,
    /// Serve the demo host page (a fake shop) at `/demo/shop.html`.
    #[serde(default)]
    pub demo_shop: bool,
}

impl Default for WidgetSection {
    fn default() -> Self {
        Self { frame_ancestors: default_frame_ancestors(), demo_shop: false }
    }
}

fn default_frame_ancestors() -> Vec<String> {
    vec!["'self'".to_owned()]
}

/// Timers and policies of offers and the chat-delay journey.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoutingSection {
    /// How long an agent has to accept an offered chat before it goes to the
    /// next agent. Seconds; fractions allowed (`0.5`), as for every timer here.
    pub offer_timeout_secs: f64,
    /// How long a customer told "an agent is available" has to confirm.
    pub confirm_timeout_secs: f64,
    /// What happens when the customer does not confirm in time.
    pub missed_confirmation: MissedConfirmation,
    /// The longest chat message accepted, in characters.
    pub max_message_chars: usize,
}

impl Default for RoutingSection {
    fn default() -> Self {
        Self {
            offer_timeout_secs: 30.0,
            confirm_timeout_secs: 60.0,
            missed_confirmation: MissedConfirmation::KeepPlace,
            max_message_chars: 4000,
        }
    }
}

impl RoutingSection {
    pub fn offer_timeout(&self) -> Duration {
        seconds(self.offer_timeout_secs)
    }

    pub fn confirm_timeout(&self) -> Duration {
        seconds(self.confirm_timeout_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MissedConfirmation {
    /// The request keeps its place and is offered the next available agent.
    KeepPlace,
    /// The request goes to the back of the queue.
    Requeue,
}

/// A chat service customers request (`chat-delay` in the seed journey).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceEntry {
    pub name: String,
    /// The queue (by name) its chats wait in.
    pub queue: String,
    /// The confirmation dialog's text.
    #[serde(default = "default_confirmation_text")]
    pub confirmation_text: String,
    /// Application data used where the request leaves a key out.
    #[serde(default)]
    pub defaults: serde_json::Map<String, serde_json::Value>,
    /// Opening hours; without them the service is always open (`hours`).
    #[serde(default)]
    pub hours: Option<HoursSection>,
    /// A customer who has not answered an agent for this long is warned in
    /// the chat (off unless set; needs `idle_close_secs`).
    #[serde(default)]
    pub idle_warn_secs: Option<f64>,
    /// … and at this long the chat ends for them, "closed for inactivity"
    /// (off unless set). See `core::inactivity`.
    #[serde(default)]
    pub idle_close_secs: Option<f64>,
    /// Its chats' routing priority (higher first), over the queue's; a
    /// classification category's wins over it (`Config::chat_priority`).
    #[serde(default)]
    pub priority: Option<i32>,
    /// The secret the host page's server signs customers' identities with
    /// (HMAC-SHA256, `crate::identity`); without it no identity verifies.
    #[serde(default)]
    pub identity_secret: Option<String>,
    /// Whether a chat request without an identity is flagged
    /// (`identity-missing`); it goes on unverified either way.
    #[serde(default)]
    pub identity_required: bool,
}

impl ServiceEntry {
    /// The inactivity rule, when the service has one: (warn after, close
    /// after), both counted from the agent's unanswered message.
    pub fn idle_rule(&self) -> Option<(Option<Duration>, Duration)> {
        let close = seconds(self.idle_close_secs?);
        Some((self.idle_warn_secs.map(seconds), close))
    }
}

/// A service's opening hours as configured (`[services.hours]`); checked
/// and parsed by `hours::OpeningHours::parse`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSection {
    /// An IANA time zone name, e.g. "Europe/Berlin".
    pub zone: String,
    /// Spans per weekday as "HH:MM-HH:MM"; a day left out is closed.
    #[serde(default)]
    pub monday: Vec<String>,
    #[serde(default)]
    pub tuesday: Vec<String>,
    #[serde(default)]
    pub wednesday: Vec<String>,
    #[serde(default)]
    pub thursday: Vec<String>,
    #[serde(default)]
    pub friday: Vec<String>,
    #[serde(default)]
    pub saturday: Vec<String>,
    #[serde(default)]
    pub sunday: Vec<String>,
    /// Local dates (YYYY-MM-DD) closed all day.
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn default_confirmation_text() -> String {
    "We will notify you when agent is available".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSection {
    pub vendor: String,
    pub cti_vendor: String,
    pub cti_version: String,
    pub instance_domain: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// The largest frame a client may send, in bytes.
    pub max_frame_bytes: usize,
    /// Requests a connection may send per second (sustained)…
    pub requests_per_second: u32,
    /// …and in one burst.
    pub request_burst: u32,
    /// Frames queued for a client before it is cut off as too slow.
    pub outbound_queue: usize,
    /// How long a session whose client vanished is kept for a resume (an
    /// agent's session, a customer's chat in progress; seconds, fractions
    /// allowed).
    pub resume_grace_secs: f64,
    /// How long a customer waiting in a queue keeps their place with no
    /// page open (the seed's "we will notify you"): longer than the resume
    /// grace, so a customer may close the tab and come back.
    #[serde(default = "default_max_away_secs")]
    pub max_away_secs: f64,
    /// A connection that sends nothing for this long is closed.
    pub idle_timeout_secs: u64,
    /// How often the server pings each client (browsers answer with a pong).
    #[serde(default = "default_ping_interval_ms")]
    pub ping_interval_ms: u64,
    /// Password checks (argon2, 19 MiB and tens of milliseconds each) run at
    /// most this many at once; 0: one per CPU core.
    #[serde(default)]
    pub hashing_concurrency: usize,
    /// How long a login waits for a free password check before it is
    /// answered `busy`.
    #[serde(default = "default_login_wait_ms")]
    pub login_wait_ms: u64,
    /// Open `/ws/customer` connections per client address (anonymous
    /// clients); 0: no limit.
    #[serde(default = "default_customer_connections_per_address")]
    pub customer_connections_per_address: usize,
    /// Open chat requests per client address; 0: no limit.
    #[serde(default = "default_chat_requests_per_address")]
    pub chat_requests_per_address: usize,
    /// How long a client has to send a request's (or an upgrade's) headers
    /// once it has connected or started one: 1 to 10 seconds.
    #[serde(default = "default_header_read_timeout_secs")]
    pub header_read_timeout_secs: u64,
}

fn default_ping_interval_ms() -> u64 {
    10_000
}

// Half an hour: long enough to step away from a queue (other products keep
// a place for 15 to 60 minutes); bounded, so abandoned places are freed.
fn default_max_away_secs() -> f64 {
    1800.0
}

fn default_login_wait_ms() -> u64 {
    5_000
}

// Generous: customers behind one carrier-grade NAT or office proxy share
// an address; the caps stop floods, not neighbours.
fn default_customer_connections_per_address() -> usize {
    50
}

fn default_chat_requests_per_address() -> usize {
    25
}

fn default_header_read_timeout_secs() -> u64 {
    10
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            requests_per_second: 20,
            request_burst: 60,
            outbound_queue: 1024,
            resume_grace_secs: 60.0,
            max_away_secs: default_max_away_secs(),
            idle_timeout_secs: 120,
            ping_interval_ms: default_ping_interval_ms(),
            hashing_concurrency: 0,
            login_wait_ms: default_login_wait_ms(),
            customer_connections_per_address: default_customer_connections_per_address(),
            chat_requests_per_address: default_chat_requests_per_address(),
            header_read_timeout_secs: default_header_read_timeout_secs(),
        }
    }
}

impl Limits {
    pub fn resume_grace(&self) -> Duration {
        seconds(self.resume_grace_secs)
    }

    /// How long a waiting customer's place is kept without a connection;
    /// never shorter than the resume grace.
    pub fn max_away(&self) -> Duration {
        seconds(self.max_away_secs.max(self.resume_grace_secs))
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    /// How many password checks may run at once.
    pub fn hashing_slots(&self) -> usize {
        match self.hashing_concurrency {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            slots => slots,
        }
    }

    pub fn login_wait(&self) -> Duration {
        Duration::from_millis(self.login_wait_ms)
    }

    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_secs)
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms.max(100))
    }

    /// A bound connection not heard from for this long (two and a half ping
    /// intervals: a live one answers every ping) may lose its binding to a
    /// client that resumes the session.
    pub fn stale_after(&self) -> Duration {
        self.ping_interval().mul_f32(2.5)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// Origins allowed to open a WebSocket (`http://127.0.0.1:8080`…).
    /// Connections without an `Origin` header (non-browser clients) are
    /// allowed; browsers always send one.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (addresses
    /// or networks: `10.0.0.5`, `10.0.0.0/8`). From any other peer the
    /// header is ignored: the client address is the peer's.
    #[serde(default)]
    pub trusted_proxies: Vec<TrustedProxy>,
    /// The first wait of the login throttle, in milliseconds; each further
    /// failure doubles it (see `access::throttle`).
    #[serde(default = "default_login_backoff_ms")]
    pub login_backoff_ms: u64,
}

impl Default for Security {
    fn default() -> Self {
        Self { allowed_origins: Vec::new(), trusted_proxies: Vec::new(), login_backoff_ms: default_login_backoff_ms() }
    }
}

fn default_login_backoff_ms() -> u64 {
    1000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeEntry {
    pub code: String,
    pub label: String,
}

impl From<&CodeEntry> for LabelledCode {
    fn from(entry: &CodeEntry) -> Self {
        LabelledCode { code: entry.code.clone(), label: entry.label.clone() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    pub id: String,
    pub name: String,
    /// An argon2 PHC string.
    pub password_hash: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub skills: BTreeMap<String, u32>,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    /// Where the agent sits, for the route-done target (place, DN, switch).
    #[serde(default)]
    pub place: Option<String>,
    #[serde(default)]
    pub dn: Option<String>,
    #[serde(default)]
    pub switch: Option<String>,
    /// `supervisor`: may use `/ws/supervisor` (and is not an agent taking chats there).
    #[serde(default)]
    pub role: Role,
    /// This agent's auto-answer; absent: the global `auto_answer`.
    #[serde(default)]
    pub auto_answer: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    #[default]
    Agent,
    Supervisor,
}

/// What a configured third-party service does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EspKind {
    /// Sends the customer a message made from a template (see `services::autoresponse`).
    Autoresponse,
    /// Sets `Category` and `CategoryConfidence` from keyword rules (see `services::classification`).
    Classification,
}

/// One third-party (ESP) service, run in-process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EspEntry {
    /// The name `request3rdServer` uses.
    pub name: String,
    pub kind: EspKind,
    /// A request the service has not answered by then gets a `timeout` fault.
    #[serde(default = "default_esp_timeout_ms")]
    pub timeout_ms: u64,
    /// Also run it by itself for every new chat (`by: "routing"`).
    #[serde(default)]
    pub on_chat_created: bool,
    /// Fault injection for demos and tests: the service takes this long to answer.
    #[serde(default)]
    pub latency_ms: u64,
    /// autoresponse: template name → text with `{Property}` placeholders.
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
    /// autoresponse: the template used when the request names none.
    #[serde(default)]
    pub default_template: Option<String>,
    /// autoresponse: the sender's display name.
    #[serde(default = "default_auto_reply_name")]
    pub sender_name: String,
    /// classification: the categories and their keywords.
    #[serde(default)]
    pub categories: Vec<CategoryRule>,
    /// classification: the confidence (0 to 1) a category needs to move a
    /// waiting chat to its `queue` ([`DEFAULT_MIN_CONFIDENCE`] unless set).
    /// Below it the category is only recorded.
    #[serde(default)]
    pub min_confidence: Option<f64>,
}

/// A single keyword hit scores 0.5 (see `services::classification`): by
/// default one clear hit is enough to route.
pub const DEFAULT_MIN_CONFIDENCE: f64 = 0.5;

impl EspEntry {
    /// Where a chat of `category` goes, if this classification routes it
    /// there at `confidence`.
    pub fn route_for(&self, category: &str, confidence: f64) -> Option<&str> {
        if self.kind != EspKind::Classification || confidence < self.min_confidence.unwrap_or(DEFAULT_MIN_CONFIDENCE) {
            return None;
        }
        self.categories.iter().find(|rule| rule.name == category).and_then(|rule| rule.queue.as_deref())
    }

    /// A classification run for every new chat that may move it: the first
    /// offer waits for its verdict.
    pub fn routes_new_chats(&self) -> bool {
        self.kind == EspKind::Classification
            && self.on_chat_created
            && self.categories.iter().any(|rule| rule.queue.is_some())
    }
}

fn default_esp_timeout_ms() -> u64 {
    2000
}

fn default_auto_reply_name() -> String {
    "Auto-reply".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryRule {
    pub name: String,
    /// Words or phrases (matched case-insensitively, on word boundaries).
    pub keywords: Vec<String>,
    /// A configured queue a chat of this category moves to while it still
    /// waits (routing on the category). None: the category is only recorded.
    #[serde(default)]
    pub queue: Option<String>,
    /// The routing priority of a chat of this category (higher first), over
    /// its service's and queue's; applied with the same `min_confidence`.
    #[serde(default)]
    pub priority: Option<i32>,
}

fn default_waiting_alarm_secs() -> u64 {
    60
}

fn default_capacity() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueEntry {
    pub name: String,
    /// A routing target address (see `check-address`), e.g.
    /// `Billing@StatServer.GA`: parsed once, when the file is read.
    pub target: Address,
    /// The service-level target: `service_level_percent` of the chats
    /// answered within `service_level_secs` (`docs/metrics.md`).
    #[serde(default = "default_service_level_secs")]
    pub service_level_secs: u64,
    #[serde(default = "default_service_level_percent")]
    pub service_level_percent: u8,
    /// The routing priority of the chats waiting here (higher first) unless
    /// their service or category sets one (`Config::chat_priority`).
    #[serde(default)]
    pub priority: i32,
}

fn default_service_level_secs() -> u64 {
    60
}

fn default_service_level_percent() -> u8 {
    80
}

fn default_short_abandon_secs() -> u64 {
    5
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
        let file = path.display().to_string();
        Self::parse(&text).map_err(|error| match error {
            ConfigError::Parse { source, .. } => ConfigError::Parse { path: file, source },
            ConfigError::Invalid { key, line, message, .. } => ConfigError::Invalid { path: file, key, line, message },
            other => other,
        })
    }

    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text)
            .map_err(|source| ConfigError::Parse { path: "<text>".into(), source: Box::new(source) })?;
        config.validate().map_err(|error| match error {
            ConfigError::Invalid { path, key, message, .. } => {
                let line = line_of(text, &key);
                ConfigError::Invalid { path, key, line, message }
            }
            other => other,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            ("routing.offer_timeout_secs", self.routing.offer_timeout_secs),
            ("routing.confirm_timeout_secs", self.routing.confirm_timeout_secs),
            ("limits.resume_grace_secs", self.limits.resume_grace_secs),
            ("limits.max_away_secs", self.limits.max_away_secs),
        ] {
            if !(value > 0.0 && value <= MAX_TIMER_SECS) {
                return Err(invalid(
                    key,
                    format!("a timer is a number of seconds above 0 and at most {MAX_TIMER_SECS} (fractions allowed)"),
                ));
            }
        }
        if let Some(push) = &self.push
            && !(push.contact.starts_with("mailto:") || push.contact.starts_with("https://"))
        {
            return Err(invalid("push.contact", "who runs this server: mailto:ops@shop.example or an https: URL"));
        }
        if let Some(email) = &self.email {
            if email.from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(invalid("email.from", "a sender such as `Shop support <support@shop.example>`"));
            }
            if !(email.smtp_url.starts_with("smtp://") || email.smtp_url.starts_with("smtps://")) {
                return Err(invalid("email.smtp_url", "an SMTP relay: smtp://host:587?tls=required, smtps://host"));
            }
        }
        if let Some(url) = &self.storage.url
            && !crate::storage::postgres::is_url(url)
        {
            return Err(invalid(
                "storage.url",
                "only PostgreSQL is supported there (postgres://user@host:port/database); \
                 leave it out to use SQLite at --db",
            ));
        }
        for (index, queue) in self.queues.iter().enumerate() {
            if !(1..=100).contains(&queue.service_level_percent) {
                return Err(invalid(
                    format!("queues[{index}].service_level_percent"),
                    "a share of chats in per cent: 1 to 100",
                ));
            }
            if queue.service_level_secs == 0 {
                return Err(invalid(
                    format!("queues[{index}].service_level_secs"),
                    "the time chats should be answered within, in seconds: at least 1",
                ));
            }
        }
        for (index, source) in self.widget.frame_ancestors.iter().enumerate() {
            let allowed = |c: char| c.is_ascii_alphanumeric() || ":/.-*'_[]".contains(c);
            if source.is_empty() || !source.chars().all(allowed) {
                return Err(invalid(
                    format!("widget.frame_ancestors[{index}]"),
                    format!("`{source}` is not a CSP source; use 'self' or an origin such as https://shop.example.com"),
                ));
            }
        }
        let mut ids = HashSet::new();
        for (index, agent) in self.agents.iter().enumerate() {
            let at = |key: &str| format!("agents[{index}].{key}");
            if !ids.insert(agent.id.as_str()) {
                return Err(invalid(at("id"), format!("agent `{}` is defined twice; ids are unique", agent.id)));
            }
            if agent.capacity == 0 {
                return Err(invalid(at("capacity"), format!("agent `{}` has capacity 0; use 1 or more", agent.id)));
            }
            if argon2::PasswordHash::new(&agent.password_hash).is_err() {
                return Err(invalid(
                    at("password_hash"),
                    format!(
                        "agent `{}`: not an argon2 PHC string (make one with `switchboard-server hash-password`)",
                        agent.id
                    ),
                ));
            }
        }
        for (index, service) in self.services.iter().enumerate() {
            if let Some(key) = service.defaults.keys().find(|key| crate::core::is_reserved(key)) {
                return Err(invalid(
                    format!("services[{index}].defaults"),
                    format!(
                        "service `{}`: defaults sets `{key}`, which the server owns (OP-…, Service, Queue, ChatDelay, RouteTarget, Category…)",
                        service.name
                    ),
                ));
            }
            if let Some(secret) = &service.identity_secret
                && secret.len() < 16
            {
                return Err(invalid(
                    format!("services[{index}].identity_secret"),
                    format!(
                        "service `{}`: identity_secret is {} bytes; use at least 16 random bytes (e.g. `openssl rand -hex 32`)",
                        service.name,
                        secret.len()
                    ),
                ));
            }
            if service.identity_required && service.identity_secret.is_none() {
                return Err(invalid(
                    format!("services[{index}].identity_required"),
                    format!("service `{}`: identity_required needs identity_secret to verify with", service.name),
                ));
            }
            if let Some(hours) = &service.hours
                && let Err(error) = crate::hours::OpeningHours::parse(hours)
            {
                return Err(invalid(
                    format!("services[{index}].hours"),
                    format!("service `{}`: {error}", service.name),
                ));
            }
            match (service.idle_warn_secs, service.idle_close_secs) {
                (_, Some(close)) if !(close.is_finite() && close > 0.0) => {
                    return Err(invalid(
                        format!("services[{index}].idle_close_secs"),
                        format!("service `{}`: idle_close_secs must be more than 0, not {close}", service.name),
                    ));
                }
                (Some(warn), None) => {
                    return Err(invalid(
                        format!("services[{index}].idle_warn_secs"),
                        format!(
                            "service `{}`: idle_warn_secs ({warn}) warns of a close that never comes; set idle_close_secs too",
                            service.name
                        ),
                    ));
                }
                (Some(warn), Some(close)) if !(warn > 0.0 && warn < close) => {
                    return Err(invalid(
                        format!("services[{index}].idle_warn_secs"),
                        format!(
                            "service `{}`: idle_warn_secs ({warn}) must be more than 0 and less than idle_close_secs ({close})",
                            service.name
                        ),
                    ));
                }
                _ => {}
            }
            if !self.queues.iter().any(|queue| queue.name == service.queue) {
                return Err(invalid(
                    format!("services[{index}].queue"),
                    format!(
                        "service `{}` names the queue `{}`, which is not configured; use one of: {}",
                        service.name,
                        service.queue,
                        self.queue_names()
                    ),
                ));
            }
        }
        let mut esp_names = HashSet::new();
        for (index, esp) in self.esp.iter().enumerate() {
            let at = |key: &str| format!("esp[{index}].{key}");
            if !esp_names.insert(esp.name.as_str()) {
                return Err(invalid(at("name"), format!("[[esp]] `{}` is defined twice; names are unique", esp.name)));
            }
            if esp.timeout_ms == 0 {
                return Err(invalid(
                    at("timeout_ms"),
                    format!("[[esp]] `{}`: timeout_ms must be above zero", esp.name),
                ));
            }
            match esp.kind {
                EspKind::Autoresponse => {
                    let default = esp.default_template.as_deref();
                    if let Some(name) = default.filter(|name| !esp.templates.contains_key(*name)) {
                        let known: Vec<&str> = esp.templates.keys().map(String::as_str).collect();
                        return Err(invalid(
                            at("default_template"),
                            format!(
                                "[[esp]] `{}`: default_template `{name}` is not among its templates ({})",
                                esp.name,
                                known.join(", ")
                            ),
                        ));
                    }
                    if esp.templates.is_empty() {
                        return Err(invalid(
                            at("templates"),
                            format!("[[esp]] `{}`: an autoresponse needs templates", esp.name),
                        ));
                    }
                    if esp.min_confidence.is_some() {
                        return Err(invalid(
                            at("min_confidence"),
                            format!("[[esp]] `{}`: min_confidence applies to a classification only", esp.name),
                        ));
                    }
                }
                EspKind::Classification => {
                    if esp.categories.is_empty() || esp.categories.iter().any(|rule| rule.keywords.is_empty()) {
                        return Err(invalid(
                            at("categories"),
                            format!("[[esp]] `{}`: a classification needs categories, each with keywords", esp.name),
                        ));
                    }
                    self.check_category_routes(index, esp)?;
                }
            }
        }
        agent_tools::check_responses(self)?;
        cluster::check_cluster(self)?;
        if self.limits.idle_timeout() <= self.limits.stale_after() {
            return Err(invalid(
                "limits.idle_timeout_secs",
                "idle_timeout_secs must exceed 2.5 ping intervals (ping_interval_ms)",
            ));
        }
        if self.security.login_backoff_ms == 0 {
            return Err(invalid("security.login_backoff_ms", "login_backoff_ms must be above zero"));
        }
        if !(1..=10).contains(&self.limits.header_read_timeout_secs) {
            return Err(invalid("limits.header_read_timeout_secs", "header_read_timeout_secs must be 1 to 10"));
        }
        if self.waiting_alarm_secs == 0 {
            return Err(invalid("waiting_alarm_secs", "waiting_alarm_secs must be at least 1"));
        }
        if self.limits.requests_per_second == 0 {
            return Err(invalid("limits.requests_per_second", "request rates must be above zero"));
        }
        if self.limits.request_burst == 0 {
            return Err(invalid("limits.request_burst", "request rates must be above zero"));
        }
        Ok(())
    }

    fn queue_names(&self) -> String {
        let known: Vec<&str> = self.queues.iter().map(|queue| queue.name.as_str()).collect();
        if known.is_empty() { "(no queues configured)".to_owned() } else { known.join(", ") }
    }

    pub fn agent(&self, id: &str) -> Option<&AgentEntry> {
        self.agents.iter().find(|agent| agent.id == id)
    }

    /// The desktop settings of agent `id`: its own where it has them, else
    /// the global defaults.
    pub fn agent_settings(&self, id: &str) -> AgentSettings {
        let own = self.agent(id).and_then(|agent| agent.auto_answer);
        AgentSettings {
            auto_answer: own.unwrap_or(self.auto_answer),
            waiting_alarm_secs: Some(self.waiting_alarm_secs),
            responses: agent_tools::canned_responses(self),
            services: agent_tools::service_actions(&self.esp),
        }
    }

    pub fn service_info(&self) -> ServiceInfo {
        ServiceInfo {
            vendor: self.service.vendor.clone(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            cti_vendor: self.service.cti_vendor.clone(),
            cti_version: self.service.cti_version.clone(),
            instance_domain: self.service.instance_domain.clone(),
        }
    }

    pub fn is_supervisor(&self, id: &str) -> bool {
        self.agent(id).is_some_and(|agent| agent.role == Role::Supervisor)
    }

    pub fn service(&self, name: &str) -> Option<&ServiceEntry> {
        self.services.iter().find(|service| service.name == name)
    }

    /// Routing is authoritative: every queue a category names exists, and
    /// the threshold is a confidence.
    fn check_category_routes(&self, index: usize, esp: &EspEntry) -> Result<(), ConfigError> {
        if let Some(min) = esp.min_confidence
            && !(0.0..=1.0).contains(&min)
        {
            return Err(invalid(
                format!("esp[{index}].min_confidence"),
                format!("[[esp]] `{}`: min_confidence must be between 0 and 1, not {min}", esp.name),
            ));
        }
        for rule in &esp.categories {
            if let Some(queue) = rule.queue.as_deref()
                && self.queue(queue).is_none()
            {
                return Err(invalid(
                    format!("esp[{index}].categories"),
                    format!(
                        "[[esp]] `{}`: category `{}` names the queue `{queue}`, which is not configured; use one of: {}",
                        esp.name,
                        rule.name,
                        self.queue_names()
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The classification services that route new chats by category.
    pub fn category_routers(&self) -> impl Iterator<Item = &EspEntry> {
        self.esp.iter().filter(|esp| esp.routes_new_chats())
    }

    /// The queues intent routing may move a new chat request to.
    pub fn category_queues(&self) -> impl Iterator<Item = &str> {
        self.category_routers().flat_map(|esp| esp.categories.iter().filter_map(|rule| rule.queue.as_deref()))
    }

    /// What the reporting figures are computed with.
    pub fn metrics_config(&self) -> switchboard_protocol::metrics::MetricsConfig {
        let targets = self
            .queues
            .iter()
            .map(|queue| switchboard_protocol::message::intervals::QueueTarget {
                queue: queue.name.clone(),
                within_ms: queue.service_level_secs.saturating_mul(1000),
                share: queue.service_level_percent,
            })
            .collect();
        switchboard_protocol::metrics::MetricsConfig {
            targets,
            short_abandon_ms: self.short_abandon_secs.saturating_mul(1000),
            ..Default::default()
        }
    }

    pub fn queue(&self, name: &str) -> Option<&QueueEntry> {
        self.queues.iter().find(|queue| queue.name == name)
    }

    pub fn is_disposition(&self, code: &str) -> bool {
        self.dispositions.iter().any(|entry| entry.code == code)
    }

    pub fn is_not_ready_reason(&self, code: &str) -> bool {
        self.not_ready_reasons.iter().any(|entry| entry.code == code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(extra: &str) -> Result<Config, ConfigError> {
        Config::parse(&format!(
            "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n{extra}"
        ))
    }

    fn refusal(extra: &str) -> String {
        match with(extra) {
            Err(error @ ConfigError::Invalid { .. }) => error.to_string(),
            other => panic!("expected an invalid configuration, got {other:?}"),
        }
    }

    #[test]
    fn opening_hours_are_checked_at_load_with_the_key_and_line() {
        let service = "[[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n\
                       [[services]]\nname = \"chat\"\nqueue = \"Billing\"\n[services.hours]\nzone = \"Europe/Berlin\"\n";
        let ok = with(&format!("{service}monday = [\"09:00-17:00\"]\nholidays = [\"2026-12-25\"]\n")).unwrap();
        assert_eq!(ok.services[0].hours.as_ref().map(|hours| hours.monday.len()), Some(1));
        let bad = refusal(&format!("{service}monday = [\"9-17\"]\n"));
        assert!(bad.contains("services[0].hours") && bad.contains("HH:MM-HH:MM"), "{bad}");
        assert!(bad.starts_with("<text>:12:"), "the line of [services.hours]: {bad}");
        let zone = refusal(&service.replace("Europe/Berlin", "Moon/Base"));
        assert!(zone.contains("IANA"), "{zone}");
    }

    #[test]
    fn third_party_services_are_checked_at_load() {
        let ok = with(
            "[[esp]]\nname = \"ar\"\nkind = \"autoresponse\"\ndefault_template = \"ack\"\ntemplates = { ack = \"Hi\" }\n\
             [[esp]]\nname = \"cl\"\nkind = \"classification\"\ncategories = [{ name = \"b\", keywords = [\"refund\"] }]\n",
        )
        .unwrap();
        assert_eq!(ok.esp.len(), 2);
        assert_eq!(ok.esp[0].timeout_ms, 2000, "a default timeout");
        assert!(!ok.esp[0].on_chat_created, "off unless asked");

        let twice = "[[esp]]\nname = \"x\"\nkind = \"autoresponse\"\ntemplates = { a = \"A\" }\n";
        assert!(refusal(&format!("{twice}{twice}")).contains("defined twice"));
        let missing_default =
            "[[esp]]\nname = \"x\"\nkind = \"autoresponse\"\ndefault_template = \"b\"\ntemplates = { a = \"A\" }\n";
        assert!(refusal(missing_default).contains("default_template `b`"));
        assert!(refusal("[[esp]]\nname = \"x\"\nkind = \"autoresponse\"\n").contains("needs templates"));
        let no_keywords =
            "[[esp]]\nname = \"x\"\nkind = \"classification\"\ncategories = [{ name = \"b\", keywords = [] }]\n";
        assert!(refusal(no_keywords).contains("each with keywords"));
        let no_timeout = "[[esp]]\nname = \"x\"\nkind = \"autoresponse\"\ntimeout_ms = 0\ntemplates = { a = \"A\" }\n";
        assert!(refusal(no_timeout).contains("timeout_ms"));
        assert!(matches!(with("[[esp]]\nname = \"x\"\nkind = \"translator\"\n"), Err(ConfigError::Parse { .. })));
    }

    #[test]
    fn category_routes_are_checked_at_load() {
        let queues = "[[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n\
                      [[queues]]\nname = \"Sales\"\ntarget = \"Sales@StatServer.GA\"\n";
        let classification = |categories: &str, extra: &str| {
            format!(
                "{queues}[[esp]]\nname = \"cl\"\nkind = \"classification\"\non_chat_created = true\n{extra}categories = [{categories}]\n"
            )
        };
        let routed = with(&classification(
            "{ name = \"billing\", keywords = [\"refund\"], queue = \"Billing\" }, { name = \"other\", keywords = [\"x\"] }",
            "",
        ))
        .unwrap();
        let esp = &routed.esp[0];
        assert!(esp.routes_new_chats());
        assert_eq!(routed.category_routers().count(), 1);
        assert_eq!(esp.route_for("billing", 0.5), Some("Billing"), "the default threshold is one clear hit");
        assert_eq!(esp.route_for("billing", 0.49), None, "below the threshold it is only recorded");
        assert_eq!(esp.route_for("other", 0.9), None, "a category without a queue only records");
        assert_eq!(esp.route_for("unknown", 0.0), None);

        let strict = with(&classification(
            "{ name = \"billing\", keywords = [\"refund\"], queue = \"Billing\" }",
            "min_confidence = 0.8\n",
        ))
        .unwrap();
        assert_eq!(strict.esp[0].route_for("billing", 0.67), None);
        assert_eq!(strict.esp[0].route_for("billing", 0.8), Some("Billing"));

        let unknown_queue =
            refusal(&classification("{ name = \"billing\", keywords = [\"refund\"], queue = \"Biling\" }", ""));
        assert!(unknown_queue.contains("category `billing` names the queue `Biling`"), "{unknown_queue}");
        assert!(unknown_queue.contains("use one of: Billing, Sales"), "{unknown_queue}");
        let out_of_range = refusal(&classification("{ name = \"b\", keywords = [\"r\"] }", "min_confidence = 1.5\n"));
        assert!(out_of_range.contains("between 0 and 1"), "{out_of_range}");
        let on_autoresponse = refusal(
            "[[esp]]\nname = \"ar\"\nkind = \"autoresponse\"\nmin_confidence = 0.5\ntemplates = { a = \"A\" }\n",
        );
        assert!(on_autoresponse.contains("classification only"), "{on_autoresponse}");
        let manual_only = with(
            &classification("{ name = \"billing\", keywords = [\"refund\"], queue = \"Billing\" }", "")
                .replace("on_chat_created = true\n", ""),
        )
        .unwrap();
        assert!(!manual_only.esp[0].routes_new_chats(), "only the automatic run holds the first offer");
    }

    #[test]
    fn service_defaults_may_not_set_reserved_properties() {
        let queue = "[[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n";
        let service = |defaults: &str| {
            format!("{queue}[[services]]\nname = \"chat\"\nqueue = \"Billing\"\ndefaults = {{ {defaults} }}\n")
        };
        assert!(with(&service("language = \"English\"")).is_ok());
        let refused = refusal(&service("\"OP-Session-ID\" = \"S1\""));
        assert!(refused.contains("service `chat`: defaults sets `OP-Session-ID`, which the server owns"), "{refused}");
    }

    #[test]
    fn a_refused_value_names_its_file_line_key_and_what_is_allowed() {
        let text = "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n\
                    [[queues]]\nname = \"Billing\"\ntarget = \"Billing@StatServer.GA\"\n\
                    [[services]]\nname = \"chat\"\nqueue = \"Biling\"\n";
        let error = Config::parse(text).unwrap_err().to_string();
        assert_eq!(
            error,
            "<text>:11: `services[0].queue`: service `chat` names the queue `Biling`, which is not configured; use one of: Billing"
        );
        let limits = "[limits]\nmax_frame_bytes = 1\nrequests_per_second = 1\nrequest_burst = 1\noutbound_queue = 1\n\
                      resume_grace_secs = 1\nidle_timeout_secs = 120\nheader_read_timeout_secs = 30\n";
        let error = with(limits).unwrap_err().to_string();
        assert_eq!(error, "<text>:13: `limits.header_read_timeout_secs`: header_read_timeout_secs must be 1 to 10");
        // Unknown keys and wrong types: the TOML error shows line, column and what is expected.
        let error = with("[limits]\nmax_frame_byte = 1\n").unwrap_err().to_string();
        assert!(error.contains("line 7") && error.contains("max_frame_bytes"), "{error}");
        let error = with("[security]\ntrusted_proxies = [\"proxy.local\"]\n").unwrap_err().to_string();
        assert!(error.contains("line 7") && error.contains("not an IP address"), "{error}");
    }

    #[test]
    fn roles_default_to_agent() {
        let hash = crate::auth::hash_password("pw").unwrap();
        let config = with(&format!(
            "[[agents]]\nid = \"a\"\nname = \"A\"\npassword_hash = \"{hash}\"\n\
             [[agents]]\nid = \"s\"\nname = \"S\"\npassword_hash = \"{hash}\"\nrole = \"supervisor\"\n"
        ))
        .unwrap();
        assert!(!config.is_supervisor("a"));
        assert!(config.is_supervisor("s"));
        assert!(!config.is_supervisor("nobody"));
    }

    /// A valid argon2 PHC string (demo-alice); these tests never check it.
    const HASH: &str =
        "$argon2id$v=19$m=19456,t=2,p=1$+rWF09znA8m1kCU2M9im4A$zFqKxcCcNFn7YnTXWlvaXZEGyuzvO6ABO0NAaFulTs4";

    fn parse_config(global: &str, agents: &[(&str, &str)]) -> Config {
        let mut text = format!(
            "{global}\n[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n"
        );
        for (id, own) in agents {
            text += &format!("[[agents]]\nid = \"{id}\"\nname = \"{id}\"\npassword_hash = \"{HASH}\"\n{own}\n");
        }
        Config::parse(&text).unwrap()
    }

    #[test]
    fn auto_answer_is_off_unless_configured() {
        let config = parse_config("", &[("alice", "")]);
        assert_eq!(
            config.agent_settings("alice"),
            AgentSettings { auto_answer: false, waiting_alarm_secs: Some(60), ..AgentSettings::default() }
        );
    }

    #[test]
    fn an_agents_own_auto_answer_overrides_the_global_default() {
        let config = parse_config("auto_answer = true", &[("alice", ""), ("bob", "auto_answer = false")]);
        assert!(config.agent_settings("alice").auto_answer, "alice follows the global default");
        assert!(!config.agent_settings("bob").auto_answer, "bob opted out");

        let config = parse_config("", &[("alice", "auto_answer = true"), ("bob", "")]);
        assert!(config.agent_settings("alice").auto_answer);
        assert!(!config.agent_settings("bob").auto_answer);
    }

    #[test]
    fn the_waiting_alarm_threshold_is_configurable_and_positive() {
        let config = parse_config("waiting_alarm_secs = 90", &[("alice", "")]);
        assert_eq!(config.agent_settings("alice").waiting_alarm_secs, Some(90));
        let text = "waiting_alarm_secs = 0\n[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n";
        let error = Config::parse(text).unwrap_err().to_string();
        assert!(error.contains("waiting_alarm_secs must be at least 1"), "{error}");
        assert!(error.starts_with("<text>:1: `waiting_alarm_secs`"), "{error}");
    }

    #[test]
    fn auto_answer_must_be_a_boolean() {
        let text = "auto_answer = \"yes\"\n[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n";
        let error = Config::parse(text).unwrap_err().to_string();
        assert!(error.contains("auto_answer"), "{error}");
    }
}
