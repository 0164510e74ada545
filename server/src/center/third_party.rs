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

use super::chats::interaction_target;
use super::{Center, Interaction, InteractionPhase, Reply, State, refuse};
use crate::services::{InteractionContext, ServiceAction, ServiceFault, ServiceOutput, ServiceRequest};
use crate::stream::Batch;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use switchboard_protocol::ids::{InteractionId, RequestId, SessionId};
use switchboard_protocol::message::agent::{AgentCommand, ChangeProperties};
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::event::{EventBody, Party, PartyKind, ThirdPartyFault, ThirdPartyResponse};
use switchboard_protocol::message::failure::FailureCode;
use switchboard_protocol::message::report::{
    ExternalServiceRequested, ExternalServiceResponded, InteractionSubmitted, ReportBody, ServiceFaultReason,
};
use switchboard_protocol::time::Timestamp;

/// Who asks when the server runs a service by itself.
pub const ROUTING: &str = "routing";

/// A relayed request, waiting to run.
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

impl Center {
    /// `request3rdServer` from a session holding the interaction.
    pub fn relay_service_request(
        &self,
        session_id: &SessionId,
        request: &Request<AgentCommand>,
        now: Timestamp,
    ) -> (Reply, Option<ServiceJob>) {
        let AgentCommand::Request3rdServer(asked) = &request.command else {
            return (Reply::now(request.failure(refuse(FailureCode::InvalidRequest, "not a request3rdServer"))), None);
        };
        let state = self.lock();
        let interaction_id = request
            .target
            .as_ref()
            .and_then(|target| target.segments().get(1))
            .map(|segment| InteractionId::new(segment.as_str()));
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
            return (Reply::now(request.failure(failure)), None);
        };
        let context = context_of(interaction);
        let by = Self::session_agent(&state, session_id).map(|agent| agent.to_string()).unwrap_or_default();
        let job = ServiceJob {
            requester: Some((session_id.clone(), request.id.clone())),
            service: asked.service.clone(),
            request: ServiceRequest { method: asked.method.clone(), data: asked.data.clone() },
            context,
        };
        let mut batch = Batch::new();
        self.record_requested(&mut batch, &job, &by, now);
        drop(state);
        (Reply::after(request.success(None), batch.submit(&self.store)), Some(job))
    }

    /// The automatic runs for chats created since the last call, in order.
    pub fn take_auto_service_jobs(&self, now: Timestamp) -> Vec<ServiceJob> {
        let mut state = self.lock();
        let created: Vec<InteractionId> = std::mem::take(&mut state.auto_services);
        let services = self.services.on_chat_created();
        if created.is_empty() || services.is_empty() {
            return Vec::new();
        }
        let mut batch = Batch::new();
        let mut jobs = Vec::new();
        for interaction_id in created {
            let Some(interaction) = state.interactions.get(&interaction_id) else {
                continue;
            };
            for service in &services {
                let job = ServiceJob {
                    requester: None,
                    service: service.clone(),
                    request: ServiceRequest::default(),
                    context: context_of(interaction),
                };
                self.record_requested(&mut batch, &job, ROUTING, now);
                jobs.push(job);
            }
        }
        drop(state);
        drop(batch.submit(&self.store));
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

    /// Runs a relayed request and relays its outcome (see the module docs).
    pub async fn run_service_job(self: Arc<Self>, job: ServiceJob) {
        // Several jobs for one chat (automatic runs) run one after the other,
        // each seeing what the previous one changed.
        let context = {
            let state = self.lock();
            state.interactions.get(&job.context.interaction).map(context_of)
        };
        let mut job = job;
        if let Some(context) = context {
            job.context = context;
        }
        let outcome = self.services.run(&job.service, job.request.clone(), job.context.clone()).await;
        let now = crate::clock::now();
        let durable = {
            let mut state = self.lock();
            let mut batch = Batch::new();
            let outcome =
                outcome.and_then(|output| self.apply_service_output(&mut state, &mut batch, &job, output, now));
            let result = outcome.as_ref().ok().cloned();
            self.relay_outcome(&state, &mut batch, &job, outcome, now);
            // Routing reads the category (and releases a held first offer).
            self.route_on_category(
                &mut state,
                &mut batch,
                &job.service,
                &job.context.interaction,
                result.as_ref(),
                now,
            );
            self.drain_router(&mut state, &mut batch, now);
            batch.submit(&self.store)
        };
        if let Err(error) = durable.await {
            tracing::error!(%error, service = job.service, "a service's outcome could not be stored");
        }
    }

    /// Takes the actions a service asked for; its result, completed.
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
                    let sender = format!("service:{}", job.service);
                    let posted = self
                        .post_message(state, batch, interaction_id, from, &sender, None, &text, now)
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
