//! An operator's view of what a consumer set aside: a message on a case
//! subject that is no event at all reaches tracking's projection, which sets
//! it aside; the admin lists it through tracking's OpsService (without its
//! payload), cannot replay it (it is still no event), and discards it, saying
//! why.

use std::time::Duration;

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::ops::v1 as pb;
use yiciban_proto::ops::v1::ops_service_client::OpsServiceClient;
use yiciban_testkit::eventually;

use crate::stack::{Service, Stack};

#[tokio::test]
async fn a_message_set_aside_is_listed_refused_a_replay_and_discarded_with_a_reason() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case = uuid::Uuid::now_v7();
    let subject = stack.nats.subjects.event(None, "intake", &case, "Garbage");
    stack.nats.js.publish(subject.clone(), "not protobuf \u{1}\u{2}".into()).await.unwrap().await.unwrap();

    let admin = stack.token(Role::Admin, "admin-001", None);
    let ops = OpsServiceClient::with_interceptor(stack.channel(Service::Tracking), ClientAuth::new(Some(&admin)));
    let listed = eventually("the message set aside", Duration::from_secs(30), || {
        let mut ops = ops.clone();
        async move {
            let listed = ops.list_dead_letters(pb::ListDeadLettersRequest::default()).await.ok()?.into_inner();
            (!listed.dead_letters.is_empty()).then_some(listed)
        }
    })
    .await;
    assert_eq!(listed.service, "tracking");
    let letter = &listed.dead_letters[0];
    assert_eq!((letter.subject.as_str(), letter.event_id.as_str()), (subject.as_str(), ""));
    assert!(letter.error.contains("not an EventEnvelope"), "{}", letter.error);

    let mut ops = ops.clone();
    let replay = pb::ReplayDeadLetterRequest { consumer: letter.consumer.clone(), id: letter.id };
    let refused = ops.replay_dead_letter(replay).await.unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let no_reason =
        pb::DiscardDeadLetterRequest { consumer: letter.consumer.clone(), id: letter.id, reason: " ".into() };
    assert_eq!(ops.discard_dead_letter(no_reason).await.unwrap_err().code(), Code::InvalidArgument);
    let discard = pb::DiscardDeadLetterRequest {
        consumer: letter.consumer.clone(),
        id: letter.id,
        reason: "test garbage published by hand".into(),
    };
    ops.discard_dead_letter(discard.clone()).await.unwrap();
    let left = ops.list_dead_letters(pb::ListDeadLettersRequest::default()).await.unwrap().into_inner();
    assert!(left.dead_letters.is_empty(), "{left:?}");
    assert_eq!(ops.discard_dead_letter(discard).await.unwrap_err().code(), Code::NotFound, "closed already");
}

#[tokio::test]
async fn an_operator_reconciles_a_store_with_jetstream_on_demand() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    crate::joint_processing::submit(&stack, "nb-reconcile").await;
    let admin = stack.token(Role::Admin, "admin-001", None);
    let mut ops = OpsServiceClient::with_interceptor(stack.channel(Service::Intake), ClientAuth::new(Some(&admin)));
    let bad = ops.reconcile(pb::ReconcileRequest { hours: 0 }).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
    // The window ends a minute before now (events younger are the relay's):
    // nothing is short, whatever it compared.
    let done = ops.reconcile(pb::ReconcileRequest { hours: 1 }).await.unwrap().into_inner();
    assert_eq!(
        (done.service.as_str(), done.short_cases, done.republished, done.stream_missing),
        ("intake", 0, 0, false)
    );
}
