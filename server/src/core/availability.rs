//! Whether a chat service can take a chat now (issue 16, item 3), for the
//! loader's launcher: closed outside its opening hours, offline while no
//! agent who may take its chats (its queue's, and each category queue its
//! requests may be routed to) is logged in and connected. Read-only.

use super::Core;
use crate::routing::Target;
use switchboard_protocol::message::availability::{Availability, Offline};
use switchboard_protocol::time::Timestamp;

impl Core {
    /// `None`: no such service.
    pub fn availability(&self, service: &str, now: Timestamp) -> Option<Availability> {
        let entry = self.center.config.service(service)?;
        if let Some(hours) = self.center.hours.get(service)
            && let crate::hours::Openness::Closed { opens_at } = hours.at(now)
        {
            return Some(Availability { open: false, reason: Some(Offline::Closed), opens_at });
        }
        // Intent routing may send a request to a category's queue, so an
        // agent there staffs the service too.
        let mut queues = std::iter::once(entry.queue.as_str()).chain(self.center.config.category_queues());
        let staffed = queues.any(|queue| self.state.router.is_staffed(&Target::Queue(queue.to_owned())));
        Some(if staffed {
            Availability { open: true, reason: None, opens_at: None }
        } else {
            Availability { open: false, reason: Some(Offline::NoAgents), opens_at: None }
        })
    }
}
