//! Where text messages go: the [`SmsGateway`] trait, and the local sink,
//! which keeps each message in the notifier's own table instead of sending
//! it (development, `make run`; its messages show in the workbench). The
//! HTTP gateway of a deployment is in [`crate::http_gateway`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::phone::Mobile;
use crate::repo::Repo;
use yiciban_platform::Clock;

/// One text message to send.
#[derive(Debug, Clone)]
pub struct Sms<'a> {
    /// The message's id (the event's): a gateway that deduplicates by a
    /// client id gets it, so a message sent again after a crash is dropped
    /// there.
    pub message_id: &'a str,
    pub to: &'a Mobile,
    pub text: &'a str,
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The gateway refused it and will refuse it again (a 4xx): not retried.
    #[error("refused: {0}")]
    Refused(String),
    /// The gateway could not take it now (a 5xx, a timeout, no connection):
    /// retried with back-off.
    #[error("not taken now: {0}")]
    Unavailable(String),
}

/// A way to send text messages.
#[async_trait]
pub trait SmsGateway: Send + Sync + std::fmt::Debug + 'static {
    /// Its name in the record: `local` or `http`.
    fn name(&self) -> &'static str;

    /// Sends `sms`; `Ok` once the gateway took it.
    async fn send(&self, sms: &Sms<'_>) -> Result<(), SendError>;
}

/// The development gateway: stores each message, the phone masked, in the
/// notifier's `local_sink` table.
#[derive(Debug, Clone)]
pub struct LocalSink {
    repo: Repo,
    clock: Arc<dyn Clock>,
}

impl LocalSink {
    pub fn new(repo: Repo, clock: Arc<dyn Clock>) -> Self {
        LocalSink { repo, clock }
    }
}

#[async_trait]
impl SmsGateway for LocalSink {
    fn name(&self) -> &'static str {
        "local"
    }

    async fn send(&self, sms: &Sms<'_>) -> Result<(), SendError> {
        self.repo
            .sink(sms.message_id, &sms.to.masked(), sms.text, self.clock.now())
            .await
            .map_err(|e| SendError::Unavailable(format!("the local sink could not store it: {e}")))
    }
}
