//! The loopback redirect of a native app (RFC 8252 §7.3): casectl listens on
//! `http://127.0.0.1:<random port>/callback` before it builds the
//! authorization URL, takes the one authorization response that carries the
//! `state` it sent, and answers the browser with a short page.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

/// What the callback received: the code, or why the sign-in failed.
type Outcome = Result<String, String>;

/// The listening callback of one sign-in.
#[derive(Debug)]
pub struct Callback {
    redirect_uri: String,
    outcome: oneshot::Receiver<Outcome>,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<()>,
}

struct Expected {
    state: String,
    issuer: String,
    deliver: Mutex<Option<oneshot::Sender<Outcome>>>,
}

impl Callback {
    /// Listens on a random loopback port for the response to an
    /// authorization request sent with `state` to `issuer`.
    pub async fn bind(state: String, issuer: String) -> anyhow::Result<Callback> {
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.context("cannot listen on a loopback port")?;
        let port = listener.local_addr()?.port();
        let (deliver, outcome) = oneshot::channel();
        let expected = Arc::new(Expected { state, issuer, deliver: Mutex::new(Some(deliver)) });
        let app = Router::new().route("/callback", get(receive)).with_state(expected);
        let stop = CancellationToken::new();
        let stopped = stop.clone();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).with_graceful_shutdown(stopped.cancelled_owned()).await;
        });
        Ok(Callback { redirect_uri: format!("http://127.0.0.1:{port}/callback"), outcome, stop, server })
    }

    /// `http://127.0.0.1:<port>/callback`.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits up to `timeout` for the authorization code.
    pub async fn code(self, timeout: Duration) -> anyhow::Result<String> {
        let Callback { outcome, stop, server, .. } = self;
        let outcome = tokio::time::timeout(timeout, outcome).await;
        stop.cancel();
        // Let the page reach the browser before the process goes on.
        let _ = tokio::time::timeout(Duration::from_secs(2), server).await;
        match outcome {
            Err(_) => bail!("no sign-in within {} s; run `casectl login` again", timeout.as_secs()),
            Ok(Err(_)) => Err(anyhow!("the callback listener stopped")),
            Ok(Ok(Ok(code))) => Ok(code),
            Ok(Ok(Err(why))) => Err(anyhow!("sign-in refused at the callback: {why}")),
        }
    }
}

/// `GET /callback?code=…&state=…` (or `error=…`): the first response
/// decides; one whose `state` differs is refused and ends the sign-in.
async fn receive(State(expected): State<Arc<Expected>>, RawQuery(query): RawQuery) -> Response {
    let Some(deliver) = expected.deliver.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take() else {
        return page(StatusCode::GONE, FAILED, "本次登录已结束。", "This sign-in is over.");
    };
    let outcome = judge(&expected, query.as_deref().unwrap_or_default());
    let response = match &outcome {
        Ok(_) => page(
            StatusCode::OK,
            SIGNED_IN,
            "登录成功，可以关闭此窗口，回到终端。",
            "Signed in. You may close this window and return to the terminal.",
        ),
        Err(_) => page(
            StatusCode::BAD_REQUEST,
            FAILED,
            "登录未完成，请查看终端中的说明。",
            "The sign-in failed; see the terminal.",
        ),
    };
    let _ = deliver.send(outcome);
    response
}

fn judge(expected: &Expected, query: &str) -> Outcome {
    let mut state = None;
    let mut code = None;
    let mut iss = None;
    let mut error = None;
    let mut description = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let slot = match name.as_ref() {
            "state" => &mut state,
            "code" => &mut code,
            "iss" => &mut iss,
            "error" => &mut error,
            "error_description" => &mut description,
            _ => continue,
        };
        if slot.replace(value.into_owned()).is_some() {
            return Err(format!("parameter {name} sent twice"));
        }
    }
    if state.as_deref() != Some(expected.state.as_str()) {
        return Err(
            "the state parameter does not match the request (a forged or stale response); nothing was stored".into()
        );
    }
    // RFC 9207: when the issuer names itself, it must be the one asked.
    if let Some(iss) = iss.filter(|iss| !super::issuer::same_issuer(iss, &expected.issuer)) {
        return Err(format!("the response names the issuer {iss:?}, not {:?}", expected.issuer));
    }
    if let Some(error) = error {
        return Err(match description {
            Some(d) => format!("the issuer answered {error}: {d}"),
            None => format!("the issuer answered {error}"),
        });
    }
    code.filter(|c| !c.is_empty()).ok_or_else(|| "the response carries no code".to_owned())
}

const SIGNED_IN: &str = "已登录 · Signed in";
const FAILED: &str = "登录失败 · Sign-in failed";

/// A small static page (no value from the request is shown in it).
fn page(status: StatusCode, title: &str, chinese: &str, english: &str) -> Response {
    let body = format!(
        "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>casectl · {title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{chinese}</p><p lang=\"en\">{english}</p></body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expected() -> Expected {
        Expected { state: "s1".into(), issuer: "http://127.0.0.1:8081".into(), deliver: Mutex::new(None) }
    }

    #[test]
    fn only_the_matching_state_yields_the_code() {
        assert_eq!(judge(&expected(), "code=c1&state=s1&iss=http%3A%2F%2F127.0.0.1%3A8081"), Ok("c1".into()));
        assert!(judge(&expected(), "code=c1&state=s2").unwrap_err().contains("state"));
        assert!(judge(&expected(), "code=c1").unwrap_err().contains("state"));
        assert!(judge(&expected(), "code=c1&state=s1&state=s1").is_err());
    }

    #[test]
    fn an_error_or_another_issuer_is_refused() {
        let e = judge(&expected(), "error=access_denied&error_description=cancelled&state=s1").unwrap_err();
        assert!(e.contains("access_denied") && e.contains("cancelled"), "{e}");
        assert!(judge(&expected(), "code=c1&state=s1&iss=https%3A%2F%2Fevil.example").unwrap_err().contains("evil"));
        assert!(judge(&expected(), "code=&state=s1").is_err());
    }
}
