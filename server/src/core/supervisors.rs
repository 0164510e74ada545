//! `/ws/supervisor`: login, the center snapshot, and the reporting stream.

use super::batch::Batch;
use super::connections::Endpoint;
use super::{ConnectionId, Core, Output, recovering};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::failure::{Failure, FailureCode};
use switchboard_protocol::message::intervals::{GetIntervals, IntervalRow, QueueTarget};
use switchboard_protocol::message::supervisor::{CenterSnapshot, Subscribed, SupervisorCommand, SupervisorProfile};
use switchboard_protocol::time::Timestamp;

impl Core {
    /// `login`, once the edge has checked the password (`verified`).
    pub fn handle_supervisor_login(
        &mut self,
        connection: ConnectionId,
        request: &Request<SupervisorCommand>,
        verified: bool,
        now: Timestamp,
    ) {
        self.heard_from(connection, Endpoint::Supervisor, now);
        let SupervisorCommand::Login(login) = &request.command else {
            return self
                .respond_now(connection, request.failure(Failure::new(FailureCode::InvalidRequest, "not a login")));
        };
        if !verified {
            tracing::info!(agent = %login.id, "supervisor login refused: wrong id or password");
            let failure = Failure::new(FailureCode::AuthenticationFailed, "Unknown agent id or wrong password.");
            return self.respond_now(connection, request.failure(failure));
        }
        if !self.center.config.is_supervisor(login.id.as_str()) {
            tracing::info!(agent = %login.id, "supervisor login refused: not a supervisor");
            self.set_supervisor(connection, None);
            let failure = Failure::new(FailureCode::Forbidden, format!("agent `{}` is not a supervisor", login.id));
            return self.respond_now(connection, request.failure(failure));
        }
        self.set_supervisor(connection, Some(login.id.clone()));
        tracing::info!(supervisor = %login.id, "supervisor logged in");
        let name = self.center.config.agent(login.id.as_str()).map(|entry| entry.name.clone());
        let profile = SupervisorProfile { id: login.id.clone(), name: name.unwrap_or_else(|| login.id.to_string()) };
        self.respond_now(connection, request.success(serde_json::to_value(profile).ok()));
    }

    fn set_supervisor(&mut self, connection: ConnectionId, supervisor: Option<switchboard_protocol::ids::AgentId>) {
        if let Some(known) = self.connections.get_mut(&connection) {
            known.supervisor = supervisor;
        }
    }

    /// Every `/ws/supervisor` request but `login`.
    pub fn handle_supervisor_request(
        &mut self,
        connection: ConnectionId,
        request: &Request<SupervisorCommand>,
        now: Timestamp,
    ) {
        let logged_in = self.heard_from(connection, Endpoint::Supervisor, now).supervisor.is_some();
        if !logged_in {
            let failure = Failure::new(FailureCode::NotBound, "log in first (send `login`)");
            return self.respond_now(connection, request.failure(failure));
        }
        if self.failed {
            return self.respond_now(connection, request.failure(recovering(self.failure)));
        }
        let mut outputs = Vec::new();
        let mut batch = Batch::new();
        match &request.command {
            SupervisorCommand::Login(_) => {
                let failure = Failure::new(FailureCode::InvalidRequest, "login needs the password check");
                outputs.push(Output::Respond { connection, response: request.failure(failure) });
            }
            SupervisorCommand::GetSnapshot => {
                let snapshot = serde_json::to_value(self.center_snapshot(now)).ok();
                outputs.push(Output::Respond { connection, response: request.success(snapshot) });
            }
            SupervisorCommand::SubscribeReports(subscribe) => {
                // What a snapshot reflects, and so what a subscription
                // without replay starts after.
                let last = self.center.reports.committed_seq();
                match subscribe.after_seq {
                    Some(requested) if requested > last => {
                        let message =
                            format!("afterSeq {requested} is ahead of the reporting stream, which ends at {last}");
                        let failure = Failure::new(FailureCode::InvalidValue, message);
                        outputs.push(Output::Respond { connection, response: request.failure(failure) });
                    }
                    after => {
                        let response = request.success(serde_json::to_value(Subscribed { last_seq: last }).ok());
                        let after = after.unwrap_or(last);
                        let interaction = subscribe.interaction.clone();
                        outputs.push(Output::Subscribe { connection, after, interaction, response });
                    }
                }
            }
            SupervisorCommand::UnsubscribeReports => {
                outputs.push(Output::Unsubscribe { connection });
                outputs.push(Output::Respond { connection, response: request.success(None) });
            }
            SupervisorCommand::WatchSnapshot => {
                // The success goes out before the first snapshot frame.
                outputs.push(Output::Respond { connection, response: request.success(None) });
                outputs.push(Output::Watch { connection, watching: true });
            }
            SupervisorCommand::UnwatchSnapshot => {
                outputs.push(Output::Watch { connection, watching: false });
                outputs.push(Output::Respond { connection, response: request.success(None) });
            }
            SupervisorCommand::GetIntervals(span) => match span.check() {
                Err(message) => {
                    let failure = Failure::new(FailureCode::InvalidValue, message);
                    outputs.push(Output::Respond { connection, response: request.failure(failure) });
                }
                Ok(()) => {
                    let (open, targets) = self.open_intervals(span, now);
                    outputs.push(Output::SendIntervals {
                        connection,
                        request: request.clone(),
                        span: *span,
                        open,
                        targets,
                    });
                }
            },
            SupervisorCommand::Monitor(_)
            | SupervisorCommand::StopMonitor(_)
            | SupervisorCommand::Whisper(_)
            | SupervisorCommand::Barge(_)
            | SupervisorCommand::SendMessage(_)
            | SupervisorCommand::AddNote(_) => {
                let supervisor = self.connections.get(&connection).and_then(|known| known.supervisor.clone());
                let response = match supervisor {
                    Some(supervisor) => {
                        let outcome = self.center.supervisor_chat_request(
                            &mut self.state,
                            &mut batch,
                            connection,
                            &supervisor,
                            &request.command,
                            now,
                        );
                        self.center.drain_router(&mut self.state, &mut batch, now);
                        match outcome {
                            Ok(data) => request.success(data),
                            Err(failure) => request.failure(failure),
                        }
                    }
                    None => request.failure(Failure::new(FailureCode::NotBound, "log in first (send `login`)")),
                };
                outputs.push(Output::Respond { connection, response });
            }
        }
        self.finish(batch, outputs);
    }

    /// The interval rows of `span` not stored yet (the interval in
    /// progress, counted up to `now`) and every queue's service-level target.
    pub fn open_intervals(&mut self, span: &GetIntervals, now: Timestamp) -> (Vec<IntervalRow>, Vec<QueueTarget>) {
        let open = self.intervals.open_rows(span.from, span.to, now);
        (open, self.intervals.targets(&self.center.config))
    }

    /// The whole center at `now`, as supervisors see it.
    pub fn center_snapshot(&self, now: Timestamp) -> CenterSnapshot {
        CenterSnapshot { recent: self.intervals.recent(now), ..self.center.center_snapshot(&self.state, now) }
    }
}
