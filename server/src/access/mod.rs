//! Who may do how much: the guards in front of the core that need no
//! knowledge of contact-center state. The client's address
//! ([`client_address`]), the login throttle ([`throttle`]) and the checks
//! of passwords, at most `limits.hashing_concurrency` at once, and the caps
//! on what one address may hold on the anonymous customer endpoint.
//!
//! The rules live in the pure submodules (time comes in as `now`); this
//! module holds their state behind locks for the endpoints.

pub mod client_address;
pub mod throttle;

use crate::auth::verify_password;
use crate::clock::now;
use crate::config::Config;
use crate::core::ConnectionId;
use crate::driver::Driver;
use client_address::TrustedProxy;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use switchboard_protocol::ids::ServiceRequestId;
use switchboard_protocol::message::customer::CustomerCommand;
use switchboard_protocol::message::envelope::Request;
use switchboard_protocol::message::failure::{Failure, FailureCode};
use throttle::LoginThrottle;
use tokio::sync::Semaphore;

/// The access guards of one server. Shared by every connection.
#[derive(Debug)]
pub struct Access {
    trusted_proxies: Vec<TrustedProxy>,
    throttle: Mutex<LoginThrottle>,
    /// One permit per password check that may run (argon2id takes 19 MiB
    /// and tens of milliseconds of a core: unbounded, a burst of logins
    /// grew the server by hundreds of megabytes and starved everything).
    hashing: Arc<Semaphore>,
    /// How long a login waits for a permit before it is answered `busy`.
    hashing_wait: Duration,
    /// Anonymous clients (the customer endpoint) per client address.
    customers: Arc<Mutex<HashMap<IpAddr, PerAddress>>>,
    customer_connections_per_address: usize,
    chat_requests_per_address: usize,
}

/// What one client address holds on the customer endpoint.
#[derive(Debug, Default)]
struct PerAddress {
    connections: usize,
    /// Chat requests it opened, pruned of closed ones when counted.
    requests: Vec<ServiceRequestId>,
}

/// Past this many addresses, closed chat requests are swept from all.
const SWEEP_ABOVE: usize = 10_000;

/// One open customer connection of an address; dropping it gives the
/// place back.
#[derive(Debug)]
pub struct CustomerSlot {
    customers: Arc<Mutex<HashMap<IpAddr, PerAddress>>>,
    address: IpAddr,
}

impl Drop for CustomerSlot {
    fn drop(&mut self) {
        let mut customers = lock(&self.customers);
        if let Some(entry) = customers.get_mut(&self.address) {
            entry.connections = entry.connections.saturating_sub(1);
            if entry.connections == 0 && entry.requests.is_empty() {
                customers.remove(&self.address);
            }
        }
    }
}

/// What a client answered `busy` is told to wait.
const BUSY_RETRY: Duration = Duration::from_secs(1);

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded tables stay consistent at every step; a panic elsewhere
    // must not stop logins.
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Why a login was answered without looking at its password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LoginRefused {
    #[error("too many failed logins; try again in {retry_after_ms} ms ({scope})")]
    Throttled { retry_after_ms: u64, scope: &'static str },
    #[error("no password check was free in time")]
    Busy,
}

impl LoginRefused {
    /// The failure the client gets.
    pub fn failure(&self) -> Failure {
        match self {
            LoginRefused::Throttled { retry_after_ms, .. } => {
                let seconds = retry_after_ms.div_ceil(1000);
                let failure = Failure::new(
                    FailureCode::RateLimited,
                    format!("Too many failed logins. Try again in {seconds} s."),
                );
                failure.retry_after(Duration::from_millis(*retry_after_ms))
            }
            LoginRefused::Busy => {
                Failure::new(FailureCode::Busy, "The server is busy checking other logins. Try again in a moment.")
                    .retry_after(BUSY_RETRY)
            }
        }
    }
}

impl Access {
    pub fn new(config: &Config) -> Self {
        let (pair, address, account) = throttle::policies(Duration::from_millis(config.security.login_backoff_ms));
        Self {
            trusted_proxies: config.security.trusted_proxies.clone(),
            throttle: Mutex::new(LoginThrottle::new(pair, address, account)),
            hashing: Arc::new(Semaphore::new(config.limits.hashing_slots())),
            hashing_wait: config.limits.login_wait(),
            customers: Arc::default(),
            customer_connections_per_address: config.limits.customer_connections_per_address,
            chat_requests_per_address: config.limits.chat_requests_per_address,
        }
    }

    /// The client address of a request from `peer` (see [`client_address`]).
    pub fn client_address(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> IpAddr {
        client_address::client_address(peer, headers, &self.trusted_proxies)
    }

    /// A place for one more customer connection from `address`, or `None`
    /// when it holds `customer_connections_per_address` already.
    pub fn open_customer(&self, address: IpAddr) -> Option<CustomerSlot> {
        let mut customers = lock(&self.customers);
        let entry = customers.entry(address).or_default();
        let limit = self.customer_connections_per_address;
        if limit > 0 && entry.connections >= limit {
            tracing::warn!(%address, limit, "customer connection refused: too many from one address");
            metrics::counter!(crate::observe::CUSTOMER_LIMITED, "cap" => "connections").increment(1);
            return None;
        }
        entry.connections += 1;
        Some(CustomerSlot { customers: self.customers.clone(), address })
    }

    /// Handles a `requestChat` from `address` unless the address holds
    /// `chat_requests_per_address` open chat requests already.
    pub fn request_chat(
        &self,
        address: IpAddr,
        driver: &Driver,
        connection: ConnectionId,
        request: &Request<CustomerCommand>,
    ) {
        let limit = self.chat_requests_per_address;
        if limit == 0 {
            return driver.run(|core| core.handle_customer_request(connection, request, now()));
        }
        // Held across the request, so two connections of one address cannot
        // both take the last place. Lock order: this, then the core's.
        let mut customers = lock(&self.customers);
        if customers.len() > SWEEP_ABOVE {
            driver.read(|core| {
                for entry in customers.values_mut() {
                    entry.requests.retain(|id| core.is_request_open(id));
                }
            });
            customers.retain(|_, entry| entry.connections > 0 || !entry.requests.is_empty());
        }
        let entry = customers.entry(address).or_default();
        driver.read(|core| entry.requests.retain(|id| core.is_request_open(id)));
        if entry.requests.len() >= limit {
            tracing::warn!(%address, limit, "chat request refused: too many open from one address");
            metrics::counter!(crate::observe::CUSTOMER_LIMITED, "cap" => "chat-requests").increment(1);
            let failure = Failure::new(
                FailureCode::RateLimited,
                format!("{limit} chats are open from your network already; finish one first"),
            );
            return driver.run(|core| core.handle_refused(connection, request.failure(failure)));
        }
        driver.run(|core| core.handle_customer_request(connection, request, now()));
        if let Some(id) = driver.read(|core| core.request_of(connection).cloned())
            && !entry.requests.contains(&id)
        {
            entry.requests.push(id);
        }
    }

    /// Checks a login's password under the throttle: `Ok(verified)`, or
    /// refused before hashing. `hash` is the account's (none for an unknown
    /// account, which takes the same time and always fails).
    pub async fn check_password(
        &self,
        account: &str,
        address: IpAddr,
        hash: Option<String>,
        password: String,
    ) -> Result<bool, LoginRefused> {
        let attempt = lock(&self.throttle).begin(account, address, now()).map_err(|throttled| {
            tracing::warn!(account, %address, scope = throttled.scope.as_str(), "login throttled");
            metrics::counter!(crate::observe::LOGIN_THROTTLED, "rule" => throttled.scope.as_str()).increment(1);
            LoginRefused::Throttled {
                retry_after_ms: u64::try_from(throttled.retry_after.as_millis()).unwrap_or(u64::MAX),
                scope: throttled.scope.as_str(),
            }
        })?;
        // Polled once before the deadline counts: a free permit is taken
        // even with a zero wait.
        let permit = match tokio::time::timeout(self.hashing_wait, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            _ => {
                lock(&self.throttle).abandoned(attempt);
                tracing::warn!(account, %address, "login answered busy: every password check is taken");
                metrics::counter!(crate::observe::LOGIN_BUSY).increment(1);
                return Err(LoginRefused::Busy);
            }
        };
        // argon2 takes tens of milliseconds of CPU: keep it off the async
        // workers. The permit goes with the check, so it is held until the
        // hashing really ends, even if this connection goes away meanwhile.
        let verified = tokio::task::spawn_blocking(move || {
            let verified = verify_password(hash.as_deref(), &password);
            drop(permit);
            verified
        })
        .await;
        let verified = matches!(verified, Ok(true));
        if verified {
            lock(&self.throttle).succeeded(attempt);
        } else {
            tracing::info!(account, %address, "login failed");
        }
        Ok(verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(extra: &str) -> Access {
        let text = format!(
            "[service]\nvendor = \"v\"\ncti_vendor = \"c\"\ncti_version = \"1\"\ninstance_domain = \"d\"\n{extra}"
        );
        Access::new(&Config::parse(&text).unwrap())
    }

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    #[tokio::test]
    async fn a_login_that_finds_every_check_taken_is_answered_busy_and_not_counted() {
        let access = access(
            "[limits]\nmax_frame_bytes = 65536\nrequests_per_second = 20\nrequest_burst = 60\noutbound_queue = 16\nresume_grace_secs = 60\nidle_timeout_secs = 120\nhashing_concurrency = 1\nlogin_wait_ms = 0\n",
        );
        let taken = access.hashing.clone().acquire_owned().await.unwrap();
        for _ in 0..10 {
            let refused = access.check_password("alice", HERE, None, "x".into()).await.unwrap_err();
            assert_eq!(refused, LoginRefused::Busy);
            assert_eq!(refused.failure().code, FailureCode::Busy);
            assert_eq!(refused.failure().retry_after_ms, Some(1000));
        }
        drop(taken);
        // Ten busy answers counted nothing: the free failures are all left.
        for _ in 0..3 {
            assert_eq!(access.check_password("alice", HERE, None, "x".into()).await, Ok(false));
        }
    }
}
