//! The SMS gateway of a deployment, over HTTP: each message is one POST of
//! JSON `{"message_id", "to", "text"}` to the configured URL, with the
//! credential from its Secret as a bearer token and the message id as
//! `Idempotency-Key`, under a timeout. 2xx: sent. 408 and 429: not now,
//! retried. Any other 4xx: refused for good. 5xx, a timeout or no
//! connection: retried. Redirects are not followed; an error answer is read
//! to at most [`MAX_ERROR_BODY`] bytes.

use std::time::Duration;

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};

use crate::gateway::{SendError, Sms, SmsGateway};

/// The most bytes of an error answer kept in the message's last error.
pub const MAX_ERROR_BODY: usize = 300;

/// An HTTP SMS gateway.
pub struct HttpGateway {
    client: reqwest::Client,
    url: String,
    credential: Option<SecretString>,
}

impl std::fmt::Debug for HttpGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpGateway").field("url", &self.url).finish_non_exhaustive()
    }
}

impl HttpGateway {
    /// The gateway at `url`, authenticated with `credential` (bearer), each
    /// POST bounded by `timeout`.
    pub fn new(url: &str, credential: Option<SecretString>, timeout: Duration) -> reqwest::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("yiciban-notifier/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(HttpGateway { client, url: url.to_owned(), credential })
    }
}

#[derive(serde::Serialize)]
struct Body<'a> {
    message_id: &'a str,
    to: &'a str,
    text: &'a str,
}

#[async_trait]
impl SmsGateway for HttpGateway {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn send(&self, sms: &Sms<'_>) -> Result<(), SendError> {
        let body = Body { message_id: sms.message_id, to: sms.to.expose(), text: sms.text };
        let mut request = self.client.post(&self.url).header("Idempotency-Key", sms.message_id).json(&body);
        if let Some(credential) = &self.credential {
            request = request.bearer_auth(credential.expose_secret());
        }
        let response = match request.send().await {
            Ok(response) => response,
            // Never the error's Display alone: it may carry the URL only,
            // never the body, so the phone stays out of the record.
            Err(e) if e.is_timeout() => {
                return Err(SendError::Unavailable("the gateway did not answer in time".into()));
            }
            Err(e) if e.is_connect() => return Err(SendError::Unavailable("the gateway could not be reached".into())),
            Err(e) => return Err(SendError::Unavailable(format!("the request failed: {}", without_url(&e)))),
        };
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let text = response.text().await.unwrap_or_default();
        // A gateway that echoes the number gets it masked in the record.
        let text = text.replace(sms.to.expose(), &sms.to.masked());
        let excerpt: String = text.chars().filter(|c| !c.is_control()).take(MAX_ERROR_BODY).collect();
        let error = format!("HTTP {}: {}", status.as_u16(), excerpt.trim());
        match status.as_u16() {
            408 | 429 => Err(SendError::Unavailable(error)),
            400..=499 => Err(SendError::Refused(error)),
            _ => Err(SendError::Unavailable(error)),
        }
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut e = e.to_string();
    if let Some(at) = e.find(" for url (") {
        e.truncate(at);
    }
    e
}
