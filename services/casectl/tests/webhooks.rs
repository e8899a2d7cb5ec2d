//! `casectl webhooks` against the real webhook service (its own database
//! and NATS prefix): what an administrator types, what is printed, and a
//! refusal explained field by field.

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use common::Home;
use yiciban_eventstore::StreamSettings;
use yiciban_platform::{Role, SystemClock};
use yiciban_testkit::{TestDb, TestIssuer, TestNats};

struct Webhooks {
    _service: yiciban_testkit::ServiceHandle,
    addr: String,
    issuer: TestIssuer,
    _db: TestDb,
    _nats: TestNats,
}

async fn webhooks() -> Webhooks {
    let (db, nats, issuer) = (TestDb::new(5).await, TestNats::new().await, TestIssuer::start().await);
    nats.js.get_or_create_stream(StreamSettings::default().config(&nats.subjects)).await.unwrap();
    let mut env = HashMap::new();
    env.insert("YICIBAN_NATS_PREFIX".to_owned(), nats.subjects.prefix().to_owned());
    issuer.configure(&mut env);
    let mut config = yiciban_webhooks::WebhooksConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let app = yiciban_testkit::spawn_service(yiciban_webhooks::build_with(
        config,
        Arc::new(SystemClock),
        db.pool.clone(),
        nats.js.clone(),
    ))
    .await;
    let addr = format!("http://{}", app.addr);
    Webhooks { _service: app.handle, addr, issuer, _db: db, _nats: nats }
}

impl Webhooks {
    /// `casectl --webhooks-addr … --token <role's> webhooks <args>`.
    async fn run(&self, home: &Home, role: Role, department: Option<&str>, args: &[&str]) -> (bool, String, String) {
        let token = self.issuer.token(role, &format!("{}-1", role.as_str()), department, None);
        let mut all = vec!["--webhooks-addr", self.addr.as_str(), "--token", token.as_str(), "webhooks"];
        all.extend_from_slice(args);
        home.run(&all).await
    }
}

#[tokio::test]
async fn an_administrator_manages_a_departments_subscription_and_an_agent_reads_it() {
    let service = webhooks().await;
    let home = Home::new();
    let admin = |args: &'static [&'static str]| service.run(&home, Role::Admin, None, args);

    let (ok, out, err) = service
        .run(&home, Role::Admin, None, &["create", "--department", "samr", "--url", "https://hooks.samr.example/y"])
        .await;
    assert!(ok, "{err}");
    let secret = out.lines().find_map(|l| l.split("give it to the department): ").nth(1)).expect(&out);
    assert!(secret.starts_with("whsec_") && secret.len() == 49, "{out}");
    let id = out
        .lines()
        .find(|l| l.contains("samr") && l.contains("https://hooks.samr.example/y"))
        .and_then(|l| l.split_whitespace().next())
        .expect(&out)
        .to_owned();
    assert!(out.contains("SLOT") && out.contains("active"), "{out}");

    let (ok, out, err) = admin(&["list"]).await;
    assert!(ok && out.contains(&id), "{out}{err}");
    assert!(!out.contains(secret), "the secret is shown once");
    let (ok, out, err) = service.run(&home, Role::Agent, Some("samr"), &["list"]).await;
    assert!(ok && out.contains(&id), "the department's agent sees it: {out}{err}");
    let (ok, out, _) = service.run(&home, Role::Agent, Some("fire"), &["list"]).await;
    assert!(ok && !out.contains(&id), "another department's does not: {out}");

    let (ok, out, err) = service.run(&home, Role::Admin, None, &["pause", &id]).await;
    assert!(ok && out.contains("paused"), "{out}{err}");
    let (ok, _, err) =
        service.run(&home, Role::Admin, None, &["replay", &id, "--from", "2026-12-01T08:00:00+08:00"]).await;
    assert!(!ok && err.contains("FailedPrecondition") && err.contains("resume it first"), "{err}");
    let (ok, out, err) = service.run(&home, Role::Admin, None, &["resume", &id]).await;
    assert!(ok && out.contains("active"), "{out}{err}");
    let (ok, out, err) =
        service.run(&home, Role::Admin, None, &["replay", &id, "--from", "2026-12-01T08:00:00+08:00"]).await;
    assert!(ok && out.contains("started: 0 event(s)"), "{out}{err}");
    let (ok, out, err) = service.run(&home, Role::Admin, None, &["rotate-secret", &id]).await;
    assert!(ok && out.contains("new signing secret") && !out.contains(secret), "{out}{err}");
    let (ok, out, err) = service.run(&home, Role::Admin, None, &["dead-letters", &id]).await;
    assert!(ok && out.contains("EVENT ID"), "{out}{err}");
    let (ok, _, err) = service.run(&home, Role::Agent, Some("samr"), &["delete", &id]).await;
    assert!(!ok && err.contains("PermissionDenied"), "{err}");
    let (ok, out, err) = service.run(&home, Role::Admin, None, &["delete", &id]).await;
    assert!(ok && out.contains(&format!("deleted {id}")), "{out}{err}");
    let (ok, out, _) = admin(&["list"]).await;
    assert!(ok && !out.contains(&id), "{out}");
}

#[tokio::test]
async fn a_refused_subscription_is_explained_field_by_field_and_nothing_is_stored() {
    let service = webhooks().await;
    let home = Home::new();
    let (ok, _, err) = service
        .run(&home, Role::Admin, None, &["create", "--department", "Not a code", "--url", "ftp://x.example/"])
        .await;
    assert!(!ok, "refused");
    assert!(err.contains("InvalidArgument: 2 problem(s), all listed:"), "{err}");
    assert!(err.contains("- department:") && err.contains("- url:"), "{err}");
    let (ok, out, _) = service.run(&home, Role::Admin, None, &["list"]).await;
    assert!(ok && out.lines().count() <= 1, "nothing stored: {out}");
    let (ok, _, err) = service.run(&home, Role::Admin, None, &["discard", "42"]).await;
    assert!(!ok && err.contains("NotFound") && err.contains("dead letter 42"), "{err}");
}
