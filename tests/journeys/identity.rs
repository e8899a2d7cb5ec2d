//! Identity against a real, independently written OpenID Connect provider:
//! the OpenID-Certified `oidc-provider` from the npm registry
//! (tests/oidc-provider, installed by `make oidc-provider`). The services
//! verify its tokens by discovery and JWKS exactly as they would Keycloak's;
//! they fetch their own tokens from it by client credentials; it rotates its
//! keys in the middle of a run; and every kind of bad token is refused with
//! `UNAUTHENTICATED` and a message that names the reason without repeating
//! the token — changing nothing. An applicant's tokens hold no ID number:
//! intake learns it from the provider's userinfo and keeps only its keyed
//! hash, so the applicant reaches its own case and nobody else's, and while
//! the provider is down an applicant not seen before gets `UNAVAILABLE`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tonic::Code;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::ManualClock;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::intake::v1 as intake;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::routing::v1 as routing;
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::tasks::v1 as tasks;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;
use yiciban_testkit::oidc::SigningAlg;
use yiciban_testkit::{
    OidcProvider, ProviderConfig, ReservedPort, ServiceHandle, TestDb, TestNats, eventually, spawn_service,
};

const REDIRECT: &str = "http://127.0.0.1:9/callback";
const CASECTL: &str = "yiciban-casectl";

fn audience(service: &str) -> String {
    format!("urn:yiciban:{service}")
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

/// What a service trusting `provider` is configured with, plus `extra`.
fn env(provider: &OidcProvider, nats: &TestNats, service: &str, extra: &[(&str, String)]) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = [
        ("YICIBAN_NATS_PREFIX", nats.subjects.prefix().to_owned()),
        // Development mode only because the provider serves plain http on
        // loopback; the tokens take the production path.
        ("YICIBAN_DEV_MODE", "true".to_owned()),
        ("YICIBAN_OIDC_ISSUER", provider.issuer().to_owned()),
        ("YICIBAN_OIDC_CLIENT_SECRET", provider.config().secret(&format!("yiciban-{service}")).to_owned()),
        ("YICIBAN_OIDC_KEYS_MIN_REFETCH", "1s".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    env.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    env
}

type Routing = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;

fn routing_as(channel: &Channel, token: &str) -> Routing {
    RoutingServiceClient::with_interceptor(channel.clone(), ClientAuth::new(Some(token)))
}

/// Routing alone, trusting `provider` (its peers are not running).
async fn routing_service(provider: &OidcProvider, db: &TestDb, nats: &TestNats) -> (ServiceHandle, Channel) {
    let nowhere = "http://127.0.0.1:9".to_owned();
    let env =
        env(provider, nats, "routing", &[("YICIBAN_TASKS_URL", nowhere.clone()), ("YICIBAN_ISSUANCE_URL", nowhere)]);
    let mut config = yiciban_routing::RoutingConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let clock = Arc::new(ManualClock::new("2026-09-28T02:00:00Z".parse().unwrap()));
    let app = spawn_service(yiciban_routing::build_with(config, clock, db.pool.clone(), nats.js.clone())).await;
    (app.handle, app.channel)
}

/// A supervisor's read of a case nobody planned: NOT_FOUND once the token
/// is accepted; the status otherwise.
async fn read_as(channel: &Channel, token: &str) -> Result<(), tonic::Status> {
    let case_id = uuid_v7();
    match routing_as(channel, token).get_plan(routing::GetPlanRequest { case_id }).await {
        Err(s) if s.code() == Code::NotFound => Ok(()),
        Err(s) => Err(s),
        Ok(_) => panic!("a plan of a case nobody planned"),
    }
}

type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;

fn intake_as(channel: &Channel, token: &str) -> Intake {
    IntakeServiceClient::with_interceptor(channel.clone(), ClientAuth::new(Some(token)))
}

/// Intake alone, trusting `provider` (its peers are not running).
async fn intake_service(provider: &OidcProvider, db: &TestDb, nats: &TestNats) -> (ServiceHandle, Channel) {
    let nowhere = "http://127.0.0.1:9".to_owned();
    let peers = [
        ("YICIBAN_TASKS_URL", nowhere.clone()),
        ("YICIBAN_ROUTING_URL", nowhere.clone()),
        ("YICIBAN_ISSUANCE_URL", nowhere),
    ];
    let mut config = yiciban_intake::IntakeConfig::from_source(&env(provider, nats, "intake", &peers)).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    let clock = Arc::new(ManualClock::new("2026-09-28T02:00:00Z".parse().unwrap()));
    let app = spawn_service(yiciban_intake::build_with(config, clock, db.pool.clone(), nats.js.clone())).await;
    (app.handle, app.channel)
}

/// The newborn application, submitted online (as an applicant does).
fn online(key: &str) -> intake::SubmitApplicationRequest {
    let mut application = yiciban_testkit::applications::newborn(key);
    application.channel = yiciban_proto::common::v1::Channel::Online as i32;
    application
}

fn uuid_v7() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn payload(token: &str) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

/// A supervisor's claims as the provider issues them, for routing.
fn supervisor_claims(provider: &OidcProvider) -> Value {
    json!({
        "iss": provider.issuer(), "aud": audience("routing"), "sub": "sup-001", "azp": CASECTL,
        "preferred_username": "sup-001", "realm_access": {"roles": ["yiciban-supervisor"]},
        "iat": now(), "exp": now() + 300,
    })
}

fn assert_refused(result: Result<(), tonic::Status>, token: &str, reason: &str) {
    let status = result.expect_err(reason);
    assert_eq!(status.code(), Code::Unauthenticated, "{reason}: {status:?}");
    assert!(status.message().contains(reason), "{:?} should name {reason:?}", status.message());
    let signature = token.rsplit('.').next().unwrap_or_default();
    assert!(!status.message().contains(token), "the token is never echoed");
    assert!(signature.len() < 8 || !status.message().contains(signature), "the signature is never echoed");
    assert!(status.message().len() < 200, "a bounded message: {:?}", status.message());
}

#[tokio::test]
async fn a_real_issuers_tokens_are_accepted_and_every_bad_token_is_refused_by_its_reason() {
    let provider = OidcProvider::start(ProviderConfig { signing_alg: SigningAlg::ES256, ..ProviderConfig::standard() })
        .await
        .unwrap();
    let (db, nats) = (TestDb::new(10).await, TestNats::new().await);
    let (_routing, channel) = routing_service(&provider, &db, &nats).await;

    // A person signed in by authorization code + PKCE, for routing.
    let signed_in = provider.authorization_code("sup-001", CASECTL, REDIRECT, &audience("routing")).await.unwrap();
    read_as(&channel, &signed_in.access_token).await.expect("a supervisor's token of the provider is accepted");

    // Services by client credentials: intake's process manager may plan a
    // case (an empty request is then INVALID_ARGUMENT: authenticated and
    // allowed), the task service's may not.
    let intake_token = provider
        .client_credentials("yiciban-intake", provider.config().secret("yiciban-intake"), &audience("routing"))
        .await
        .unwrap();
    let planned = routing_as(&channel, &intake_token).plan_case(routing::PlanCaseRequest::default()).await;
    assert_eq!(planned.unwrap_err().code(), Code::InvalidArgument);
    let tasks_token = provider
        .client_credentials("yiciban-tasks", provider.config().secret("yiciban-tasks"), &audience("routing"))
        .await
        .unwrap();
    let refused = routing_as(&channel, &tasks_token).plan_case(routing::PlanCaseRequest::default()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert!(refused.message().contains("tasks service may not call PlanCase"), "{}", refused.message());

    // The provider's own token for another service.
    let for_tasks =
        provider.refresh(signed_in.refresh_token.as_deref().unwrap(), &audience("tasks")).await.unwrap().access_token;
    assert_refused(read_as(&channel, &for_tasks).await, &for_tasks, "not meant for this service");

    // Signed by the provider's key, with claims it would never issue.
    let good = provider.forge(&supervisor_claims(&provider)).unwrap();
    read_as(&channel, &good).await.expect("a well-formed token under the provider's key is accepted");
    let with = |changes: Value| {
        let mut claims = supervisor_claims(&provider);
        claims.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
        provider.forge(&claims).unwrap()
    };
    let expired = with(json!({"iat": now() - 7200, "exp": now() - 3600}));
    assert_refused(read_as(&channel, &expired).await, &expired, "expired");
    let early = with(json!({"nbf": now() + 3600}));
    assert_refused(read_as(&channel, &early).await, &early, "not valid yet");
    let elsewhere = with(json!({"iss": "https://sso.elsewhere.example/realms/other"}));
    assert_refused(read_as(&channel, &elsewhere).await, &elsewhere, "another issuer");
    let promoted = with(json!({"realm_access": {"roles": ["yiciban-supervisor", "yiciban-admin"]}}));
    assert_refused(read_as(&channel, &promoted).await, &promoted, "more than one yiciban role");

    // `alg: none`, and HS256 keyed with the provider's public key (the
    // algorithm-confusion attack).
    let claims = serde_json::to_vec(&supervisor_claims(&provider)).unwrap();
    let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(&claims));
    assert_refused(read_as(&channel, &none).await, &none, "algorithm none is not accepted");
    let public = provider.jwks().await.unwrap().to_string();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(provider.signing_kid().to_owned());
    let confused = jsonwebtoken::encode(
        &header,
        &supervisor_claims(&provider),
        &jsonwebtoken::EncodingKey::from_secret(public.as_bytes()).unwrap(),
    )
    .unwrap();
    assert_refused(read_as(&channel, &confused).await, &confused, "algorithm HS256 is not accepted");

    // The provider's real token with its payload changed to an admin's:
    // the real one was accepted above and is remembered (ADR 0041), the
    // changed one is another token and is checked in full.
    let mut tampered_claims = payload(&signed_in.access_token);
    tampered_claims["realm_access"] = json!({"roles": ["yiciban-admin"]});
    let parts: Vec<&str> = signed_in.access_token.split('.').collect();
    let tampered = format!("{}.{}.{}", parts[0], b64(&serde_json::to_vec(&tampered_claims).unwrap()), parts[2]);
    assert_refused(read_as(&channel, &tampered).await, &tampered, "signature is invalid");
    read_as(&channel, &signed_in.access_token).await.expect("the real token is still accepted");

    // No token, or not a bearer one.
    let bare =
        RoutingServiceClient::new(channel.clone()).get_plan(routing::GetPlanRequest { case_id: uuid_v7() }).await;
    assert_refused(bare.map(|_| ()), "-", "missing authorization");

    // Nothing was stored by any of it.
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM routing.events").fetch_one(&db.pool).await.unwrap();
    assert_eq!(events, 0);
}

#[tokio::test]
async fn the_issuer_rotates_its_keys_in_the_middle_of_a_run_and_no_service_restarts() {
    let mut provider = OidcProvider::start(ProviderConfig::standard()).await.unwrap();
    let (db, nats) = (TestDb::new(10).await, TestNats::new().await);
    let (_routing, channel) = routing_service(&provider, &db, &nats).await;
    let before = provider.authorization_code("sup-001", CASECTL, REDIRECT, &audience("routing")).await.unwrap();
    read_as(&channel, &before.access_token).await.expect("accepted before the rotation");
    let old_kid = provider.signing_kid().to_owned();

    // A new key, the old one still published: both tokens verify.
    provider.rotate_keys().await.unwrap();
    assert_ne!(provider.signing_kid(), old_kid);
    let after = provider.authorization_code("sup-001", CASECTL, REDIRECT, &audience("routing")).await.unwrap();
    eventually("a token under the new key is accepted", Duration::from_secs(15), || async {
        read_as(&channel, &after.access_token).await.ok()
    })
    .await;
    read_as(&channel, &before.access_token).await.expect("the old key is still published");

    // The old key retired: its tokens are refused, the new ones accepted.
    provider.rotate_keys_dropping_old().await.unwrap();
    let latest = provider.authorization_code("sup-001", CASECTL, REDIRECT, &audience("routing")).await.unwrap();
    eventually("a token under the newest key is accepted", Duration::from_secs(15), || async {
        read_as(&channel, &latest.access_token).await.ok()
    })
    .await;
    eventually("a token under a retired key is refused", Duration::from_secs(15), || async {
        let refused = read_as(&channel, &before.access_token).await.err()?;
        (refused.code() == Code::Unauthenticated && refused.message().contains("does not publish")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn services_hand_a_case_on_with_their_own_client_credentials_from_a_real_issuer() {
    let mut provider = OidcProvider::start(ProviderConfig::standard()).await.unwrap();
    let (db, nats) = (TestDb::new(20).await, TestNats::new().await);
    let ports: HashMap<&str, ReservedPort> =
        ["intake", "routing", "tasks", "issuance"].into_iter().map(|s| (s, ReservedPort::new())).collect();
    let urls: Vec<(&str, String)> = vec![
        ("YICIBAN_INTAKE_URL", ports["intake"].url()),
        ("YICIBAN_ROUTING_URL", ports["routing"].url()),
        ("YICIBAN_TASKS_URL", ports["tasks"].url()),
        ("YICIBAN_ISSUANCE_URL", ports["issuance"].url()),
    ];
    let clock = Arc::new(ManualClock::new("2026-09-29T02:00:00Z".parse().unwrap()));
    let (pool, js) = (db.pool.clone(), nats.js.clone());
    let mut config = yiciban_tasks::TasksConfig::from_source(&env(&provider, &nats, "tasks", &urls)).unwrap();
    config.common.grpc_listener = Some(ports["tasks"].listener());
    let _tasks = spawn_service(yiciban_tasks::build_with(config, clock.clone(), pool.clone(), js.clone())).await;
    let mut config = yiciban_routing::RoutingConfig::from_source(&env(&provider, &nats, "routing", &urls)).unwrap();
    config.common.grpc_listener = Some(ports["routing"].listener());
    let routing_app = spawn_service(yiciban_routing::build_with(config, clock.clone(), pool.clone(), js.clone())).await;
    let mut config = yiciban_intake::IntakeConfig::from_source(&env(&provider, &nats, "intake", &urls)).unwrap();
    config.common.grpc_listener = Some(ports["intake"].listener());
    let intake_app = spawn_service(yiciban_intake::build_with(config, clock.clone(), pool.clone(), js.clone())).await;

    let clerk = provider.authorization_code("clerk-001", CASECTL, REDIRECT, &audience("intake")).await.unwrap();
    let mut intake =
        IntakeServiceClient::with_interceptor(intake_app.channel.clone(), ClientAuth::new(Some(&clerk.access_token)));
    let submitted =
        intake.submit_application(yiciban_testkit::applications::newborn("oidc-1")).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), intake::AcceptanceDecision::Accepted);

    // Intake's process manager plans the case at routing, routing's creates
    // the tasks: each with its own client-credentials token of the provider.
    let supervisor = provider.authorization_code("sup-001", CASECTL, REDIRECT, &audience("routing")).await.unwrap();
    let sup_tasks = provider.refresh(supervisor.refresh_token.as_deref().unwrap(), &audience("tasks")).await.unwrap();
    let case_id = submitted.case_id.clone();
    let plan = eventually("routing planned the case", Duration::from_secs(30), || async {
        routing_as(&routing_app.channel, &supervisor.access_token)
            .get_plan(routing::GetPlanRequest { case_id: case_id.clone() })
            .await
            .ok()
            .and_then(|r| r.into_inner().plan)
    })
    .await;
    assert!(!plan.steps.is_empty());
    let tasks_client = TaskServiceClient::with_interceptor(
        Channel::from_shared(ports["tasks"].url()).unwrap().connect_lazy(),
        ClientAuth::new(Some(&sup_tasks.access_token)),
    );
    eventually("the task service holds the case's tasks", Duration::from_secs(30), || async {
        let listed = tasks_client
            .clone()
            .list_case_tasks(tasks::ListCaseTasksRequest { case_id: case_id.clone() })
            .await
            .ok()?;
        (!listed.into_inner().tasks.is_empty()).then_some(())
    })
    .await;

    // The issuer rotates its key and retires the old one while intake still
    // holds a token signed with it: routing refuses that token, intake's
    // process manager takes UNAUTHENTICATED as "try again" (never poison),
    // drops the token, fetches a new one, and the next case is planned.
    provider.rotate_keys_dropping_old().await.unwrap();
    let supervisor = provider.authorization_code("sup-001", CASECTL, REDIRECT, &audience("routing")).await.unwrap();
    eventually("routing knows the new key (and has forgotten the old)", Duration::from_secs(15), || async {
        read_as(&routing_app.channel, &supervisor.access_token).await.ok()
    })
    .await;
    let clerk = provider.authorization_code("clerk-001", CASECTL, REDIRECT, &audience("intake")).await.unwrap();
    let intake =
        IntakeServiceClient::with_interceptor(intake_app.channel.clone(), ClientAuth::new(Some(&clerk.access_token)));
    let second = eventually("intake accepts a token under the new key", Duration::from_secs(15), || {
        let mut intake = intake.clone();
        async move { intake.submit_application(yiciban_testkit::applications::newborn("oidc-2")).await.ok() }
    })
    .await
    .into_inner();
    eventually("routing planned the case handed on after the rotation", Duration::from_secs(60), || async {
        routing_as(&routing_app.channel, &supervisor.access_token)
            .get_plan(routing::GetPlanRequest { case_id: second.case_id.clone() })
            .await
            .ok()
            .and_then(|r| r.into_inner().plan)
    })
    .await;
    let refused: i64 =
        sqlx::query_scalar("SELECT count(*) FROM routing.access_refusals").fetch_one(&db.pool).await.unwrap();
    assert_eq!(refused, 0, "a stale token is not an authorization refusal");
    let poisoned: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.poison_messages").fetch_one(&db.pool).await.unwrap();
    assert_eq!(poisoned, 0, "no hand-off was dropped as poison");
}

#[tokio::test]
async fn an_applicant_of_a_real_issuer_reaches_its_own_case_with_tokens_that_hold_no_id_number() {
    use yiciban_testkit::applications::{FATHER_ID, MOTHER_ID};
    let mut config = ProviderConfig::standard();
    config.users.push(yiciban_testkit::oidc::UserConfig::new("father", "yiciban-applicant").id_number(FATHER_ID));
    let provider = OidcProvider::start(config).await.unwrap();
    let (db, nats) = (TestDb::new(10).await, TestNats::new().await);
    let (_intake, channel) = intake_service(&provider, &db, &nats).await;

    let mother = provider.authorization_code("mother", CASECTL, REDIRECT, &audience("intake")).await.unwrap();
    let id_token = mother.id_token.clone().expect("an ID token");
    for token in [&mother.access_token, &id_token] {
        let claims = payload(token);
        assert!(!claims.to_string().contains(MOTHER_ID), "a token carries the ID number: {claims}");
        assert!(!token.contains(MOTHER_ID));
    }
    assert_eq!(payload(&mother.access_token)["sub"], "mother");

    let mut as_mother = intake_as(&channel, &mother.access_token);
    let submitted = as_mother.submit_application(online("applicant-1")).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), intake::AcceptanceDecision::Accepted);
    let get = intake::GetCaseRequest { case_id: submitted.case_id.clone(), ..Default::default() };
    let own = as_mother.get_case(get.clone()).await.unwrap().into_inner().case.unwrap();
    assert_eq!(own.applicant.unwrap().id_number, MOTHER_ID, "its own case, in clear");

    // Another applicant (the company) neither sees the case nor submits in
    // the mother's name; nothing is stored.
    let company = provider.authorization_code("company-1", CASECTL, REDIRECT, &audience("intake")).await.unwrap();
    let mut as_company = intake_as(&channel, &company.access_token);
    let hidden = as_company.get_case(get.clone()).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound, "{hidden:?}");
    let events =
        || async { sqlx::query_scalar::<_, i64>("SELECT count(*) FROM intake.events").fetch_one(&db.pool).await };
    let before = events().await.unwrap();
    let refused = as_company.submit_application(online("applicant-2")).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert_eq!(events().await.unwrap(), before, "nothing stored");
    // The keyed identity is what intake keeps: no column holds the number.
    let index: String =
        sqlx::query_scalar("SELECT applicant_key FROM intake.case_index").fetch_one(&db.pool).await.unwrap();
    assert_eq!(index.len(), 64);

    // The provider goes down. An applicant intake has not seen yet cannot be
    // recognised: UNAVAILABLE, bounded, nothing stored; the mother, whose
    // keyed identity intake holds for her token's lifetime, still can.
    let father = provider.authorization_code("father", CASECTL, REDIRECT, &audience("intake")).await.unwrap();
    drop(provider);
    let before = events().await.unwrap();
    let mut as_father = intake_as(&channel, &father.access_token);
    let unavailable = as_father.get_case(get.clone()).await.unwrap_err();
    assert_eq!(unavailable.code(), Code::Unavailable, "the issuer is down: {unavailable:?}");
    assert!(unavailable.message().contains("userinfo"), "{:?}", unavailable.message());
    assert!(unavailable.message().len() < 400, "a bounded message: {:?}", unavailable.message());
    let unavailable = as_father.submit_application(online("applicant-3")).await.unwrap_err();
    assert_eq!(unavailable.code(), Code::Unavailable, "{unavailable:?}");
    assert_eq!(events().await.unwrap(), before, "nothing stored");
    assert!(as_mother.get_case(get).await.is_ok(), "a recognised applicant goes on while the issuer is down");
}
