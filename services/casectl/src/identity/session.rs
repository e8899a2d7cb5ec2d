//! A signed-in profile's access token for one service: the cached one while
//! it is fresh, else a new one from the refresh-token grant with the
//! service's audience as the RFC 8707 `resource` (an issuer that ignores
//! `resource`, such as Keycloak, answers with its audience-mapped token,
//! which serves as well).

use anyhow::{anyhow, bail};

use super::issuer::{self, Issuer, Refused};
use super::profile::{AccessToken, Profile, Store};

/// The profile `name`, refused when `expected_issuer` is given and differs
/// from the issuer it was signed in at.
pub fn signed_in(store: &Store, name: &str, expected_issuer: Option<&str>) -> anyhow::Result<Profile> {
    let profile = store.load(name)?.ok_or_else(|| {
        anyhow!("未登录（档案 {name}）/ not signed in as profile {name}: run `casectl login --profile {name}`")
    })?;
    if let Some(expected) = expected_issuer.filter(|e| !issuer::same_issuer(e, &profile.issuer)) {
        bail!(
            "档案 {name} 登录于另一签发方 / profile {name} is signed in at {}, not at {expected}; \
             run `casectl login --profile {name} --issuer {expected}` or choose another --profile",
            profile.issuer
        );
    }
    Ok(profile)
}

/// An access token of profile `name` for `audience`, refreshed when due.
pub async fn access_token(
    store: &Store,
    name: &str,
    expected_issuer: Option<&str>,
    audience: &str,
) -> anyhow::Result<String> {
    if let Some(token) = cached(&signed_in(store, name, expected_issuer)?, audience) {
        return Ok(token);
    }
    // One refresh at a time per profile: a rotated refresh token is spent
    // once, and a second process must read the one the first stored.
    let _lock = store.lock(name)?;
    let mut profile = signed_in(store, name, expected_issuer)?;
    if let Some(token) = cached(&profile, audience) {
        return Ok(token);
    }
    let again = format!("casectl login --profile {name} --issuer {}", profile.issuer);
    let issuer = Issuer::discover(issuer::http_client()?, &profile.issuer).await.map_err(|e| {
        e.context(format!("cannot refresh the sign-in of profile {name}; if this persists, run `{again}`"))
    })?;
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", profile.refresh_token.as_str()),
        ("client_id", profile.client_id.as_str()),
        ("resource", audience),
    ];
    let tokens = issuer.token(&form).await.map_err(|refused| match refused {
        Refused::OAuth { .. } => anyhow!(
            "登录已失效，请重新登录 / the sign-in of profile {name} has expired or was revoked ({refused}); run `{again}`"
        ),
        Refused::Unreachable(_) => anyhow::Error::new(refused)
            .context(format!("cannot refresh the sign-in of profile {name}; if this persists, run `{again}`")),
    })?;
    if let Some(rotated) = tokens.refresh_token.as_deref().filter(|t| !t.is_empty()) {
        profile.refresh_token = rotated.to_owned();
    }
    profile.audiences.retain(|_, token| token.fresh());
    profile.audiences.insert(audience.to_owned(), AccessToken::new(tokens.access_token.clone(), tokens.lifetime()));
    store.save(name, &profile)?;
    Ok(tokens.access_token)
}

fn cached(profile: &Profile, audience: &str) -> Option<String> {
    profile.audiences.get(audience).filter(|t| t.fresh()).map(|t| t.access_token.clone())
}
