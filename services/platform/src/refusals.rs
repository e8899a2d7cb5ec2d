//! Every refused call is counted (`yiciban_access_refusals_total`) and
//! logged; a refusal by a signed-in caller — a role or service outside the
//! RPC's rule, a case outside the caller's scope — is also recorded (who,
//! which RPC, which case, why) for supervisors, through the sink the service
//! installs (its own table, see [`crate::service`]). Calls without a valid
//! token are counted and logged but not stored: they have no caller to name,
//! and storing every one would let anybody fill the database.

use tokio::sync::mpsc;

use crate::auth::Caller;

/// One refused call by a signed-in caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The RPC's path (from the access rules, so from a fixed set) or
    /// `unknown`.
    pub method: &'static str,
    pub caller: String,
    pub role: &'static str,
    pub department: Option<String>,
    /// The case concerned, when the handler named one.
    pub case: Option<String>,
    /// `permission_denied` or `hidden` (answered as not found).
    pub kind: &'static str,
    /// Why, bounded to 300 characters.
    pub reason: String,
}

/// Where a service's refusals go.
#[derive(Debug, Clone)]
pub struct Refusals {
    service: &'static str,
    sink: Option<mpsc::Sender<Refusal>>,
}

impl Refusals {
    /// Counts and logs only (until [`Refusals::with_sink`]).
    pub fn new(service: &'static str) -> Self {
        Refusals { service, sink: None }
    }

    /// Also sends every refusal by a signed-in caller to `sink`; when the
    /// sink is full the refusal is still counted and logged.
    pub fn with_sink(mut self, sink: mpsc::Sender<Refusal>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// A call without a valid token.
    pub fn unauthenticated(&self, method: &'static str, reason: &'static str) {
        yiciban_metrics::access_refused(self.service, method, reason);
        tracing::info!(service = self.service, method, reason, "call refused: not authenticated");
    }

    /// A signed-in caller refused.
    pub fn refused(
        &self,
        caller: &Caller,
        method: &'static str,
        kind: &'static str,
        case: Option<String>,
        reason: &str,
    ) {
        yiciban_metrics::access_refused(self.service, method, kind);
        let reason: String = reason.chars().take(300).collect();
        tracing::info!(
            service = self.service,
            method,
            caller = %caller.subject,
            role = caller.role.as_str(),
            case = case.as_deref().unwrap_or(""),
            kind,
            reason = %reason,
            "call refused"
        );
        if let Some(sink) = &self.sink {
            let refusal = Refusal {
                method,
                caller: caller.subject.clone(),
                role: caller.role.as_str(),
                department: caller.department.clone(),
                case,
                kind,
                reason,
            };
            if sink.try_send(refusal).is_err() {
                tracing::warn!(
                    service = self.service,
                    "the refusal log is behind; this refusal is counted and logged only"
                );
            }
        }
    }
}
