//! Getting tokens from the test provider over HTTP, as its clients would:
//! client credentials for services; authorization code with PKCE (S256)
//! for people, driving the provider's login and consent pages with a cookie
//! jar as a browser would (also for an authorization URL a client made);
//! refresh.

use anyhow::{Context as _, bail};
use base64::Engine as _;
use reqwest::Url;
use sha2::{Digest as _, Sha256};

use super::OidcProvider;
use super::browser::{Browser, Stop};
use super::config::{CASECTL_CLIENT, random_secret};

/// What the token endpoint hands out.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Tokens {
    /// The access token (a JWT for the requested resource).
    pub access_token: String,
    /// The refresh token, for clients allowed the refresh grant.
    pub refresh_token: Option<String>,
    /// The ID token (with scope `openid`).
    pub id_token: Option<String>,
    /// Seconds until the access token expires.
    pub expires_in: Option<u64>,
}

impl OidcProvider {
    /// A client credentials token of `client_id` (authenticated with
    /// `secret` as registered: HTTP Basic unless the client uses
    /// `client_secret_post`) for the resource (audience) `resource`. Fails,
    /// saying what the provider answered, when it refuses.
    pub async fn client_credentials(&self, client_id: &str, secret: &str, resource: &str) -> anyhow::Result<String> {
        let form = [("grant_type", "client_credentials"), ("resource", resource)];
        let tokens = self.token_request(client_id, Some(secret), &form).await?;
        Ok(tokens.access_token)
    }

    /// Signs `username` in at the client `client_id` (public, or
    /// confidential with its configured secret) by the authorization code
    /// flow with PKCE S256: the authorization request (scope `openid
    /// profile yiciban.identity`, every resource the provider knows as RFC 8707 `resource`
    /// parameters, so that a refresh may ask for any), the provider's login form
    /// (filled with the username and some password) and consent form, the
    /// redirect to `redirect_uri` with the code (nothing needs to listen
    /// there), and the code exchanged for tokens for `resource`.
    pub async fn authorization_code(
        &self,
        username: &str,
        client_id: &str,
        redirect_uri: &str,
        resource: &str,
    ) -> anyhow::Result<Tokens> {
        let verifier = random_secret();
        let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        let state = random_secret();
        let mut url = Url::parse(&self.discovery.authorization_endpoint)?;
        url.query_pairs_mut()
            .append_pair("client_id", client_id)
            .append_pair("response_type", "code")
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("scope", "openid profile yiciban.identity")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("state", &state)
            .append_pair("nonce", &random_secret());
        // Every resource the client may later want tokens for is asked for
        // at once (RFC 8707): a refresh may then name any of them.
        for granted in &self.config.resources {
            url.query_pairs_mut().append_pair("resource", granted);
        }
        let redirect = self.sign_in_at(url.as_str(), username).await?;
        if !redirect.as_str().starts_with(redirect_uri) {
            bail!("the sign-in of {username} redirected to {redirect}, not to {redirect_uri}");
        }
        let code = code_from_redirect(&redirect, &state)?;
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri),
            ("code_verifier", verifier.as_str()),
            ("resource", resource),
        ];
        let secret = self.config.client(client_id).and_then(|c| c.client_secret.clone());
        self.token_request(client_id, secret.as_deref(), &form).await
    }

    /// Acts as the browser of a person given the authorization URL
    /// `authorization_url` (as a client prints or opens it): opens it with
    /// an empty cookie jar, signs `username` in on the login page (any
    /// password) and consents, and returns the redirect that leaves the
    /// provider (to the client's redirect URI, with the code or an error)
    /// without following it. Fails when the provider shows anything else.
    pub async fn sign_in_at(&self, authorization_url: &str, username: &str) -> anyhow::Result<Url> {
        let url = Url::parse(authorization_url).with_context(|| format!("{authorization_url:?} is not a URL"))?;
        match Browser::new(&self.issuer)?.open(url, username).await? {
            Stop::Redirect(redirect) => Ok(redirect),
            Stop::Page(at, page) => bail!("the sign-in of {username} stopped on a page at {at}: {page}"),
        }
    }

    /// New tokens for `resource` from a refresh token of the public client
    /// `yiciban-casectl` (the provider rotates refresh tokens of public
    /// clients: use the returned one next).
    pub async fn refresh(&self, refresh_token: &str, resource: &str) -> anyhow::Result<Tokens> {
        self.refresh_as(CASECTL_CLIENT, refresh_token, resource).await
    }

    /// Like [`refresh`](Self::refresh) for the client `client_id`
    /// (authenticated with its configured secret if it has one).
    pub async fn refresh_as(&self, client_id: &str, refresh_token: &str, resource: &str) -> anyhow::Result<Tokens> {
        let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("resource", resource)];
        let secret = self.config.client(client_id).and_then(|c| c.client_secret.clone());
        self.token_request(client_id, secret.as_deref(), &form).await
    }

    /// What the provider's introspection endpoint (RFC 7662) says of
    /// `token`, asked by `client_id` (authenticated with its configured
    /// secret if it has one; a public client may ask only of its own
    /// tokens): `{"active": false}` for a token revoked, spent or unknown.
    pub async fn introspect(&self, client_id: &str, token: &str) -> anyhow::Result<serde_json::Value> {
        let endpoint =
            self.discovery.introspection_endpoint.as_deref().context("the provider names no introspection_endpoint")?;
        let secret = self.config.client(client_id).and_then(|c| c.client_secret.clone());
        let body = self.post_as(endpoint, client_id, secret.as_deref(), &[("token", token)]).await?;
        serde_json::from_str(&body).with_context(|| format!("the introspection endpoint's answer: {body}"))
    }

    /// The provider's userinfo answer to `access_token` (as the services ask
    /// it: `GET` with the bearer token): the HTTP status and the JSON body.
    pub async fn userinfo(&self, access_token: &str) -> anyhow::Result<(u16, serde_json::Value)> {
        let endpoint =
            self.discovery.userinfo_endpoint.as_deref().context("the provider names no userinfo_endpoint")?;
        let response = self.http.get(endpoint).bearer_auth(access_token).send().await?;
        let status = response.status().as_u16();
        let body = response.text().await?;
        let json = serde_json::from_str(&body).with_context(|| format!("the userinfo answer ({status}): {body}"))?;
        Ok((status, json))
    }

    /// A request to the token endpoint as `client_id` (see [`post_as`](Self::post_as)).
    async fn token_request(
        &self,
        client_id: &str,
        secret: Option<&str>,
        form: &[(&str, &str)],
    ) -> anyhow::Result<Tokens> {
        let body = self.post_as(&self.discovery.token_endpoint, client_id, secret, form).await?;
        serde_json::from_str(&body).with_context(|| format!("the token endpoint's answer: {body}"))
    }

    /// A form POST to `endpoint` as `client_id`: with `secret` by HTTP Basic
    /// (or in the form for `client_secret_post` clients), without one as a
    /// public client (its id in the form). The body of a 2xx answer.
    async fn post_as(
        &self,
        endpoint: &str,
        client_id: &str,
        secret: Option<&str>,
        form: &[(&str, &str)],
    ) -> anyhow::Result<String> {
        let post_secret = self
            .config
            .client(client_id)
            .and_then(|c| c.token_endpoint_auth_method.as_deref())
            .is_some_and(|m| m == "client_secret_post");
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        let mut request = self.http.post(endpoint);
        match secret {
            Some(secret) if !post_secret => {
                request = request.basic_auth(form_encode(client_id), Some(form_encode(secret)))
            }
            Some(secret) => fields.extend([("client_id", client_id), ("client_secret", secret)]),
            None => fields.push(("client_id", client_id)),
        }
        let response = request.form(&fields).send().await?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("{endpoint} refused ({status}): {body}");
        }
        Ok(body)
    }
}

/// RFC 6749 2.3.1: client id and secret are form-encoded before Basic.
fn form_encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The code of the redirect back to the client, checking `state`.
fn code_from_redirect(redirect: &Url, state: &str) -> anyhow::Result<String> {
    let param = |name: &str| redirect.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned());
    if let Some(error) = param("error") {
        bail!("the provider redirected with error {error}: {}", param("error_description").unwrap_or_default());
    }
    if param("state").as_deref() != Some(state) {
        bail!("the redirect {redirect} does not carry the state sent");
    }
    param("code").with_context(|| format!("the redirect {redirect} carries no code"))
}
