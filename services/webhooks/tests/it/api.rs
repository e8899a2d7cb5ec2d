//! The subscription API: what each role may do, and the documented status
//! of each bad request, which changes nothing.

use yiciban_platform::Role;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::webhooks::v1 as pb;

use crate::helpers::{Receiver, spawn_app};

fn create(department: &str, url: &str, secret: &str) -> pb::CreateSubscriptionRequest {
    pb::CreateSubscriptionRequest {
        department: department.into(),
        url: url.into(),
        description: String::new(),
        secret: secret.into(),
    }
}

fn fields(status: &tonic::Status) -> Vec<String> {
    yiciban_platform::status::violations_of(status).into_iter().map(|v| v.field).collect()
}

#[tokio::test]
async fn bad_requests_get_their_documented_status_and_change_nothing() {
    let app = spawn_app(5).await;
    let mut admin = app.admin();
    for (request, field) in [
        (create("samr", "ftp://dept.example/hooks", ""), "url"),
        (create("samr", "https://user:pw@dept.example/hooks", ""), "url"),
        (create("samr", "", ""), "url"),
        (create("Not a code", "https://dept.example/hooks", ""), "department"),
        (create("samr", "https://dept.example/hooks", "too-short"), "secret"),
    ] {
        let e = admin.create_subscription(request).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
        assert_eq!(fields(&e), [field]);
    }
    let all = admin.list_subscriptions(pb::ListSubscriptionsRequest::default()).await.unwrap().into_inner();
    assert!(all.subscriptions.is_empty(), "nothing stored");

    let unknown = uuid::Uuid::now_v7().to_string();
    let e = admin.get_subscription(pb::GetSubscriptionRequest { subscription_id: unknown.clone() }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let e = admin.get_subscription(pb::GetSubscriptionRequest { subscription_id: "nope".into() }).await.unwrap_err();
    assert_eq!((e.code(), fields(&e)), (tonic::Code::InvalidArgument, vec!["subscription_id".to_owned()]));
    let e = admin.delete_subscription(pb::DeleteSubscriptionRequest { subscription_id: unknown }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);

    let receiver = Receiver::default();
    let sub = app.subscribe("samr", "https://dept.example/hooks", &receiver).await;
    let id = sub.subscription_id.clone();
    let e = admin
        .update_subscription(pb::UpdateSubscriptionRequest {
            subscription_id: id.clone(),
            url: "gopher://x".into(),
            description: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let future = chrono::Utc::now() + chrono::Duration::hours(1);
    let e = admin
        .start_replay(pb::StartReplayRequest { subscription_id: id.clone(), from_time: Some(timestamp(future)) })
        .await
        .unwrap_err();
    assert_eq!((e.code(), fields(&e)), (tonic::Code::InvalidArgument, vec!["from_time".to_owned()]));
    let e =
        admin.start_replay(pb::StartReplayRequest { subscription_id: id.clone(), from_time: None }).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    admin.pause_subscription(pb::PauseSubscriptionRequest { subscription_id: id.clone() }).await.unwrap();
    let e = admin
        .start_replay(pb::StartReplayRequest {
            subscription_id: id.clone(),
            from_time: Some(timestamp(chrono::Utc::now())),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::FailedPrecondition);
    let e = admin
        .rotate_secret(pb::RotateSecretRequest { subscription_id: id.clone(), secret: "short".into() })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    let now = admin.get_subscription(pb::GetSubscriptionRequest { subscription_id: id }).await.unwrap().into_inner();
    let now = now.subscription.unwrap();
    assert_eq!((now.url.as_str(), now.state()), ("https://dept.example/hooks", pb::SubscriptionState::Paused));
}

#[tokio::test]
async fn agents_read_their_own_departments_subscriptions_only_and_change_none() {
    let app = spawn_app(5).await;
    let receiver = Receiver::default();
    let samr = app.subscribe("samr", "https://samr.example/hooks", &receiver).await;
    let fire = app.subscribe("fire", "https://fire.example/hooks", &receiver).await;
    let mut agent = app.client(Role::Agent, Some("samr"));
    let own = agent.get_subscription(pb::GetSubscriptionRequest { subscription_id: samr.subscription_id.clone() });
    assert_eq!(own.await.unwrap().into_inner().subscription.unwrap().department, "samr");
    let other = agent
        .get_subscription(pb::GetSubscriptionRequest { subscription_id: fire.subscription_id.clone() })
        .await
        .unwrap_err();
    let missing = agent
        .get_subscription(pb::GetSubscriptionRequest { subscription_id: uuid::Uuid::nil().to_string() })
        .await
        .unwrap_err();
    assert_eq!(other.code(), tonic::Code::NotFound);
    assert_eq!(
        other.message().replace(&fire.subscription_id, "X"),
        missing.message().replace(&uuid::Uuid::nil().to_string(), "X")
    );
    let e = agent.list_dead_letters(pb::ListDeadLettersRequest { subscription_id: fire.subscription_id.clone() }).await;
    assert_eq!(e.unwrap_err().code(), tonic::Code::NotFound);
    assert!(
        agent
            .list_dead_letters(pb::ListDeadLettersRequest { subscription_id: samr.subscription_id.clone() })
            .await
            .is_ok()
    );
    let listed = agent.list_subscriptions(pb::ListSubscriptionsRequest::default()).await.unwrap().into_inner();
    assert_eq!(listed.subscriptions.iter().map(|s| s.department.as_str()).collect::<Vec<_>>(), ["samr"]);
    let asked = agent.list_subscriptions(pb::ListSubscriptionsRequest { department: "fire".into() }).await.unwrap();
    assert!(asked.into_inner().subscriptions.is_empty());

    let e = agent.create_subscription(create("samr", "https://samr.example/other", "")).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::PermissionDenied);
    let e =
        agent.pause_subscription(pb::PauseSubscriptionRequest { subscription_id: samr.subscription_id.clone() }).await;
    assert_eq!(e.unwrap_err().code(), tonic::Code::PermissionDenied);
    let e = agent.rotate_secret(pb::RotateSecretRequest {
        subscription_id: samr.subscription_id.clone(),
        secret: String::new(),
    });
    assert_eq!(e.await.unwrap_err().code(), tonic::Code::PermissionDenied);
    for role in [Role::Clerk, Role::Officer, Role::Supervisor, Role::Applicant] {
        let identity = (role == Role::Applicant).then_some(yiciban_testkit::applications::FATHER_ID);
        let token = app.issuer.token(role, "someone", (role == Role::Agent).then_some("samr"), identity);
        let mut someone = app.client_with(&token);
        let e = someone.list_subscriptions(pb::ListSubscriptionsRequest::default()).await.unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied, "{role:?}");
    }
    let all = app.admin().list_subscriptions(pb::ListSubscriptionsRequest::default()).await.unwrap().into_inner();
    assert_eq!(all.subscriptions.len(), 2, "nothing created by the refused calls");
}

#[tokio::test]
async fn a_rotated_secret_is_shown_once_and_both_secrets_sign_during_the_grace() {
    let app = spawn_app(5).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let old = receiver.secret.lock().unwrap().clone();
    let rotated = app
        .admin()
        .rotate_secret(pb::RotateSecretRequest { subscription_id: sub.subscription_id.clone(), secret: String::new() })
        .await
        .unwrap()
        .into_inner();
    assert_ne!(rotated.secret, old);
    // The receiver still knows only the old secret: it verifies.
    app.publish("samr", uuid::Uuid::now_v7(), 1).await;
    let got = receiver.wait_accepted(1).await;
    let signature = got[0].header("yiciban-signature");
    assert_eq!(signature.matches("v1=").count(), 2, "{signature}");
    let ts: i64 = got[0].header("yiciban-timestamp").parse().unwrap();
    assert!(yiciban_webhooks::signature::verify(&rotated.secret, signature, ts, &got[0].body, ts, 300));
    // Deleting stops delivery and forgets the subscription.
    app.admin()
        .delete_subscription(pb::DeleteSubscriptionRequest { subscription_id: sub.subscription_id.clone() })
        .await
        .unwrap();
    let e = app.admin().get_subscription(pb::GetSubscriptionRequest { subscription_id: sub.subscription_id }).await;
    assert_eq!(e.unwrap_err().code(), tonic::Code::NotFound);
}
