//! What an endpoint hands the center for one of its connections, once the
//! frame is read, decoded and checked (rate limit, password): the one place
//! that feeds it to the core, the same for a single server and for a
//! cluster's center (which gets it from another node over the bus).

use crate::access::Access;
use crate::clock::now;
use crate::core::ConnectionId;
use crate::driver::Driver;
use std::net::IpAddr;
use switchboard_protocol::message::agent::AgentCommand;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::{Request, Response};
use switchboard_protocol::message::supervisor::SupervisorCommand;

/// One input of a connection.
pub enum Inbound {
    /// `login`: `Some(verified)` for a `prepareSession` whose password the
    /// endpoint checked; `None` for every other request.
    Agent {
        request: Request<AgentCommand>,
        login: Option<bool>,
    },
    /// `address`: the customer's, for the per-address chat-request limit.
    Customer {
        request: Request<CustomerCommand>,
        address: IpAddr,
    },
    Supervisor {
        request: Request<SupervisorCommand>,
        login: Option<bool>,
    },
    /// A frame the endpoint refused: answered in its turn.
    Refused(Response),
    /// The client showed it is alive (a ping or pong).
    Heard,
}

impl Inbound {
    /// Runs the input on `driver`'s core; `access` holds the per-address
    /// chat-request limit.
    pub fn apply(self, driver: &Driver, access: &Access, connection: ConnectionId) {
        match self {
            Self::Agent { request, login: Some(verified) } => {
                driver.run(|core| core.handle_agent_login(connection, &request, verified, now()))
            }
            Self::Agent { request, login: None } => {
                driver.run(|core| core.handle_agent_request(connection, &request, now()))
            }
            Self::Customer { request, address } => {
                if matches!(request.command, CustomerCommand::RequestChat(_)) {
                    access.request_chat(address, driver, connection, &request);
                } else {
                    driver.run(|core| core.handle_customer_request(connection, &request, now()));
                }
            }
            Self::Supervisor { request, login: Some(verified) } => {
                driver.run(|core| core.handle_supervisor_login(connection, &request, verified, now()))
            }
            Self::Supervisor { request, login: None } => {
                driver.run(|core| core.handle_supervisor_request(connection, &request, now()))
            }
            Self::Refused(response) => driver.run(|core| core.handle_refused(connection, response)),
            Self::Heard => driver.run(|core| core.handle_heard(connection, now())),
        }
    }
}
