//! `casectl login | logout | whoami | token`: signing in at the OpenID
//! Connect issuer into a profile, signing out, showing who a profile is,
//! and printing a profile's access token for one service (for grpcurl).

use anyhow::Context as _;
use clap::Args;

use crate::connect::Connection;
use crate::identity::claims::Holder;
use crate::identity::issuer::{self, Issuer};
use crate::identity::profile::{AccessToken, Profile};
use crate::identity::{self as id, device, login, session};

/// The scopes `casectl login` asks for unless `--scope` says otherwise.
pub const DEFAULT_SCOPE: &str = "openid profile offline_access yiciban.identity";

/// `casectl login`.
#[derive(Debug, Clone, Args)]
pub struct LoginArgs {
    /// casectl's client id at the issuer (a public client: code + PKCE, refresh tokens).
    #[arg(long, default_value = id::DEFAULT_CLIENT_ID)]
    pub client_id: String,
    /// Sign in as this user: sent as `login_hint`. Where the issuer honours it
    /// without a page (the development issuer of `make run` does for its
    /// seeded users) no browser is needed; elsewhere the browser still is.
    #[arg(long, value_name = "USERNAME")]
    pub user: Option<String>,
    /// Use the device authorization grant (RFC 8628): enter a code on any
    /// other device. Needs the issuer to offer it.
    #[arg(long, conflicts_with = "user")]
    pub device: bool,
    /// Do not start a browser; only print the address to open.
    #[arg(long)]
    pub no_browser: bool,
    /// Scopes to ask for. casectl needs a refresh token (it gets each
    /// service's token with it), and OpenID Connect issuers give one to a
    /// public client by the standard only for `offline_access`, which
    /// casectl then asks for with `prompt=consent` (OpenID Connect Core §11;
    /// the issuer may show its consent page). Keycloak then issues an
    /// offline token (the user needs the realm role `offline_access`, a
    /// default role). Drop `offline_access` only where the issuer gives
    /// refresh tokens without it. `yiciban.identity` lets the services ask
    /// the issuer's userinfo for an applicant's ID number or credit code (no
    /// token carries it); an applicant signed in without it is refused.
    #[arg(long, default_value = DEFAULT_SCOPE)]
    pub scope: String,
}

/// Signs in and stores the profile.
pub async fn login(conn: &Connection, args: LoginArgs) -> anyhow::Result<()> {
    let name = conn.profile_name()?;
    let store = conn.store()?;
    let issuer_url = conn.issuer.as_deref().unwrap_or(id::DEFAULT_ISSUER);
    let issuer = Issuer::discover(issuer::http_client()?, issuer_url).await?;
    let tokens = if args.device {
        device::sign_in(&issuer, &args.client_id, &args.scope).await?
    } else {
        let flow = login::CodeFlow {
            client_id: &args.client_id,
            scope: &args.scope,
            user: args.user.as_deref(),
            no_browser: args.no_browser,
        };
        login::sign_in(&issuer, &flow).await?
    };
    let refresh_token = login::require_refresh_token(&tokens)?.to_owned();
    let holder = Holder::of(&tokens.access_token);
    let profile = Profile {
        issuer: issuer.id().to_owned(),
        client_id: args.client_id,
        username: holder.as_ref().and_then(|h| h.username.clone()),
        refresh_token,
        signed_in: AccessToken::new(tokens.access_token.clone(), tokens.lifetime()),
        audiences: Default::default(),
    };
    {
        let _lock = store.lock(&name)?;
        store.save(&name, &profile)?;
    }
    let who = profile.username.as_deref().unwrap_or("(未知用户 / unknown user)");
    let role = holder.and_then(|h| h.role.ok()).map(|r| format!("（{r}）")).unwrap_or_default();
    eprintln!("已登录 / signed in: {who}{role} @ {} — 档案 profile {name}", profile.issuer);
    eprintln!("文件 / file: {}", store.path(&name)?.display());
    Ok(())
}

/// Revokes the refresh token where the issuer allows, then deletes the profile.
pub async fn logout(conn: &Connection) -> anyhow::Result<()> {
    let name = conn.profile_name()?;
    let store = conn.store()?;
    let _lock = store.lock(&name)?;
    let Some(profile) = store.load(&name)? else {
        eprintln!("档案 {name} 未登录 / profile {name} is not signed in");
        return Ok(());
    };
    let revoked = match Issuer::discover(issuer::http_client()?, &profile.issuer).await {
        Ok(issuer) => issuer.revoke(&profile.client_id, &profile.refresh_token).await,
        Err(e) => Err(e),
    };
    match revoked {
        Ok(true) => eprintln!("已在签发方撤销 / revoked at {}", profile.issuer),
        Ok(false) => eprintln!(
            "签发方未提供撤销端点，令牌到期前仍有效 / {} names no revocation_endpoint; the tokens stay valid until they expire",
            profile.issuer
        ),
        Err(e) => eprintln!("未能在签发方撤销 / could not revoke at the issuer: {e:#}"),
    }
    store.delete(&name)?;
    eprintln!("已删除档案 / profile {name} deleted");
    Ok(())
}

/// Prints issuer, username, role and department of the profile (or of `--token`).
pub fn whoami(conn: &Connection) -> anyhow::Result<()> {
    let (source, issuer, token) = match &conn.token {
        Some(token) => ("--token".to_owned(), None, token.clone()),
        None => {
            let name = conn.profile_name()?;
            let profile = session::signed_in(&conn.store()?, &name, conn.issuer.as_deref())?;
            (format!("档案 profile {name}"), Some(profile.issuer), profile.signed_in.access_token)
        }
    };
    let holder = Holder::of(&token).context("the token is not a JWT; nothing to show")?;
    let dash = || "—".to_owned();
    println!("来源 source:        {source}");
    println!("签发方 issuer:      {}", issuer.unwrap_or_else(dash));
    println!("用户 username:      {}", holder.username.unwrap_or_else(dash));
    println!("角色 role:          {}", holder.role.unwrap_or_else(|why| format!("— ({why})")));
    println!("部门 department:    {}", holder.department.unwrap_or_else(dash));
    println!("（取自令牌声明，本地未验证签名 / read from the token's claims, not verified here; the services verify)");
    Ok(())
}

/// Prints an access token for `service` (the profile's, refreshed when due).
pub async fn token(conn: &Connection, service: &str) -> anyhow::Result<()> {
    println!("{}", conn.access_token(service).await?);
    Ok(())
}
