//! One POST of one event to one endpoint: the body (the EventEnvelope's
//! protobuf bytes), the headers docs/DEPARTMENTS.md lists, the signature,
//! and what came back — bounded: the whole request under a timeout, no
//! redirects followed, at most [`MAX_ERROR_BODY`] bytes of an error answer
//! read.

use std::time::Duration;

use chrono::{DateTime, Utc};
use yiciban_proto::events::v1::EventEnvelope;

use crate::signature;

/// The content type of every request.
pub const CONTENT_TYPE: &str = "application/x-protobuf";
/// The most bytes of a non-2xx answer's body read (into the dead letter's
/// error); the rest is never read.
pub const MAX_ERROR_BODY: usize = 1024;

/// An HTTP client for deliveries.
pub fn client(timeout: Duration) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("yiciban-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// What is sent, beside the endpoint and secrets.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub subscription_id: uuid::Uuid,
    /// The encoded envelope, sent as it came from JetStream.
    pub body: &'a [u8],
    /// The envelope decoded, for the headers (None: the message was no
    /// envelope; it is still sent, with the event id JetStream knew it by).
    pub envelope: Option<&'a EventEnvelope>,
    pub event_id: &'a str,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The replay it belongs to.
    pub replay: Option<uuid::Uuid>,
}

/// What an attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A 2xx status.
    Delivered(u16),
    /// Anything else: the status (0: no answer) and why.
    Failed { status: u16, error: String },
}

/// POSTs `delivery` to `url`, signed at `now` with `secrets` (newest first).
pub async fn post(
    client: &reqwest::Client,
    url: &str,
    secrets: &[&str],
    delivery: &Delivery<'_>,
    now: DateTime<Utc>,
) -> Answer {
    let timestamp = now.timestamp();
    let mut request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
        .header("yiciban-subscription-id", delivery.subscription_id.to_string())
        .header("yiciban-event-id", delivery.event_id)
        .header("yiciban-attempt", delivery.attempt.to_string())
        .header(signature::TIMESTAMP, timestamp.to_string())
        .header(signature::SIGNATURE, signature::header(secrets, timestamp, delivery.body));
    if let Some(e) = delivery.envelope {
        request = request
            .header("yiciban-event-type", &e.event_type)
            .header("yiciban-case-id", &e.case_id)
            .header("yiciban-stream-id", &e.stream_id)
            .header("yiciban-stream-version", e.stream_version.to_string());
    }
    if let Some(replay) = delivery.replay {
        request = request.header("yiciban-replay", "true").header("yiciban-replay-id", replay.to_string());
    }
    let response = match request.body(delivery.body.to_vec()).send().await {
        Ok(response) => response,
        Err(e) => return Answer::Failed { status: 0, error: describe(&e) },
    };
    let status = response.status();
    if status.is_success() {
        return Answer::Delivered(status.as_u16());
    }
    let mut response = response;
    let mut head = Vec::new();
    while head.len() < MAX_ERROR_BODY {
        match response.chunk().await {
            Ok(Some(chunk)) => head.extend_from_slice(&chunk[..chunk.len().min(MAX_ERROR_BODY - head.len())]),
            _ => break,
        }
    }
    let text: String = String::from_utf8_lossy(&head).chars().filter(|c| !c.is_control()).take(200).collect();
    let error = match text.trim() {
        "" => format!("answered {status}"),
        body => format!("answered {status}: {body}"),
    };
    Answer::Failed { status: status.as_u16(), error }
}

/// The error without the URL, with its causes (refused, timed out, TLS).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut chain = Vec::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push(s.to_string());
        source = s.source();
    }
    chain.dedup();
    let text = if chain.is_empty() { kind.to_owned() } else { format!("{kind}: {}", chain.join(": ")) };
    text.chars().take(500).collect()
}
