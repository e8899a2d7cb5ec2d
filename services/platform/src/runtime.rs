//! Process plumbing: connecting to Postgres and NATS with clear errors, and a
//! shutdown token cancelled by SIGTERM or Ctrl-C.

use std::time::Duration;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use tokio_util::sync::CancellationToken;

use crate::config::CommonConfig;

/// Opens the Postgres pool named by the configuration.
pub async fn connect_db(config: &CommonConfig) -> anyhow::Result<PgPool> {
    let options: sqlx::postgres::PgConnectOptions =
        config.database_url.expose_secret().parse().context("parsing DATABASE_URL")?;
    let options = options.options([
        ("statement_timeout", millis(config.db_statement_timeout)),
        ("idle_in_transaction_session_timeout", millis(config.db_idle_in_transaction_timeout)),
    ]);
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .context("connecting to Postgres at DATABASE_URL")
}

/// A Postgres duration setting in milliseconds (0 = no limit).
fn millis(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

/// Creates the database named in `DATABASE_URL` if it does not exist yet
/// (connecting to the server's `postgres` database to do so). For local runs.
pub async fn ensure_database(config: &CommonConfig) -> anyhow::Result<()> {
    use sqlx::ConnectOptions as _;
    use sqlx::Connection as _;
    let options: sqlx::postgres::PgConnectOptions =
        config.database_url.expose_secret().parse().context("parsing DATABASE_URL")?;
    let name = options.get_database().unwrap_or("postgres").to_owned();
    if yiciban_eventstore::migrate::validate_schema_name(&name).is_err() {
        anyhow::bail!(
            "DATABASE_URL names database {name:?}; use lower-case letters, digits and '_', starting with a letter"
        );
    }
    let mut conn =
        options.clone().database("postgres").connect().await.context("connecting to Postgres at DATABASE_URL")?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        tracing::info!(database = %name, "creating the database");
        sqlx::query(yiciban_eventstore::sql::names_sql("CREATE DATABASE {database}", &[("database", &name)]))
            .execute(&mut conn)
            .await
            .context("creating the database")?;
    }
    let _ = conn.close().await;
    Ok(())
}

/// Connects to NATS as the service: named `yiciban-<service>`, with its
/// inbox prefix `_INBOX_svc-<service>` (the only replies its identity may
/// receive), logged in and checking the server as `NATS_NKEY_SEED_FILE`,
/// `NATS_CA_FILE` and the client certificate say ([`crate::nats::NatsAuth`]).
/// A password in `NATS_URL` logs in only in development mode (the
/// configuration refuses it elsewhere) and never appears in an error.
pub async fn connect_nats(config: &CommonConfig, service: &str) -> anyhow::Result<async_nats::Client> {
    let inbox = yiciban_eventstore::identities::Identity::service(service)
        .map(|i| i.inbox_prefix())
        .unwrap_or_else(|| format!("_INBOX_svc-{service}"));
    let (url, options) =
        config.nats_auth.options(&config.nats_url, &format!("yiciban-{service}"), &inbox, config.dev_mode)?;
    options.retry_on_initial_connect().connect(&url).await.with_context(|| format!("connecting to NATS at {url}"))
}

/// A token cancelled on SIGTERM or Ctrl-C, so servers drain and exit.
pub fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested; draining");
        t.cancel();
    });
    token
}

#[cfg(test)]
mod tests {
    /// Against the real Postgres (`DATABASE_URL`, as `make test` sets it):
    /// the service's sessions carry both timeouts, and a statement that
    /// outlives its limit is cancelled.
    #[tokio::test]
    async fn the_services_sessions_cancel_long_statements_and_idle_transactions() {
        let url =
            std::env::var("DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let mut config = crate::CommonConfig::from_source(
            &crate::config::development_env(&[
                ("DATABASE_URL", url.as_str()),
                ("YICIBAN_DB_STATEMENT_TIMEOUT", "300ms"),
                ("YICIBAN_DB_IDLE_IN_TRANSACTION_TIMEOUT", "2s"),
            ]),
            1,
        )
        .unwrap();
        config.db_max_connections = 1;
        let pool = super::connect_db(&config).await.unwrap();
        let idle: String =
            sqlx::query_scalar("SHOW idle_in_transaction_session_timeout").fetch_one(&pool).await.unwrap();
        assert_eq!(idle, "2s");
        let cancelled = sqlx::query("SELECT pg_sleep(2)").execute(&pool).await.unwrap_err();
        let code = cancelled.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("57014"), "{cancelled}");
    }
}
