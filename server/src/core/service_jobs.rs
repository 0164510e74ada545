//! Third-party (ESP) services (`esp-autoresponse.txt`): the center relays
//! `request3rdServer` to the named in-process service and the answer back.
//!
//! 1. `relay_service_request` (under the lock): checks the request, records
//!    EventExternalServiceRequested, and hands back a [`ServiceJob`]; the
//!    request's `success` response means "relayed".
//! 2. `run_service_job` (a task, outside the lock): runs the service under
//!    its timeout, then applies what it asked for through the ordinary paths
//!    (a chat message + EventInteractionSubmitted; the one properties path),
//!    and relays Event3rdServerResponse or Event3rdServerFault to the
//!    requesting session, recording EventExternalServiceResponded.
//!
//! Services configured with `on_chat_created` run the same way for every
//! new chat, asked by `routing` (no session to answer). After a
//! classification, routing may move the waiting chat (`category_routing`).

use super::batch::Batch;
use super::chats::interaction_target;
use super::state::{Interaction, InteractionPhase, State};
use super::{Center, Core, refuse};
use crate::services::{InteractionContext, ServiceAction, ServiceFault, ServiceOutput, ServiceRequest};
use crate::storage::Sender;
use serde_json::{Map, Value, json};
use switchboard_protocol::ids::{InteractionId, RequestId, SessionId};
use switchboard_protocol::message::agent::{AgentCommand, ChangeProperties};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::envelope::Response;
use switchboard_protocol::message::event::{EventBody, Party, PartyKind, ThirdPartyFault, ThirdPartyResponse};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{
    ExternalServiceRequested, ExternalServiceResponded, InteractionSubmitted, ReportBody, ServiceFaultReason,
};
use switchboard_protocol::time::Timestamp;

/// Who asks when the server runs a service by itself.
pub const ROUTING: &str = "routing";

/// A relayed request, waiting to run.
#[derive(Debug)]
pub struct ServiceJob {
    /// The session to answer and its request id (none for automatic runs).
    requester: Option<(SessionId, Option<RequestId>)>,
    service: String,
    request: ServiceRequest,
    context: InteractionContext,
}

fn context_of(interaction: &Interaction) -> InteractionContext {
    InteractionContext {
        interaction: interaction.id.clone(),
        properties: interaction.properties.clone(),
        version: interaction.version,
        subject: interaction.subject.clone(),
        customer_texts: interaction
            .transcript
            .iter()
            .filter(|message| message.from.kind == PartyKind::Customer)
            .map(|message| message.text.clone())
            .collect(),
        customer_name: Some(interaction.customer.name.clone()),
    }
}

impl ServiceJob {
    /// The configured service to run.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// What to run it with.
    pub fn request(&self) -> &ServiceRequest {
        &self.request
    }

    /// The chat it runs for, as it was when the job was made.
    pub fn context(&self) -> &InteractionContext {
        &self.context
    }
}

impl Core {
    /// A service the driver ran for `job` answered (or failed, or timed out).
    pub fn handle_service_result(
        &mut self,
        job: ServiceJob,
        outcome: Result<ServiceOutput, ServiceFault>,
        now: Timestamp,
    ) {
        if self.failed {
            return;
        }
        let mut batch = Batch::new();
        self.center.apply_service_result(&mut self.state, &mut batch, &job, outcome, now);
        self.finish(batch, Vec::new());
    }
}

impl Center {
    /// `request3rdServer`: reported now, run by the driver.
    pub(super) fn relay_service_request(
        &self,
        state: &State,
        batch: &mut Batch,
        session_id: &SessionId,
        request: &Request<AgentCommand>,
        now: Timestamp,
    ) -> (Response, Option<ServiceJob>) {
        let AgentCommand::Request3rdServer(asked) = &request.command else {
            return (request.failure(refuse(FailureCode::InvalidRequest, "not a request3rdServer")), None);
        };
        let interaction_id =
            request.target.as_ref().and_then(|target| target.segments().get(1)).map(InteractionId::from);
        let held = interaction_id.as_ref().and_then(|id| state.interactions.get(id)).filter(
            |interaction| matches!(&interaction.phase, InteractionPhase::Active { session } if session == session_id),
        );
        let Some(interaction) = held else {
            let offered = interaction_id.as_ref().and_then(|id| state.interactions.get(id)).is_some_and(
                |interaction| matches!(&interaction.phase, InteractionPhase::Offered { session, .. } if session == session_id),
            );
            let failure = if offered {
                refuse(FailureCode::InvalidState, "accept the chat first")
            } else {
                let named = interaction_id.map(|id| id.to_string()).unwrap_or_default();
                refuse(FailureCode::NotFound, format!("this session holds no interaction `{named}`"))
            };
            return (request.failure(failure), None);
        };
        let context = context_of(interaction);
        let by = Self::session_agent(state, session_id).map(|agent| agent.to_string()).unwrap_or_default();
        let job = ServiceJob {
            requester: Some((session_id.clone(), request.id.clone())),
            service: asked.service.clone(),
            request: ServiceRequest { method: asked.method.clone(), data: asked.data.clone() },
            context,
        };
        self.record_requested(batch, &job, &by, now);
        (request.success(None), Some(job))
    }

    /// The jobs of the services that run for every new chat, for the chats
    /// created since the last call.
    pub(super) fn take_auto_service_jobs(
        &self,
        state: &mut State,
        batch: &mut Batch,
        now: Timestamp,
    ) -> Vec<ServiceJob> {
        let created: Vec<InteractionId> = std::mem::take(&mut state.auto_services);
        if created.is_empty() || self.services_on_new_chat.is_empty() {
            return Vec::new();
        }
        let mut jobs = Vec::new();
        for interaction_id in created {
            let Some(interaction) = state.interactions.get(&interaction_id) else {
                continue;
            };
            for service in &self.services_on_new_chat {
                let job = ServiceJob {
                    requester: None,
                    service: service.clone(),
                    request: ServiceRequest::default(),
                    context: context_of(interaction),
                };
                self.record_requested(batch, &job, ROUTING, now);
                jobs.push(job);
            }
        }
        jobs
    }

    fn record_requested(&self, batch: &mut Batch, job: &ServiceJob, by: &str, now: Timestamp) {
        let requested = ReportBody::EventExternalServiceRequested(ExternalServiceRequested {
            service: job.service.clone(),
            method: job.request.method.clone(),
            data: job.request.data.clone(),
            by: by.to_owned(),
        });
        batch.report(&self.reports, Some(&job.context.interaction), requested, now);
    }

    fn apply_service_result(
        &self,
        state: &mut State,
        batch: &mut Batch,
        job: &ServiceJob,
        outcome: Result<ServiceOutput, ServiceFault>,
        now: Timestamp,
    ) {
        let outcome = outcome.and_then(|output| self.apply_service_output(state, batch, job, output, now));
        let result = outcome.as_ref().ok().cloned();
        self.relay_outcome(state, batch, job, outcome, now);
        self.route_on_category(state, batch, &job.service, &job.context.interaction, result.as_ref(), now);
        self.drain_router(state, batch, now);
    }

    fn apply_service_output(
        &self,
        state: &mut State,
        batch: &mut Batch,
        job: &ServiceJob,
        output: ServiceOutput,
        now: Timestamp,
    ) -> Result<Map<String, Value>, ServiceFault> {
        let interaction_id = &job.context.interaction;
        let fault = |message: String| ServiceFault { reason: ServiceFaultReason::ServiceError, message };
        let mut result = output.result;
        for action in output.actions {
            if !state.interactions.contains_key(interaction_id) {
                return Err(fault(format!("the chat `{interaction_id}` ended while `{}` ran", job.service)));
            }
            match action {
                ServiceAction::SendMessage { sender_name, text } => {
                    let from = Party { kind: PartyKind::System, id: None, name: sender_name };
                    let sender = Sender::Service(job.service.clone());
                    let posted = self
                        .post_message(state, batch, interaction_id, from, sender, None, &text, now)
                        .map_err(|refusal| fault(format!("the message was refused: {}", refusal.message)))?;
                    let message_id = posted.and_then(|data| data["messageId"].as_u64()).unwrap_or_default();
                    result.insert("messageId".into(), json!(message_id));
                    let submitted = ReportBody::EventInteractionSubmitted(InteractionSubmitted {
                        by: job.service.clone(),
                        message_id,
                        text,
                    });
                    batch.report(&self.reports, Some(interaction_id), submitted, now);
                }
                ServiceAction::SetProperties { changed } => {
                    let change = ChangeProperties { version: job.context.version, changed, removed: Vec::new() };
                    let version = self
                        .change_properties(state, batch, interaction_id, &change, &job.service, None, now)
                        .map_err(|refusal| fault(format!("the properties were not changed: {}", refusal.message)))?;
                    result.insert("version".into(), json!(version));
                }
            }
        }
        Ok(result)
    }

    /// Event3rdServerResponse / Event3rdServerFault to the requester, and
    /// EventExternalServiceResponded to the reporting stream.
    fn relay_outcome(
        &self,
        state: &State,
        batch: &mut Batch,
        job: &ServiceJob,
        outcome: Result<Map<String, Value>, ServiceFault>,
        now: Timestamp,
    ) {
        let interaction_id = &job.context.interaction;
        let (event, responded) = match outcome {
            Ok(result) => (
                EventBody::Event3rdServerResponse(ThirdPartyResponse {
                    service: job.service.clone(),
                    request: job.requester.as_ref().and_then(|(_, id)| id.clone()),
                    result: result.clone(),
                }),
                ExternalServiceResponded { service: job.service.clone(), ok: true, result, fault: None, message: None },
            ),
            Err(fault) => {
                tracing::info!(service = job.service, reason = fault.reason.as_str(), "a service request failed");
                (
                    EventBody::Event3rdServerFault(ThirdPartyFault {
                        service: job.service.clone(),
                        request: job.requester.as_ref().and_then(|(_, id)| id.clone()),
                        reason: fault.reason.as_str().to_owned(),
                        message: Some(fault.message.clone()),
                    }),
                    ExternalServiceResponded {
                        service: job.service.clone(),
                        ok: false,
                        result: Map::new(),
                        fault: Some(fault.reason),
                        message: Some(fault.message),
                    },
                )
            }
        };
        if let Some((session_id, _)) = &job.requester
            && let Some(session) = state.sessions.get(session_id)
        {
            batch.event(&session.stream, interaction_target(session_id, interaction_id), event, now);
        }
        batch.report(&self.reports, Some(interaction_id), ReportBody::EventExternalServiceResponded(responded), now);
    }
}
