//! The agent desktop's view model: plain data the components draw, and what
//! the user can ask for.
//!
//! [`DeskView`] is updated only from an [`AgentClient`] (`absorb` drains its
//! outputs, then mirrors its phase), so these rules are tested natively by
//! feeding the real state machine JSON frames; no browser, socket or clock.

use super::chats::Chats;
use super::words::{LOGGED_OUT_NOTICE, describe_failure, ended_notice};
use serde_json::Value;
use std::time::Duration;
use switchboard_protocol::address::Address;
use switchboard_protocol::client::{AgentClient, ClientOutput, Phase};
use switchboard_protocol::ids::AgentId;
use switchboard_protocol::message::agent::{AgentState, LabelledCode};
use switchboard_protocol::message::agent_tools::ServiceAction;
use switchboard_protocol::message::failure::Failure;
use switchboard_protocol::message::service::Password;
use switchboard_protocol::time::Timestamp;

/// What the user asks the connection to do. Components only send these;
/// the connection module turns them into `AgentClient` commands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserAction {
    LogIn {
        agent: String,
        password: Password,
    },
    /// Answer "take it over?" with yes.
    TakeOver,
    /// Answer "take it over?" with no.
    DeclineTakeover,
    SetReady,
    SetNotReady {
        reason: String,
    },
    SetAfterChatWork,
    LogOut,
    AcceptOffer(String),
    RejectOffer(String),
    /// Show this chat (clears its unread count); no request.
    OpenChat(String),
    SendMessage {
        chat: String,
        text: String,
    },
    /// The agent typed (`true`) or stopped (`false`); throttled before sending.
    Typing {
        chat: String,
        active: bool,
    },
    Leave(String),
    Transfer {
        chat: String,
        to: Address,
    },
    SetProperty {
        chat: String,
        name: String,
        value: Value,
    },
    RemoveProperty {
        chat: String,
        name: String,
    },
    MarkDone {
        chat: String,
        disposition: Option<String>,
    },
    /// Load the verified customer's earlier chats (`getHistory`).
    ShowHistory(String),
    /// Call a services-menu entry on this chat (`request3rdServer`).
    CallService {
        chat: String,
        action: ServiceAction,
    },
    /// Ask a colleague to consult on the chat.
    Consult {
        chat: String,
        to: Address,
    },
    Conference(String),
    CompleteTransfer(String),
    CancelConsult(String),
    /// A line of the private thread with the colleague.
    SendPrivate {
        chat: String,
        text: String,
    },
    AddNote {
        chat: String,
        text: String,
    },
}

/// Everything the desktop draws. Plain data: a test can build one by hand.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeskView {
    pub login: LoginView,
    /// Present from the first successful bind until the session ends; kept
    /// while the connection is down so the agent still sees who they are.
    pub session: Option<SessionView>,
    /// The connection dropped under a bound session and is being restored.
    pub reconnecting: bool,
    /// Offers and chats of the session.
    pub chats: Chats,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoginView {
    /// A login is in flight: the form is disabled.
    pub waiting: bool,
    /// Why the last login failed (shown in an alert region).
    pub error: Option<String>,
    /// Why the previous session ended (taken over, logged out…).
    pub notice: Option<String>,
    /// The server's "a session exists" message while the user decides.
    pub takeover_prompt: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionView {
    pub agent_id: String,
    pub agent_name: String,
    pub session_id: String,
    pub state: AgentState,
    /// When this client first saw `state` (local clock).
    pub state_since: Timestamp,
    pub not_ready_reasons: Vec<LabelledCode>,
    /// Wrap-up codes for `markDone`, and whether one must be chosen.
    pub dispositions: Vec<LabelledCode>,
    pub disposition_required: bool,
    /// The agent's groups (transfer targets).
    pub groups: Vec<String>,
    /// A state change (or logout) is in flight.
    pub changing: bool,
    /// Why the last request failed.
    pub error: Option<String>,
}

/// What the driver must do after `absorb`, beyond redrawing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use]
pub struct Absorbed {
    /// `endSession` was answered: drop the client and its socket.
    pub logged_out: bool,
}

impl DeskView {
    /// Drains `client`'s outputs into the view, then mirrors its phase.
    pub fn absorb(&mut self, client: &mut AgentClient, now: Timestamp) -> Absorbed {
        let mut absorbed = Absorbed::default();
        while let Some(output) = client.poll_output() {
            match output {
                ClientOutput::LoginFailed(failure) => self.login_failed(client.phase(), &failure),
                // Whatever the server answers, the agent asked to leave.
                ClientOutput::RequestSucceeded { command: "endSession", .. }
                | ClientOutput::RequestFailed { command: "endSession", .. } => absorbed.logged_out = true,
                ClientOutput::RequestFailed { request, failure, .. } if self.chats.settle(&request, Err(&failure)) => {}
                ClientOutput::RequestSucceeded { request, .. } if self.chats.settle(&request, Ok(())) => {}
                ClientOutput::RequestFailed { command, failure, .. } => {
                    if let Some(session) = &mut self.session {
                        session.changing = false;
                        session.error = Some(format!("{}: {}", failed_action(command), describe_failure(&failure)));
                    }
                }
                ClientOutput::RequestSucceeded { .. } => {
                    if let Some(session) = &mut self.session {
                        session.changing = false;
                        session.error = None;
                    }
                }
                ClientOutput::Bound { session, snapshot } => {
                    let same = self.session.as_ref().is_some_and(|view| view.session_id == session.as_str());
                    if !same {
                        // A new session: its chats are announced afresh.
                        self.chats = Chats::new(snapshot.agent.id.as_str());
                        self.chats.my_name = snapshot.agent.name.clone();
                    }
                    let settings = client.settings();
                    self.chats.auto_answer = settings.auto_answer;
                    self.chats.waiting_alarm = settings.waiting_alarm_secs.map(Duration::from_secs);
                    self.chats.responses = settings.responses.clone();
                    self.chats.services = settings.services.clone();
                }
                ClientOutput::History { request, history } => {
                    self.chats.history_arrived(&request, history);
                }
                ClientOutput::Event(event) => self.chats.apply(&event),
                // These change the phase, which `sync` draws below.
                ClientOutput::TakeoverPrompt(_) | ClientOutput::SessionEnded(_) | ClientOutput::ConnectionLost => {}
            }
        }
        if absorbed.logged_out {
            self.logged_out();
        } else {
            self.sync(client.phase(), now);
        }
        absorbed
    }

    /// Back to the login form after the agent logged out.
    pub fn logged_out(&mut self) {
        self.session = None;
        self.chats = Chats::default();
        self.reconnecting = false;
        self.login = LoginView { notice: Some(LOGGED_OUT_NOTICE.to_owned()), ..LoginView::default() };
    }

    /// Marks a state change or logout as in flight.
    pub fn start_change(&mut self) {
        if let Some(session) = &mut self.session {
            session.changing = true;
            session.error = None;
        }
    }

    fn login_failed(&mut self, phase: &Phase, failure: &Failure) {
        if matches!(phase, Phase::Disconnected { .. }) {
            // A resume attempt lost its socket; the reconnect loop tries again.
            return;
        }
        let reason = describe_failure(failure);
        self.login.error =
            Some(if self.session.is_some() { format!("Your session could not be resumed: {reason}") } else { reason });
    }

    /// Mirrors the client's phase. Idempotent: calling it twice changes nothing.
    pub fn sync(&mut self, phase: &Phase, now: Timestamp) {
        match phase {
            Phase::LoggedOut => {
                self.session = None;
                self.chats = Chats::default();
                self.reconnecting = false;
                self.login.waiting = false;
                self.login.takeover_prompt = None;
            }
            Phase::ExpectSession { .. } => {
                self.login = LoginView { waiting: true, ..LoginView::default() };
            }
            Phase::ExpectTakeoverDecision { prompt } => {
                self.login.waiting = true;
                self.login.takeover_prompt = Some(prompt.clone());
            }
            Phase::ExpectBound { .. } | Phase::Disconnected { .. } if self.session.is_some() => {
                self.reconnecting = true;
            }
            Phase::ExpectBound { .. } | Phase::Disconnected { .. } => {
                self.login.waiting = true;
                self.login.takeover_prompt = None;
            }
            Phase::Bound { session, snapshot } => {
                let previous = self.session.take().filter(|view| view.session_id == session.as_str());
                let state_since = match &previous {
                    Some(view) if view.state == snapshot.state => view.state_since,
                    _ => now,
                };
                let (changing, error) = previous.map(|view| (view.changing, view.error)).unwrap_or_default();
                self.session = Some(SessionView {
                    agent_id: snapshot.agent.id.to_string(),
                    agent_name: snapshot.agent.name.clone(),
                    session_id: session.to_string(),
                    state: snapshot.state.clone(),
                    state_since,
                    not_ready_reasons: snapshot.not_ready_reasons.clone(),
                    dispositions: snapshot.dispositions.clone(),
                    disposition_required: snapshot.disposition_required,
                    groups: snapshot.agent.groups.clone(),
                    changing,
                    error,
                });
                self.reconnecting = false;
                self.login = LoginView::default();
            }
            Phase::Ended(ended) => {
                self.session = None;
                self.chats = Chats::default();
                self.reconnecting = false;
                self.login.waiting = false;
                self.login.takeover_prompt = None;
                self.login.notice = Some(ended_notice(ended));
            }
        }
    }
}

/// Checks the login form before anything is sent.
pub fn check_credentials(agent: &str, password: &str) -> Result<(AgentId, Password), &'static str> {
    let agent = agent.trim();
    if agent.is_empty() || password.is_empty() {
        return Err("Enter your agent ID and password.");
    }
    Ok((AgentId::new(agent), Password::new(password)))
}

fn failed_action(command: &str) -> &'static str {
    match command {
        "ready" | "notReady" | "afterChatWork" => "Could not change your state",
        _ => "The request failed",
    }
}

#[cfg(test)]
mod tests {
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    use super::*;
    use crate::desk::words::TAKEN_OVER_NOTICE;
    use switchboard_protocol::message::ServerMessage;

    const TIMEOUT: Duration = Duration::from_secs(10);

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    /// One step of the driver: hand the client a frame, then absorb.
    fn receive(client: &mut AgentClient, view: &mut DeskView, now: u64, frame: &str) -> Absorbed {
        let message = ServerMessage::from_json(frame).expect("test frame parses");
        client.handle_message(at(now), message).expect("no protocol violation");
        view.absorb(client, at(now))
    }

    fn snapshot_json(state: &str) -> String {
        format!(
            r#"{{"agent":{{"id":"alice","name":"Alice Liddell","capacity":3}},"state":{state},
               "notReadyReasons":[{{"code":"lunch","label":"Lunch"}},{{"code":"training","label":"Training"}}],
               "dispositions":[],"dispositionRequired":false,"lastSeq":4}}"#
        )
    }

    /// Logs in and binds: requests 1 (prepareSession) and 2 (bind).
    fn bound() -> (AgentClient, DeskView) {
        bound_with("")
    }

    /// As `bound`, with `extra` fields (`,"settings":…`) in the bind answer's data.
    fn bound_with(extra: &str) -> (AgentClient, DeskView) {
        let mut client = AgentClient::new(TIMEOUT);
        let mut view = DeskView::default();
        client.login(at(0), AgentId::new("alice"), Password::new("pw")).unwrap();
        let _ = view.absorb(&mut client, at(0));
        let _ = receive(
            &mut client,
            &mut view,
            10,
            r#"{"id":"1","command":"prepareSession","result":"success",
                "resource":{"id":"S-1","token":"T-secret",
                            "data":{"agent":{"id":"alice","password":"********"}}}}"#,
        );
        let data = snapshot_json(r#"{"state":"notReady"}"#);
        let data = format!("{}{extra}}}", data.trim_end().trim_end_matches('}'));
        let bind = format!(r#"{{"id":"2","command":"bind","target":"S-1","result":"success","data":{data}}}"#);
        let _ = receive(&mut client, &mut view, 20, &bind);
        (client, view)
    }

    #[test]
    fn login_waits_then_shows_the_session_after_bind() {
        let mut client = AgentClient::new(TIMEOUT);
        let mut view =
            DeskView { login: LoginView { error: Some("old".into()), ..LoginView::default() }, ..DeskView::default() };
        client.login(at(0), AgentId::new("alice"), Password::new("pw")).unwrap();
        let _ = view.absorb(&mut client, at(0));
        assert!(view.login.waiting);
        assert_eq!(view.login.error, None, "a new attempt clears the old error");

        let (_, view) = bound();
        let session = view.session.expect("bound");
        assert_eq!(session.agent_name, "Alice Liddell");
        assert_eq!(session.session_id, "S-1");
        assert_eq!(session.state, AgentState::NotReady { reason: None });
        assert_eq!(session.state_since, at(20));
        assert_eq!(view.login, LoginView::default());
        assert!(!view.reconnecting);
    }

    #[test]
    fn the_agents_settings_from_bind_reach_the_chats() {
        let (_, view) = bound();
        assert!(!view.chats.auto_answer);
        assert_eq!(view.chats.alarm_after(), crate::desk::chats::WAITING_ALARM, "the default without settings");

        let (_, view) = bound_with(r#","settings":{"autoAnswer":true,"waitingAlarmSecs":90}"#);
        assert!(view.chats.auto_answer);
        assert_eq!(view.chats.alarm_after(), Duration::from_secs(90));
    }

    #[test]
    fn authentication_failure_is_shown_and_the_form_is_enabled_again() {
        let mut client = AgentClient::new(TIMEOUT);
        let mut view = DeskView::default();
        client.login(at(0), AgentId::new("alice"), Password::new("wrong")).unwrap();
        let _ = view.absorb(&mut client, at(0));
        let _ = receive(
            &mut client,
            &mut view,
            5,
            r#"{"id":"1","command":"prepareSession","result":"failure",
                "failure":{"code":"authentication-failed","message":"Unknown agent or wrong password."}}"#,
        );
        assert_eq!(view.login.error.as_deref(), Some("Unknown agent or wrong password."));
        assert!(!view.login.waiting);
        assert!(view.session.is_none());
    }

    #[test]
    fn takeover_prompt_shows_the_server_message_and_clears_when_answered() {
        let mut client = AgentClient::new(TIMEOUT);
        let mut view = DeskView::default();
        client.login(at(0), AgentId::new("alice"), Password::new("pw")).unwrap();
        let _ = view.absorb(&mut client, at(0));
        let _ = receive(
            &mut client,
            &mut view,
            5,
            r#"{"id":"1","command":"prepareSession","result":"confirm",
                "message":"Agent alice already has a session.","original":{}}"#,
        );
        assert_eq!(view.login.takeover_prompt.as_deref(), Some("Agent alice already has a session."));

        client.decline_takeover().unwrap();
        let _ = view.absorb(&mut client, at(6));
        assert_eq!(view.login.takeover_prompt, None);
        assert!(!view.login.waiting);
    }

    #[test]
    fn state_events_update_the_state_and_restart_its_timer() {
        let (mut client, mut view) = bound();
        let _ = receive(
            &mut client,
            &mut view,
            1_000,
            r#"{"seq":5,"target":"S-1","time":999,"event":"session.state","data":{"state":"ready"}}"#,
        );
        let session = view.session.as_ref().unwrap();
        assert_eq!(session.state, AgentState::Ready);
        assert_eq!(session.state_since, at(1_000));

        // An unrelated step keeps the start time.
        let _ = view.absorb(&mut client, at(5_000));
        assert_eq!(view.session.as_ref().unwrap().state_since, at(1_000));
    }

    #[test]
    fn a_failed_state_change_shows_why() {
        let (mut client, mut view) = bound();
        client.set_not_ready(at(100), "lunch".into()).unwrap();
        view.start_change();
        let _ = view.absorb(&mut client, at(100));
        assert!(view.session.as_ref().unwrap().changing);
        let _ = receive(
            &mut client,
            &mut view,
            200,
            r#"{"id":"3","command":"notReady","target":"S-1","result":"failure",
                "failure":{"code":"invalid-value","message":"Unknown reason code."}}"#,
        );
        let session = view.session.as_ref().unwrap();
        assert!(!session.changing);
        assert_eq!(session.error.as_deref(), Some("Could not change your state: Unknown reason code."));
    }

    #[test]
    fn taken_over_session_returns_to_login_with_the_notice() {
        let (mut client, mut view) = bound();
        let _ = receive(
            &mut client,
            &mut view,
            50,
            r#"{"seq":5,"target":"S-1","time":49,"event":"session.ended",
                "data":{"reason":"takenOver","message":"whatever the server says"}}"#,
        );
        assert!(view.session.is_none());
        assert_eq!(view.login.notice.as_deref(), Some(TAKEN_OVER_NOTICE));
    }

    #[test]
    fn a_dropped_connection_keeps_the_session_visible_while_reconnecting() {
        let (mut client, mut view) = bound();
        client.handle_disconnect();
        let _ = view.absorb(&mut client, at(100));
        assert!(view.reconnecting);
        assert!(view.session.is_some());

        // The new socket fails before the bind is answered: still reconnecting, no error.
        client.reconnect(at(600)).unwrap();
        let _ = view.absorb(&mut client, at(600));
        client.handle_disconnect();
        let _ = view.absorb(&mut client, at(700));
        assert!(view.reconnecting);
        assert_eq!(view.login.error, None);

        // The next attempt binds again; the timer keeps running for the same state.
        client.reconnect(at(2_000)).unwrap();
        let _ = view.absorb(&mut client, at(2_000));
        let rebind = format!(
            r#"{{"id":"4","command":"bind","target":"S-1","result":"success","data":{}}}"#,
            snapshot_json(r#"{"state":"notReady"}"#)
        );
        let _ = receive(&mut client, &mut view, 2_100, &rebind);
        assert!(!view.reconnecting);
        assert_eq!(view.session.as_ref().unwrap().state_since, at(20));
    }

    #[test]
    fn a_refused_resume_returns_to_login_and_says_why() {
        let (mut client, mut view) = bound();
        client.handle_disconnect();
        client.reconnect(at(600)).unwrap();
        let _ = view.absorb(&mut client, at(600));
        let _ = receive(
            &mut client,
            &mut view,
            700,
            r#"{"id":"3","command":"bind","target":"S-1","result":"failure",
                "failure":{"code":"unknown-session","message":"The session has ended."}}"#,
        );
        assert!(view.session.is_none());
        assert!(!view.reconnecting);
        assert_eq!(view.login.error.as_deref(), Some("Your session could not be resumed: The session has ended."));
    }

    #[test]
    fn end_session_answer_logs_out() {
        let (mut client, mut view) = bound();
        client.end_session(at(100)).unwrap();
        let absorbed = receive(
            &mut client,
            &mut view,
            150,
            r#"{"id":"3","command":"endSession","target":"S-1","result":"success"}"#,
        );
        assert!(absorbed.logged_out);
        assert!(view.session.is_none());
        assert_eq!(view.login.notice.as_deref(), Some(LOGGED_OUT_NOTICE));
    }

    #[test]
    fn a_login_timeout_reads_as_a_connection_problem() {
        let mut client = AgentClient::new(TIMEOUT);
        let mut view = DeskView::default();
        client.login(at(0), AgentId::new("alice"), Password::new("pw")).unwrap();
        let _ = view.absorb(&mut client, at(0));
        client.handle_timeout(at(10_000));
        let _ = view.absorb(&mut client, at(10_000));
        assert!(view.login.error.as_deref().unwrap().starts_with("The server did not answer"));
        assert!(!view.login.waiting);
    }

    #[test]
    fn credentials_are_trimmed_and_required() {
        assert_eq!(check_credentials("  ", "pw"), Err("Enter your agent ID and password."));
        assert_eq!(check_credentials("alice", ""), Err("Enter your agent ID and password."));
        let (agent, password) = check_credentials(" alice ", " pw ").unwrap();
        assert_eq!(agent.as_str(), "alice");
        assert_eq!(password.expose(), " pw ", "passwords are taken as typed");
    }
}
