//! The issuer's short-lived server-side state: authorization requests
//! waiting on the sign-in page, authorization codes and refresh tokens.
//! Every value is an unguessable random string, single-use, and expires.
//! A code or refresh token presented twice revokes every refresh token of
//! its sign-in (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;

/// How long the sign-in page of one authorization request stays usable.
const PAGE_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a spent code or refresh token is remembered to detect replay.
const SPENT_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// 256 random bits, base64url.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A validated authorization request waiting for the user to pick who signs in.
#[derive(Debug, Clone)]
pub struct Authorization {
    /// The requesting client.
    pub client_id: String,
    /// The validated redirect URI.
    pub redirect_uri: String,
    /// The PKCE S256 challenge.
    pub code_challenge: String,
    /// The client's `state`, returned unchanged.
    pub state: String,
    /// The granted scope.
    pub scope: String,
    /// The OpenID Connect `nonce`, echoed in the ID token.
    pub nonce: Option<String>,
}

/// What an authorization code stands for.
#[derive(Debug, Clone)]
pub struct Code {
    /// The request it answers.
    pub authorization: Authorization,
    /// Who signed in.
    pub username: String,
    /// When they signed in (seconds since the epoch).
    pub auth_time: u64,
}

/// What a refresh token stands for.
#[derive(Debug, Clone)]
pub struct Refresh {
    /// The client it was issued to.
    pub client_id: String,
    /// Who signed in.
    pub username: String,
    /// The scope granted at sign-in.
    pub scope: String,
    /// When they signed in.
    pub auth_time: u64,
    /// The sign-in it descends from.
    family: String,
}

/// Why a code or refresh token was not redeemed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Never issued, or expired.
    Unknown,
    /// Already used: the sign-in's refresh tokens are now revoked.
    Replayed,
}

struct Entry<T> {
    value: T,
    expires: Instant,
}

#[derive(Default)]
struct State {
    pages: HashMap<String, Entry<Authorization>>,
    codes: HashMap<String, Entry<(Code, String)>>,
    refresh: HashMap<String, Entry<Refresh>>,
    /// Spent codes and refresh tokens with their sign-in.
    spent: HashMap<String, Entry<String>>,
}

impl State {
    fn purge(&mut self) {
        let now = Instant::now();
        self.pages.retain(|_, e| e.expires > now);
        self.codes.retain(|_, e| e.expires > now);
        self.refresh.retain(|_, e| e.expires > now);
        self.spent.retain(|_, e| e.expires > now);
    }

    fn revoke_family(&mut self, family: &str) {
        self.refresh.retain(|_, e| e.value.family != family);
    }

    fn spend(&mut self, token: String, family: String) {
        self.spent.insert(token, Entry { value: family, expires: Instant::now() + SPENT_MEMORY });
    }

    fn replayed(&mut self, token: &str) -> Refused {
        match self.spent.get(token).map(|e| e.value.clone()) {
            Some(family) => {
                self.revoke_family(&family);
                Refused::Replayed
            }
            None => Refused::Unknown,
        }
    }
}

/// The issuer's pending requests, codes and refresh tokens.
#[derive(Default)]
pub struct Grants {
    state: Mutex<State>,
}

impl Grants {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.state.lock().expect("grants lock");
        state.purge();
        state
    }

    /// Keeps a validated request for its sign-in page; the returned token is
    /// the page's hidden field, the only way to complete this request.
    pub fn await_sign_in(&self, authorization: Authorization) -> String {
        let token = random_token();
        let entry = Entry { value: authorization, expires: Instant::now() + PAGE_TTL };
        self.lock().pages.insert(token.clone(), entry);
        token
    }

    /// The request behind a page's hidden field, once.
    pub fn take_sign_in(&self, token: &str) -> Option<Authorization> {
        self.lock().pages.remove(token).map(|e| e.value)
    }

    /// A new authorization code for `code`, valid for `ttl`.
    pub fn issue_code(&self, code: Code, ttl: Duration) -> String {
        let token = random_token();
        let family = random_token();
        self.lock().codes.insert(token.clone(), Entry { value: (code, family), expires: Instant::now() + ttl });
        token
    }

    /// Redeems an authorization code: it is spent whatever the caller then
    /// finds wrong with the request. Returns the code and its sign-in family.
    pub fn redeem_code(&self, token: &str) -> Result<(Code, String), Refused> {
        let mut state = self.lock();
        match state.codes.remove(token) {
            Some(entry) => {
                state.spend(token.into(), entry.value.1.clone());
                Ok(entry.value)
            }
            None => Err(state.replayed(token)),
        }
    }

    /// A new refresh token of the sign-in `family`.
    pub fn issue_refresh(
        &self,
        client_id: &str,
        username: &str,
        scope: &str,
        auth_time: u64,
        family: String,
        ttl: Duration,
    ) -> String {
        let token = random_token();
        let value =
            Refresh { client_id: client_id.into(), username: username.into(), scope: scope.into(), auth_time, family };
        self.lock().refresh.insert(token.clone(), Entry { value, expires: Instant::now() + ttl });
        token
    }

    /// Redeems a refresh token (rotation: it is spent, the caller issues the
    /// next one in the same family with [`Refresh::family`]).
    pub fn redeem_refresh(&self, token: &str) -> Result<Refresh, Refused> {
        let mut state = self.lock();
        match state.refresh.remove(token) {
            Some(entry) => {
                state.spend(token.into(), entry.value.family.clone());
                Ok(entry.value)
            }
            None => Err(state.replayed(token)),
        }
    }
}

impl Grants {
    /// Revokes the sign-in of the refresh token `token` if it was issued to
    /// `client_id` (RFC 7009 §2.1: revoking a refresh token may revoke the
    /// whole grant); whether there was such a live token.
    pub fn revoke_refresh(&self, token: &str, client_id: &str) -> bool {
        let mut state = self.lock();
        let family =
            state.refresh.get(token).filter(|e| e.value.client_id == client_id).map(|e| e.value.family.clone());
        match family {
            Some(family) => {
                state.revoke_family(&family);
                true
            }
            None => false,
        }
    }

    /// Whether `username` holds a live refresh token (tests: a signed-out
    /// client revoked its sign-in).
    pub fn holds_refresh_token(&self, username: &str) -> bool {
        self.lock().refresh.values().any(|e| e.value.username == username)
    }
}

impl Refresh {
    /// The sign-in this token descends from.
    pub fn family(&self) -> String {
        self.family.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code() -> Code {
        Code {
            authorization: Authorization {
                client_id: "c".into(),
                redirect_uri: "http://127.0.0.1:1/cb".into(),
                code_challenge: "x".into(),
                state: "s".into(),
                scope: "openid".into(),
                nonce: None,
            },
            username: "clerk-001".into(),
            auth_time: 0,
        }
    }

    #[test]
    fn a_replayed_code_revokes_the_refresh_tokens_of_its_sign_in() {
        let grants = Grants::default();
        let token = grants.issue_code(code(), Duration::from_secs(60));
        let (_, family) = grants.redeem_code(&token).expect("first use");
        let refresh = grants.issue_refresh("c", "clerk-001", "openid", 0, family, Duration::from_secs(60));
        assert_eq!(grants.redeem_code(&token).unwrap_err(), Refused::Replayed);
        assert_eq!(grants.redeem_refresh(&refresh).unwrap_err(), Refused::Unknown);
        assert_eq!(grants.redeem_code("never-issued").unwrap_err(), Refused::Unknown);
    }

    #[test]
    fn a_replayed_refresh_token_revokes_its_successor() {
        let grants = Grants::default();
        let first = grants.issue_refresh("c", "u", "", 0, "f".into(), Duration::from_secs(60));
        let old = grants.redeem_refresh(&first).expect("first use");
        let second = grants.issue_refresh("c", "u", "", 0, old.family(), Duration::from_secs(60));
        assert_eq!(grants.redeem_refresh(&first).unwrap_err(), Refused::Replayed);
        assert_eq!(grants.redeem_refresh(&second).unwrap_err(), Refused::Unknown);
    }

    #[test]
    fn revoking_a_refresh_token_revokes_its_sign_in_for_its_own_client_only() {
        let grants = Grants::default();
        let token = grants.issue_refresh("c", "u", "", 0, "f".into(), Duration::from_secs(60));
        assert!(!grants.revoke_refresh(&token, "another-client"));
        assert!(grants.holds_refresh_token("u"));
        assert!(grants.revoke_refresh(&token, "c"));
        assert!(!grants.holds_refresh_token("u"));
        assert_eq!(grants.redeem_refresh(&token).unwrap_err(), Refused::Unknown);
    }

    #[test]
    fn codes_expire() {
        let grants = Grants::default();
        let token = grants.issue_code(code(), Duration::ZERO);
        assert_eq!(grants.redeem_code(&token).unwrap_err(), Refused::Unknown);
    }

    #[test]
    fn a_sign_in_page_completes_once() {
        let grants = Grants::default();
        let page = grants.await_sign_in(code().authorization);
        assert!(grants.take_sign_in(&page).is_some());
        assert!(grants.take_sign_in(&page).is_none());
    }
}
