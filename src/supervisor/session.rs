//! The supervisor's side of `/ws/supervisor`, sans IO: which requests to
//! send and what each frame changes. The socket driver (`socket.rs`) feeds
//! it frames and connection changes and writes what it queues; everything
//! here is tested natively.
//!
//! On every connection: `login` → `getSnapshot` → on its answer
//! `subscribeReports {afterSeq}` and `watchSnapshot`. `afterSeq` is the last
//! report seq the page handled (so a reconnect misses nothing and the board
//! drops what it already has), or, the first time, a bounded stretch of
//! history before the snapshot (see [`Board::resume_after`]).

use super::board::Board;
use super::insight::Insight;
use super::monitor::Monitored;
use switchboard_protocol::ids::{AgentId, ClientMessageId, InteractionId, RequestId};
use switchboard_protocol::message::envelope::{Outcome, Request, Response};
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::intervals::{GetIntervals, Intervals};
use switchboard_protocol::message::report::ReportBody;
use switchboard_protocol::message::service::Password;
use switchboard_protocol::message::supervisor::{
    CenterSnapshot, ChatRef, Monitoring, SubscribeReports, SupervisorCommand, SupervisorLine, SupervisorLogin,
    SupervisorMessage, SupervisorProfile,
};
use switchboard_protocol::time::Timestamp;

/// Where the page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The login form.
    LoggedOut,
    /// `login` sent (or waiting for a socket to send it on).
    LoggingIn,
    /// Logged in: the wallboard.
    Live,
}

/// What a sent request was, to read its answer.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    Login,
    Snapshot,
    Subscribe,
    Watch,
    Intervals,
    /// `monitor` of this interaction.
    Monitor(InteractionId),
    /// `whisper`, `barge`, `sendMessage` or `stopMonitor` about the monitored chat.
    ChatAction,
    /// `barge` of this interaction.
    Barge(InteractionId),
}

const DAY_MS: u64 = 86_400_000;

/// Why a frame from the server could not be read.
#[derive(Debug, thiserror::Error)]
#[error("the frame is not a supervisor message: {0}")]
pub struct FrameError(String);

#[derive(Debug)]
pub struct SupervisorSession {
    credentials: Option<(AgentId, Password)>,
    stage: Stage,
    profile: Option<SupervisorProfile>,
    board: Board,
    /// Requests sent and not answered yet, by id: a handful at most, so a
    /// list (a `HashMap` linked SipHash and a hash table into the page).
    pending: Vec<(String, Pending)>,
    next_id: u64,
    outbox: Vec<String>,
    online: bool,
    /// Why the last login failed, for the form.
    login_error: Option<String>,
    /// A problem on the wallboard (a refused request), for the banner.
    error: Option<String>,
    /// A refused `afterSeq` was retried once on this connection.
    resubscribed: bool,
    /// A connection closed while logging in (the server is unreachable).
    login_unreachable: bool,
    /// Today's figures and the live chart's samples.
    insight: Insight,
    /// A `getIntervals` is on its way; `intervals_stale`: ask again after it.
    intervals_in_flight: bool,
    intervals_stale: bool,
    /// The page's offset east of UTC, for where "today" starts.
    utc_offset_minutes: i64,
    /// The chat this page monitors (one at a time), monitored again on
    /// every connection.
    monitored: Option<Monitored>,
    /// Numbers the client ids of whispers and messages.
    next_line: u64,
}

impl Default for SupervisorSession {
    fn default() -> Self {
        Self::new()
    }
}

impl SupervisorSession {
    pub fn new() -> Self {
        Self {
            credentials: None,
            stage: Stage::LoggedOut,
            profile: None,
            board: Board::default(),
            pending: Vec::new(),
            next_id: 1,
            outbox: Vec::new(),
            online: false,
            login_error: None,
            error: None,
            resubscribed: false,
            login_unreachable: false,
            insight: Insight::default(),
            intervals_in_flight: false,
            intervals_stale: false,
            utc_offset_minutes: 0,
            monitored: None,
            next_line: 1,
        }
    }

    /// Where the page's day starts (minutes east of UTC).
    pub fn set_utc_offset(&mut self, minutes: i64) {
        self.utc_offset_minutes = minutes;
    }

    pub fn insight(&self) -> &Insight {
        &self.insight
    }

    pub fn monitored(&self) -> Option<&Monitored> {
        self.monitored.as_ref()
    }

    /// Opens a live chat read-only (nobody in it is told); the chat
    /// monitored before is stopped.
    pub fn monitor(&mut self, interaction: &str) {
        if self.monitored.as_ref().is_some_and(|chat| chat.interaction == interaction) {
            return;
        }
        self.stop_monitor();
        self.monitored = Some(Monitored::new(interaction));
        self.send_monitor();
    }

    /// Closes the monitored chat (telling the server, unless it is over).
    pub fn stop_monitor(&mut self) {
        let Some(chat) = self.monitored.take() else { return };
        if !chat.ended && self.stage == Stage::Live {
            let chat = ChatRef { interaction: InteractionId::new(chat.interaction) };
            self.send(SupervisorCommand::StopMonitor(chat), Pending::ChatAction);
        }
    }

    /// A private line to the monitored chat's agents.
    pub fn whisper(&mut self, text: &str) {
        if let Some(line) = self.line(text, "w") {
            self.send(SupervisorCommand::Whisper(line), Pending::ChatAction);
        }
    }

    /// A line to the customer, once barged in.
    pub fn say(&mut self, text: &str) {
        if !self.monitored.as_ref().is_some_and(|chat| chat.barged) {
            return;
        }
        if let Some(line) = self.line(text, "s") {
            self.send(SupervisorCommand::SendMessage(line), Pending::ChatAction);
        }
    }

    /// Joins the monitored chat as a participant (the customer is told).
    pub fn barge(&mut self) {
        let Some(chat) = self.monitored.as_ref().filter(|chat| !chat.barged && !chat.ended) else { return };
        let interaction = InteractionId::new(chat.interaction.clone());
        let command = SupervisorCommand::Barge(ChatRef { interaction: interaction.clone() });
        self.send(command, Pending::Barge(interaction));
    }

    /// The line `text` into the monitored, live chat, with a fresh client id.
    fn line(&mut self, text: &str, prefix: &str) -> Option<SupervisorLine> {
        let text = text.trim();
        let chat = self.monitored.as_ref().filter(|chat| chat.loaded && !chat.ended && !text.is_empty())?;
        let client_id = ClientMessageId::new(format!("{prefix}{}", self.next_line));
        self.next_line += 1;
        Some(SupervisorLine {
            interaction: InteractionId::new(chat.interaction.clone()),
            client_id,
            text: text.to_owned(),
        })
    }

    fn send_monitor(&mut self) {
        let Some(chat) = &self.monitored else { return };
        if self.stage != Stage::Live || !self.online {
            return;
        }
        let interaction = InteractionId::new(chat.interaction.clone());
        self.send(
            SupervisorCommand::Monitor(ChatRef { interaction: interaction.clone() }),
            Pending::Monitor(interaction),
        );
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    pub fn board(&self) -> &Board {
        &self.board
    }

    pub fn profile(&self) -> Option<&SupervisorProfile> {
        self.profile.as_ref()
    }

    pub fn login_error(&self) -> Option<&str> {
        self.login_error.as_deref()
    }

    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// A socket is wanted while there are credentials to log in with.
    pub fn wants_socket(&self) -> bool {
        self.credentials.is_some()
    }

    /// Logged in once, and the connection is down: show the banner.
    pub fn reconnecting(&self) -> bool {
        self.stage == Stage::Live && !self.online
    }

    /// Logging in, but the last connection closed before the answer: the
    /// form says the server cannot be reached (the driver keeps trying).
    pub fn unreachable(&self) -> bool {
        self.stage == Stage::LoggingIn && !self.online && self.login_unreachable
    }

    /// The form was submitted. The password is kept in memory (only) so a
    /// reconnect can log in again: the supervisor endpoint has no session
    /// token to resume with.
    pub fn log_in(&mut self, id: &str, password: Password) {
        let id = id.trim();
        if id.is_empty() || password.expose().is_empty() {
            self.login_error = Some("Enter your id and password.".into());
            return;
        }
        self.credentials = Some((AgentId::new(id), password));
        self.stage = Stage::LoggingIn;
        self.login_error = None;
        if self.online {
            self.send_login();
        }
    }

    /// Back to the form; the driver closes the socket (`wants_socket` is false).
    pub fn log_out(&mut self) {
        *self = Self {
            online: self.online,
            next_id: self.next_id,
            utc_offset_minutes: self.utc_offset_minutes,
            ..Self::new()
        };
    }

    pub fn handle_connected(&mut self) {
        self.online = true;
        self.resubscribed = false;
        if self.credentials.is_some() {
            self.send_login();
        }
    }

    /// The socket closed: what was in flight is lost and will be asked
    /// again on the next connection.
    pub fn handle_disconnected(&mut self) {
        self.login_unreachable = self.stage == Stage::LoggingIn;
        self.online = false;
        self.pending.clear();
        self.outbox.clear();
        self.intervals_in_flight = false;
    }

    /// The next frame to write.
    pub fn poll_transmit(&mut self) -> Option<String> {
        (!self.outbox.is_empty()).then(|| self.outbox.remove(0))
    }

    /// Reads one text frame; `local_now` is the page's clock.
    pub fn handle_frame(&mut self, text: &str, local_now: Timestamp) -> Result<(), FrameError> {
        let message = SupervisorMessage::from_json(text).map_err(|error| FrameError(error.to_string()))?;
        self.handle(message, local_now);
        Ok(())
    }

    pub fn handle(&mut self, message: SupervisorMessage, local_now: Timestamp) {
        match message {
            SupervisorMessage::Snapshot { snapshot } => {
                if self.stage == Stage::Live {
                    // The state that ends now (its waits grew since it came), then the new one.
                    self.insight.sample(&self.board.queue_rows(local_now), local_now);
                    self.board.apply_snapshot(snapshot, local_now);
                    self.insight.sample(&self.board.queue_rows(local_now), local_now);
                    // The center moved: the figures follow.
                    self.refresh_intervals(local_now);
                }
            }
            SupervisorMessage::Report { report } => {
                if self.stage == Stage::Live {
                    let counts = counts_in_figures(&report.body);
                    self.board.apply_report(report);
                    if counts {
                        self.refresh_intervals(local_now);
                    }
                }
            }
            SupervisorMessage::Response(response) => self.handle_response(response, local_now),
            SupervisorMessage::Monitor { monitor } => {
                if let Some(chat) =
                    self.monitored.as_mut().filter(|chat| chat.interaction == monitor.interaction.as_str())
                {
                    chat.apply_event(&monitor.event, monitor.data);
                }
            }
        }
    }

    fn handle_response(&mut self, response: Response, local_now: Timestamp) {
        let at = response.id.as_ref().and_then(|id| self.pending.iter().position(|(sent, _)| sent == id.as_str()));
        let Some((_, pending)) = at.map(|at| self.pending.swap_remove(at)) else {
            return;
        };
        let result = match response.outcome {
            Outcome::Success { data, .. } => Ok(data.unwrap_or_default()),
            Outcome::Failure { failure, .. } => Err(failure),
            Outcome::Confirm { message, .. } => Err(Failure::new(FailureCode::InvalidRequest, message)),
        };
        match (pending, result) {
            (Pending::Login, Ok(data)) => {
                self.profile = serde_json::from_value(data).ok();
                self.stage = Stage::Live;
                self.error = None;
                self.send(SupervisorCommand::GetSnapshot, Pending::Snapshot);
                // Monitors belong to a connection: a reconnect monitors again.
                self.send_monitor();
            }
            (Pending::Login, Err(failure)) => {
                // Also on a reconnect (the role was taken away, the
                // password changed): back to the form, saying why.
                self.log_out();
                self.login_error = Some(login_failure_text(&failure));
            }
            (Pending::Snapshot, Ok(data)) => match serde_json::from_value::<CenterSnapshot>(data) {
                Ok(snapshot) => {
                    self.board.apply_snapshot(snapshot, local_now);
                    self.insight.sample(&self.board.queue_rows(local_now), local_now);
                    self.subscribe();
                    self.send(SupervisorCommand::WatchSnapshot, Pending::Watch);
                    self.refresh_intervals(local_now);
                }
                Err(error) => self.error = Some(format!("The center snapshot could not be read: {error}")),
            },
            (Pending::Subscribe, Err(failure)) if failure.code == FailureCode::InvalidValue && !self.resubscribed => {
                // The server's log is behind what the page has seen (a fresh
                // database): start the stream over from the snapshot.
                self.resubscribed = true;
                self.board.reset_reports();
                self.subscribe();
            }
            (Pending::Intervals, result) => {
                self.intervals_in_flight = false;
                match result.map(serde_json::from_value::<Intervals>) {
                    Ok(Ok(intervals)) => self.insight.apply_intervals(intervals),
                    Ok(Err(error)) => self.error = Some(format!("Today's figures could not be read: {error}")),
                    Err(failure) => self.error = Some(format!("Today's figures are unavailable: {}", failure.message)),
                }
                if std::mem::take(&mut self.intervals_stale) {
                    self.refresh_intervals(local_now);
                }
            }
            (Pending::Monitor(interaction), result) => {
                let Some(chat) = self.monitored.as_mut().filter(|chat| chat.interaction == interaction.as_str()) else {
                    return;
                };
                match result.map(serde_json::from_value::<Monitoring>) {
                    Ok(Ok(monitoring)) => chat.apply_monitoring(monitoring),
                    Ok(Err(error)) => chat.error = Some(format!("The chat could not be read: {error}")),
                    Err(failure) => {
                        // `not-found`: the chat is over (or never was).
                        chat.ended = failure.code == FailureCode::NotFound;
                        chat.error = Some(format!("Cannot monitor this chat: {}", failure.message));
                    }
                }
            }
            (Pending::Barge(interaction), result) => {
                if let Some(chat) = self.monitored.as_mut().filter(|chat| chat.interaction == interaction.as_str()) {
                    match result {
                        Ok(_) => chat.barged = true,
                        Err(failure) => chat.error = Some(format!("Could not barge in: {}", failure.message)),
                    }
                }
            }
            (Pending::ChatAction, Ok(_)) => {}
            (Pending::ChatAction, Err(failure)) => match self.monitored.as_mut() {
                Some(chat) => chat.error = Some(format!("The server refused: {}", failure.message)),
                None => self.error = Some(format!("The server refused a request: {}", failure.message)),
            },
            (Pending::Subscribe | Pending::Watch, Ok(_)) => {}
            (Pending::Snapshot | Pending::Subscribe | Pending::Watch, Err(failure)) => {
                self.error = Some(format!("The server refused a request: {}", failure.message));
            }
        }
    }

    /// Asks for today's intervals, or, while an answer is on its way, for
    /// one more after it (one request at a time, however fast the stream moves).
    fn refresh_intervals(&mut self, local_now: Timestamp) {
        if self.intervals_in_flight {
            self.intervals_stale = true;
            return;
        }
        let offset = self.utc_offset_minutes * 60_000;
        let local = local_now.as_millis() as i64 + offset;
        let from = (local - local.rem_euclid(DAY_MS as i64) - offset).max(0) as u64;
        let span = GetIntervals { from: Timestamp(from), to: Timestamp(from + DAY_MS) };
        self.intervals_in_flight = true;
        self.send(SupervisorCommand::GetIntervals(span), Pending::Intervals);
    }

    fn subscribe(&mut self) {
        let after_seq = Some(self.board.resume_after());
        self.send(
            SupervisorCommand::SubscribeReports(SubscribeReports { after_seq, interaction: None }),
            Pending::Subscribe,
        );
    }

    fn send_login(&mut self) {
        let Some((id, password)) = &self.credentials else { return };
        let login = SupervisorLogin { id: id.clone(), password: password.clone() };
        self.send(SupervisorCommand::Login(login), Pending::Login);
    }

    fn send(&mut self, command: SupervisorCommand, pending: Pending) {
        let id = format!("v{}", self.next_id);
        self.next_id += 1;
        let request = Request::new(command).with_id(RequestId::new(id.clone()));
        // Serialising these plain types cannot fail (string keys only).
        if let Ok(frame) = serde_json::to_string(&request) {
            self.pending.push((id, pending));
            self.outbox.push(frame);
        }
    }
}

/// Whether a report changes a figure (contacts and agents; property and
/// service entries do not).
fn counts_in_figures(body: &ReportBody) -> bool {
    !matches!(
        body,
        ReportBody::EventPropertiesChanged(_)
            | ReportBody::EventAttachedDataChanged(_)
            | ReportBody::EventInteractionSubmitted(_)
            | ReportBody::EventExternalServiceRequested(_)
            | ReportBody::EventExternalServiceResponded(_)
            | ReportBody::Unknown
    )
}

/// What the login form says when `login` is refused.
pub fn login_failure_text(failure: &Failure) -> String {
    match failure.code {
        FailureCode::AuthenticationFailed => "Unknown id or wrong password.".into(),
        FailureCode::Forbidden => format!(
            "{}. This page is for supervisors: agents use the agent desktop.",
            capitalised(failure.message.trim_end_matches('.'))
        ),
        _ => format!("Could not log in: {}", failure.message),
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    // ASCII only: `char::to_uppercase` links Unicode's case tables into the page.
    chars.next().map(|first| first.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use serde_json::{Value, json};

    const NOW: Timestamp = Timestamp::from_millis(1_000_000);

    fn sent(session: &mut SupervisorSession) -> Vec<Value> {
        std::iter::from_fn(|| session.poll_transmit()).map(|frame| serde_json::from_str(&frame).unwrap()).collect()
    }

    fn answer(session: &mut SupervisorSession, request: &Value, data: Value) {
        let frame = json!({"id": request["id"], "command": request["command"], "result": "success", "data": data});
        session.handle_frame(&frame.to_string(), NOW).unwrap();
    }

    fn refuse(session: &mut SupervisorSession, request: &Value, code: &str, message: &str) {
        let frame = json!({"id": request["id"], "command": request["command"], "result": "failure",
                           "failure": {"code": code, "message": message}});
        session.handle_frame(&frame.to_string(), NOW).unwrap();
    }

    fn snapshot(report_seq: u64) -> Value {
        json!({"time": 1_000_000, "reportSeq": report_seq, "queues": [{"name": "Billing", "waiting": 1, "oldestSince": 990_000}],
               "agents": [], "chats": []})
    }

    fn report(seq: u64) -> String {
        json!({"report": {"seq": seq, "time": 1, "interaction": "I1", "kind": "interaction.routed",
                          "data": {"agent": "alice", "session": "S1"}}})
        .to_string()
    }

    /// Logs in over a fresh connection and answers through `getSnapshot`;
    /// returns the subscribe and watch requests.
    fn go_live(session: &mut SupervisorSession, report_seq: u64) -> (Value, Value) {
        session.handle_connected();
        let login = sent(session);
        assert_eq!(login.len(), 1);
        assert_eq!(login[0]["command"], "login");
        answer(session, &login[0], json!({"id": "sam", "name": "Sam Rivera"}));
        let snapshot_request = sent(session);
        assert_eq!(snapshot_request[0]["command"], "getSnapshot");
        answer(session, &snapshot_request[0], snapshot(report_seq));
        let next = sent(session);
        assert_eq!(next.len(), 3);
        assert_eq!(next[2]["command"], "getIntervals", "today's figures");
        (next[0].clone(), next[1].clone())
    }

    #[test]
    fn todays_figures_are_asked_for_once_at_a_time_and_again_when_the_stream_moves() {
        let mut session = SupervisorSession::new();
        session.set_utc_offset(60);
        session.log_in("sam", Password::new("demo-sam"));
        session.handle_connected();
        let login = sent(&mut session);
        answer(&mut session, &login[0], json!({"id": "sam", "name": "Sam Rivera"}));
        let snapshot_request = sent(&mut session);
        answer(&mut session, &snapshot_request[0], snapshot(5));
        let asked = sent(&mut session).pop().unwrap();
        // NOW is 00:16:40 UTC on 1970-01-01, 01:16:40 at UTC+1: the local day began at 23:00 UTC the day before,
        // which is before the epoch, so it starts at 0.
        assert_eq!(asked["data"], json!({"from": 0, "to": 86_400_000}));
        // Reports that count arrive while the answer is on its way: one more request after it, not one each.
        session.handle_frame(&report(6), NOW).unwrap();
        session.handle_frame(&report(7), NOW).unwrap();
        assert!(sent(&mut session).is_empty(), "one request at a time");
        let rows = json!({"rows": [{"start": 0, "scope": {"queue": "Billing"}, "figures": {"offered": 2, "answered": 1, "answeredInTarget": 1}}],
                          "targets": [{"queue": "Billing", "withinMs": 60000, "share": 80}]});
        answer(&mut session, &asked, rows);
        assert!(session.insight().has_intervals());
        assert_eq!(session.insight().queues(&[])[0].today.offered, 2);
        let again = sent(&mut session);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0]["command"], "getIntervals");
        // A property change does not move a figure.
        answer(&mut session, &again[0], json!({"rows": [], "targets": []}));
        let property = json!({"report": {"seq": 8, "time": 1, "interaction": "I1", "kind": "EventPropertiesChanged",
                                         "data": {"version": 2, "changed": {"Tier": "gold"}, "by": "alice"}}});
        session.handle_frame(&property.to_string(), NOW).unwrap();
        assert!(sent(&mut session).is_empty());
    }

    #[test]
    fn monitors_one_chat_whispers_barges_and_monitors_again_after_a_reconnect() {
        let mut session = SupervisorSession::new();
        session.log_in("sam", Password::new("demo-sam"));
        go_live(&mut session, 0);
        session.whisper("too early");
        assert!(sent(&mut session).is_empty(), "nothing is monitored");

        session.monitor("I7");
        let monitor = sent(&mut session);
        assert_eq!(monitor[0]["command"], "monitor");
        assert_eq!(monitor[0]["data"], json!({"interaction": "I7"}));
        session.whisper("before the transcript");
        assert!(sent(&mut session).is_empty(), "not before the answer");
        let transcript = json!({"interaction": "I7", "customer": {"kind": "customer", "name": "James Bond"}, "agent": "bob",
                                "transcript": {"messages": [{"messageId": 1, "from": {"kind": "customer", "name": "James Bond"},
                                                             "text": "Hello", "time": 1}]}});
        answer(&mut session, &monitor[0], transcript.clone());
        let chat = session.monitored().unwrap();
        assert_eq!((chat.loaded, chat.agent.as_deref(), chat.lines.len()), (true, Some("bob"), 1));

        // Live frames of this chat only.
        let frame = |interaction: &str, id: u64| {
            json!({"monitor": {"interaction": interaction, "event": "chat.message",
                               "data": {"messageId": id, "from": {"kind": "agent", "id": "bob", "name": "Bob"}, "text": "Hi", "time": 2}}})
            .to_string()
        };
        session.handle_frame(&frame("I7", 2), NOW).unwrap();
        session.handle_frame(&frame("I9", 3), NOW).unwrap();
        assert_eq!(session.monitored().unwrap().lines.len(), 2);

        session.whisper("  Offer the voucher ");
        session.say("not barged yet");
        let whisper = sent(&mut session);
        assert_eq!(whisper.len(), 1);
        assert_eq!(whisper[0]["data"], json!({"interaction": "I7", "clientId": "w1", "text": "Offer the voucher"}));
        session.barge();
        let barge = sent(&mut session);
        assert_eq!(barge[0]["command"], "barge");
        answer(&mut session, &barge[0], Value::Null);
        assert!(session.monitored().unwrap().barged);
        session.say("I am Sam");
        assert_eq!(sent(&mut session)[0]["command"], "sendMessage");

        // A refused whisper says why on the chat.
        session.whisper("again");
        let refused = sent(&mut session);
        refuse(&mut session, &refused[0], "invalid-state", "monitor chat `I7` first");
        assert!(session.monitored().unwrap().error.as_deref().is_some_and(|error| error.contains("monitor chat")));

        // A reconnect logs in and monitors again; the answer replaces the transcript.
        session.handle_disconnected();
        session.handle_connected();
        let login = sent(&mut session);
        answer(&mut session, &login[0], json!({"id": "sam", "name": "Sam Rivera"}));
        let again = sent(&mut session);
        let monitor = again.iter().find(|frame| frame["command"] == "monitor").expect("monitored again");
        answer(&mut session, monitor, transcript);
        assert_eq!(session.monitored().unwrap().lines.len(), 1);

        // Another chat: the first is stopped.
        session.monitor("I8");
        let switched: Vec<Value> = sent(&mut session);
        assert_eq!(switched[0]["command"], "stopMonitor");
        assert_eq!(switched[0]["data"], json!({"interaction": "I7"}));
        assert_eq!(switched[1]["command"], "monitor");
        refuse(&mut session, &switched[1], "not-found", "interaction `I8` is not live");
        let gone = session.monitored().unwrap();
        assert!(gone.ended && gone.error.is_some());
        session.stop_monitor();
        assert!(sent(&mut session).is_empty(), "an ended chat needs no stopMonitor");
        assert!(session.monitored().is_none());
    }

    #[test]
    fn logs_in_then_takes_the_snapshot_and_subscribes_after_it() {
        let mut session = SupervisorSession::new();
        assert!(!session.wants_socket());
        session.log_in(" sam ", Password::new("demo-sam"));
        assert!(session.wants_socket());
        assert_eq!(session.stage(), Stage::LoggingIn);
        assert!(sent(&mut session).is_empty(), "nothing is written before the socket opens");

        session.handle_connected();
        let login = sent(&mut session);
        assert_eq!(
            login[0],
            json!({"id": "v1", "command": "login", "data": {"id": "sam", "password": "demo-sam"}}),
            "the documented shape"
        );
        answer(&mut session, &login[0], json!({"id": "sam", "name": "Sam Rivera"}));
        assert_eq!(session.stage(), Stage::Live);
        assert_eq!(session.profile().map(|p| p.name.as_str()), Some("Sam Rivera"));
        let get = sent(&mut session);
        assert_eq!(get, [json!({"id": "v2", "command": "getSnapshot"})]);
        answer(&mut session, &get[0], snapshot(40));
        let next = sent(&mut session);
        assert_eq!(next[0], json!({"id": "v3", "command": "subscribeReports", "data": {"afterSeq": 0}}));
        assert_eq!(next[1], json!({"id": "v4", "command": "watchSnapshot"}));
        answer(&mut session, &next[0], json!({"lastSeq": 40}));
        assert_eq!(session.board().queue_rows(NOW)[0].waiting, 1);

        // Live frames change the board.
        session.handle_frame(&report(41), NOW).unwrap();
        assert_eq!(session.board().last_seq(), Some(41));
        let mut fresh = snapshot(41);
        fresh["queues"][0]["waiting"] = json!(3);
        session.handle_frame(&json!({"snapshot": fresh}).to_string(), NOW).unwrap();
        assert_eq!(session.board().queue_rows(NOW)[0].waiting, 3);
        assert!(session.handle_frame("{\"hello\":1}", NOW).is_err());
    }

    #[test]
    fn a_reconnect_logs_in_again_and_resumes_after_the_last_report() {
        let mut session = SupervisorSession::new();
        session.log_in("sam", Password::new("demo-sam"));
        let (subscribe, _) = go_live(&mut session, 3);
        assert_eq!(subscribe["data"]["afterSeq"], 0);
        for seq in 1..=5 {
            session.handle_frame(&report(seq), NOW).unwrap();
        }

        session.handle_disconnected();
        assert!(session.reconnecting(), "the banner shows");
        assert!(session.wants_socket());
        let (subscribe, _) = go_live(&mut session, 7);
        assert!(!session.reconnecting());
        assert_eq!(subscribe["data"], json!({"afterSeq": 5}), "after the last seq handled");
        // The replay overlaps nothing, but a doubled frame is dropped anyway.
        for seq in [5, 6, 7, 7] {
            session.handle_frame(&report(seq), NOW).unwrap();
        }
        let seqs: Vec<u64> = session.board().stream("").iter().map(|row| row.seq).collect();
        assert_eq!(seqs, [7, 6, 5, 4, 3, 2, 1], "nothing missed, nothing twice");
    }

    #[test]
    fn a_log_behind_the_page_starts_the_stream_over_once() {
        let mut session = SupervisorSession::new();
        session.log_in("sam", Password::new("demo-sam"));
        go_live(&mut session, 0);
        for seq in 1..=9 {
            session.handle_frame(&report(seq), NOW).unwrap();
        }
        session.handle_disconnected();
        // The server came back with a fresh database: seq 9 is ahead of it.
        let (subscribe, _) = go_live(&mut session, 2);
        assert_eq!(subscribe["data"]["afterSeq"], 9);
        refuse(
            &mut session,
            &subscribe,
            "invalid-value",
            "afterSeq 9 is ahead of the reporting stream, which ends at 2",
        );
        let again = sent(&mut session);
        assert_eq!(again[0]["data"], json!({"afterSeq": 0}));
        assert!(session.board().stream("").is_empty());
        refuse(&mut session, &again[0], "invalid-value", "still ahead");
        assert!(sent(&mut session).is_empty(), "no loop");
        assert!(session.error().is_some_and(|error| error.contains("still ahead")));
    }

    #[test]
    fn refused_logins_explain_themselves_and_drop_the_socket() {
        let mut session = SupervisorSession::new();
        session.handle_connected();
        session.log_in("bob", Password::new("demo-bob"));
        let login = sent(&mut session);
        refuse(&mut session, &login[0], "forbidden", "agent `bob` is not a supervisor");
        assert_eq!(session.stage(), Stage::LoggedOut);
        assert!(!session.wants_socket());
        assert_eq!(
            session.login_error(),
            Some("Agent `bob` is not a supervisor. This page is for supervisors: agents use the agent desktop.")
        );

        session.log_in("sam", Password::new("nope"));
        assert_eq!(session.login_error(), None, "a new attempt clears the old error");
        let login = sent(&mut session);
        refuse(&mut session, &login[0], "authentication-failed", "Unknown agent id or wrong password.");
        assert_eq!(session.login_error(), Some("Unknown id or wrong password."));

        session.log_in("", Password::new("x"));
        assert_eq!(session.login_error(), Some("Enter your id and password."));
        assert!(!session.wants_socket());
    }

    #[test]
    fn a_server_that_cannot_be_reached_is_said_so_on_the_form() {
        let mut session = SupervisorSession::new();
        session.log_in("sam", Password::new("demo-sam"));
        assert!(!session.unreachable(), "not before the first attempt fails");
        session.handle_disconnected();
        assert!(session.unreachable());
        assert!(session.wants_socket(), "still trying");
        go_live(&mut session, 0);
        assert!(!session.unreachable());
        session.handle_disconnected();
        assert!(!session.unreachable(), "once live, the banner says it instead");
        assert!(session.reconnecting());
    }

    #[test]
    fn frames_before_login_and_stale_answers_change_nothing() {
        let mut session = SupervisorSession::new();
        session.log_in("sam", Password::new("demo-sam"));
        session.handle_connected();
        let login = sent(&mut session);
        session.handle_frame(&report(1), NOW).unwrap();
        assert_eq!(session.board().last_seq(), None, "not live yet");
        // The socket drops before the answer; the late answer is ignored.
        session.handle_disconnected();
        answer(&mut session, &login[0], json!({"id": "sam", "name": "Sam"}));
        assert_eq!(session.stage(), Stage::LoggingIn);
        session.log_out();
        assert!(!session.wants_socket());
        assert_eq!(session.stage(), Stage::LoggedOut);
    }
}
