//! Who asks for a command, through which channel, under which key, in which
//! chain, and at which version of the stream they last saw.

use prost::Message;
use tonic::Status;
use yiciban_platform::{Caller, Cause};
use yiciban_proto::common::v1 as common;

use crate::idempotency::Idempotency;

/// The channel a command comes through, by the caller's role: services act
/// for the system, applicants online, staff at the window.
pub fn channel_of(role: common::Role) -> common::Channel {
    match role {
        common::Role::Service => common::Channel::System,
        common::Role::Applicant => common::Channel::Online,
        _ => common::Channel::Window,
    }
}

/// Everything about a command but the command itself.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// Who, recorded on every event (the audit log).
    pub actor: common::Actor,
    /// Through which channel.
    pub channel: common::Channel,
    /// The stream version the client saw; `None` decides on whatever is
    /// current (and retries a concurrent writer's conflict).
    pub expected: Option<u64>,
    /// The key that makes a retry harmless.
    pub idempotency: Option<Idempotency>,
    /// The chain the command belongs to.
    pub cause: Cause,
}

impl Invocation {
    /// A caller's request: its key checked and fingerprinted, the channel by
    /// the caller's role, `expected_version` from the wire (0 = don't check),
    /// the cause a calling service sent along or else the key itself.
    pub fn request<M: Message>(caller: &Caller, key: &str, request: &M, expected_version: u64) -> Result<Self, Status> {
        let idempotency = Idempotency::of_request(key, request, &caller.subject)?;
        Ok(Self::of(caller, Some(idempotency), expected_version))
    }

    /// A caller's command with a key checked already (or none: a command
    /// that is harmless to repeat, e.g. one the caller cannot retry), the
    /// channel by the caller's role, `expected_version` from the wire (0 =
    /// don't check), the cause a calling service sent along or else the key.
    pub fn of(caller: &Caller, idempotency: Option<Idempotency>, expected_version: u64) -> Self {
        let actor = caller.actor();
        let origin =
            idempotency.as_ref().map(|i| i.key().to_owned()).unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        Invocation {
            channel: channel_of(actor.role()),
            actor,
            expected: (expected_version != 0).then_some(expected_version),
            cause: caller.cause.clone().unwrap_or_else(|| Cause::origin(origin)),
            idempotency,
        }
    }

    /// A command the system gives itself (a sweep, a timer) as the service
    /// `subject`, keyed by `key` so that a repeat changes nothing.
    pub fn system(subject: &str, key: impl Into<String>) -> Self {
        let idempotency = Idempotency::system(key);
        Invocation {
            actor: common::Actor {
                subject: subject.to_owned(),
                role: common::Role::Service as i32,
                department: String::new(),
            },
            channel: common::Channel::System,
            expected: None,
            cause: Cause::origin(idempotency.key()),
            idempotency: Some(idempotency),
        }
    }

    /// The same, through another channel (an applicant's own submission
    /// names its channel).
    pub fn through(mut self, channel: common::Channel) -> Self {
        self.channel = channel;
        self
    }

    /// The id that correlates and causes: for metadata only.
    pub(crate) fn key(&self) -> Option<&str> {
        self.idempotency.as_ref().map(Idempotency::key)
    }
}
