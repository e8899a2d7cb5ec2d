//! What the service keeps of a subscription: its slot among its
//! department's (which names its consumers), its secret sealed, and the
//! health of its feed.

use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use uuid::Uuid;
use yiciban_eventstore::StreamSettings;
use yiciban_proto::webhooks::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::{Receiver, WAIT, live_consumer, spawn_app};

#[tokio::test]
async fn a_department_has_at_most_four_subscriptions_each_in_a_slot_and_a_freed_slot_starts_afresh() {
    let app = spawn_app(5).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let mut samr = Vec::new();
    for _ in 0..4 {
        samr.push(app.subscribe("samr", &url, &receiver).await);
    }
    assert_eq!(samr.iter().map(|s| s.slot).collect::<Vec<_>>(), [1, 2, 3, 4]);
    let fifth = app
        .admin()
        .create_subscription(pb::CreateSubscriptionRequest {
            department: "samr".into(),
            url: url.clone(),
            description: String::new(),
            secret: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(fifth.code(), tonic::Code::FailedPrecondition, "{fifth:?}");
    assert!(fifth.message().contains("samr") && fifth.message().contains('4'), "{}", fifth.message());
    let listed = app.admin().list_subscriptions(pb::ListSubscriptionsRequest::default()).await.unwrap();
    assert_eq!(listed.into_inner().subscriptions.len(), 4, "nothing stored");
    assert_eq!(app.subscribe("fire", &url, &receiver).await.slot, 1, "slots are per department");

    // The second's consumer has delivered an event; deleted, its slot is
    // the next one's, whose consumer starts from its own creation.
    let case = Uuid::now_v7();
    app.publish("samr", case, 1).await;
    app.caught_up(&samr[1]).await;
    let delete = pb::DeleteSubscriptionRequest { subscription_id: samr[1].subscription_id.clone() };
    app.admin().delete_subscription(delete).await.unwrap();
    let stream = app.nats.js.get_stream(app.nats.subjects.stream_name()).await.unwrap();
    assert!(stream.consumer_info(live_consumer(&samr[1])).await.is_err(), "its consumer went with it");
    let next = app.subscribe("samr", &url, &receiver).await;
    assert_eq!(next.slot, 2);
    app.publish("samr", case, 2).await;
    app.caught_up(&next).await;
    let info = stream.consumer_info(live_consumer(&next)).await.unwrap();
    assert_eq!(info.config.description.as_deref(), Some(next.subscription_id.as_str()));
    assert_eq!(info.delivered.consumer_sequence, 1, "only the event after its creation");
}

#[tokio::test]
async fn secrets_are_stored_sealed_and_those_left_in_clear_are_sealed_at_start_and_still_sign() {
    let mut app = spawn_app(5).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let secret = receiver.secret.lock().unwrap().clone();
    let id: Uuid = sub.subscription_id.parse().unwrap();
    let row: (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT secret, secret_sealed FROM webhooks.subscriptions WHERE subscription_id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    let sealed = row.1.expect("sealed");
    assert!(row.0.is_none(), "nothing in clear");
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret is not in the sealed bytes");

    // A row as the first schema left it: the secret in clear.
    let old = "a-secret-stored-in-clear-by-step-one";
    sqlx::query("UPDATE webhooks.subscriptions SET secret = $2, secret_sealed = NULL WHERE subscription_id = $1")
        .bind(id)
        .bind(old)
        .execute(&app.db.pool)
        .await
        .unwrap();
    app.restart().await;
    let row: (Option<String>, Option<Vec<u8>>) =
        sqlx::query_as("SELECT secret, secret_sealed FROM webhooks.subscriptions WHERE subscription_id = $1")
            .bind(id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(row.0.is_none() && row.1.is_some(), "sealed at start, the clear column emptied");
    *receiver.secret.lock().unwrap() = old.to_owned();
    app.publish("samr", Uuid::now_v7(), 1).await;
    let got = receiver.wait_accepted(1).await;
    assert!(got[0].verified, "signed with the secret it had");

    // Deleted: its data key is erased with it.
    app.admin().delete_subscription(pb::DeleteSubscriptionRequest { subscription_id: id.to_string() }).await.unwrap();
    let erased: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT erased_at FROM webhooks.data_keys WHERE subject = $1")
            .bind(format!("webhook-subscription:{id}"))
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(erased.is_some());
}

#[tokio::test]
async fn a_feed_without_its_pull_turns_its_health_entry_not_serving_and_back() {
    let app = spawn_app(5).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let sub = app.subscribe("samr", &url, &receiver).await;
    let entry = format!("yiciban.webhooks.consumer.{}", live_consumer(&sub));
    let status = |want: ServingStatus| {
        let (channel, entry) = (app.service_channel(), entry.clone());
        async move {
            let answer = HealthClient::new(channel).check(HealthCheckRequest { service: entry }).await;
            answer.ok().filter(|a| a.get_ref().status() == want).map(|_| ())
        }
    };
    eventually("the feed SERVING", WAIT, || status(ServingStatus::Serving)).await;
    // The stream goes (and every consumer with it): the feed cannot pull.
    app.nats.js.delete_stream(app.nats.subjects.stream_name()).await.unwrap();
    eventually("the feed NOT_SERVING", WAIT, || status(ServingStatus::NotServing)).await;
    let overall = HealthClient::new(app.service_channel()).check(HealthCheckRequest { service: String::new() }).await;
    assert_eq!(overall.unwrap().get_ref().status(), ServingStatus::Serving, "the API still serves");
    app.nats.js.get_or_create_stream(StreamSettings::default().config(&app.nats.subjects)).await.unwrap();
    eventually("the feed SERVING again", WAIT, || status(ServingStatus::Serving)).await;
    app.publish("samr", Uuid::now_v7(), 1).await;
    receiver.wait_accepted(1).await;
    let metrics = yiciban_metrics::render();
    // (other tests of the process may have counted as well)
    assert!(metrics.contains("yiciban_webhook_attempts_total{department=\"samr\",result=\"delivered\"} "), "{metrics}");
    assert!(metrics.contains("yiciban_webhook_request_duration_seconds_count{department=\"samr\"} "), "{metrics}");
    assert!(
        metrics.contains(&format!("yiciban_consumer_pending{{consumer=\"{}\"}}", live_consumer(&sub))),
        "{metrics}"
    );
}
