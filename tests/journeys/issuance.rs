//! One window hands it out (一窗出件): a case decided by the departments is
//! handed to issuance by routing, picked up at the window by an authorised
//! agent or mailed and signed for, which closes it (办结); the applicant
//! rates it, and a bad rating opens a rectification for the department.

use std::time::Duration;

use prost::Message as _;
use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::issuance::v1 as issuance;
use yiciban_proto::tracking::v1 as tracking;
use yiciban_testkit::applications::{MOTHER_ID, newborn};
use yiciban_testkit::eventually;

use crate::joint_processing::approve_everything;
use crate::stack::Stack;

const WAIT: Duration = Duration::from_secs(30);

async fn issued(stack: &Stack, case_id: &str) -> Option<issuance::Issuance> {
    stack
        .issuance(Role::Clerk, "clerk-001", None)
        .get_issuance(issuance::GetIssuanceRequest { case_id: case_id.into() })
        .await
        .ok()
        .and_then(|r| r.into_inner().issuance)
        .filter(|i| !i.batches.is_empty())
}

fn scan(name: &str) -> common::MaterialRef {
    common::MaterialRef {
        material_id: String::new(),
        file_name: format!("{name}.pdf"),
        content_type: "application/pdf".into(),
        sha256_hex: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        size_bytes: 4096,
        storage_key: format!("uploads/{name}"),
    }
}

async fn summary(stack: &Stack, case_id: &str) -> Option<tracking::CaseSummary> {
    stack
        .tracking(Role::Supervisor, "sup-1", None)
        .get_case_summary(tracking::GetCaseSummaryRequest { case_id: case_id.into() })
        .await
        .ok()
        .and_then(|r| r.into_inner().summary)
}

#[tokio::test]
async fn a_decided_case_is_picked_up_by_an_authorised_agent_closed_and_rated() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let submitted =
        stack.intake(Role::Clerk, "clerk-001").submit_application(newborn("issue-1")).await.unwrap().into_inner();
    let case_id = submitted.case_id;
    approve_everything(&stack, &case_id).await;

    // Routing hands the decided case over: one final batch for the window.
    let prepared = eventually("the batch is prepared", WAIT, || issued(&stack, &case_id)).await;
    let batch = &prepared.batches[0];
    assert!(batch.final_batch);
    assert_eq!(batch.method, common::DeliveryMethod::WindowPickup as i32);
    assert_eq!(batch.documents.len(), 6, "every department's result in one batch");

    let mut clerk = stack.issuance(Role::Clerk, "clerk-001", None);
    clerk
        .notify_pickup(issuance::NotifyPickupRequest {
            idempotency_key: "notify-1".into(),
            case_id: case_id.clone(),
            batch_number: batch.batch_number,
            channel: common::NotificationChannel::Sms as i32,
            pickup_location: "政务服务中心一楼综合窗口".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    // An agent without a power of attorney is turned away; nothing changes.
    let collector = |poa: Option<common::MaterialRef>| issuance::CollectorIdentity {
        kind: common::CollectorKind::Agent as i32,
        name: "张三".into(),
        id_number: "150203198801011236".into(),
        power_of_attorney: poa,
    };
    let err = clerk
        .confirm_pickup(issuance::ConfirmPickupRequest {
            idempotency_key: "pickup-0".into(),
            case_id: case_id.clone(),
            batch_number: batch.batch_number,
            collector: Some(collector(None)),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let picked = clerk
        .confirm_pickup(issuance::ConfirmPickupRequest {
            idempotency_key: "pickup-1".into(),
            case_id: case_id.clone(),
            batch_number: batch.batch_number,
            collector: Some(collector(Some(scan("poa")))),
            receipt: Some(scan("receipt")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(picked.case_closed, "the final batch delivered closes the case (办结)");

    // The mother rates it 2 (不满意) under her name: a rectification opens
    // for the lead department; someone else cannot rate her case — nor learn
    // that it exists.
    let err = stack
        .issuance(Role::Applicant, "someone", Some("150203198801011236"))
        .rate_case(issuance::RateCaseRequest {
            idempotency_key: "rate-x".into(),
            case_id: case_id.clone(),
            score: 5,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::NotFound, format!("case {case_id} not found").as_str()));
    stack
        .issuance(Role::Applicant, "mother", Some(MOTHER_ID))
        .rate_case(issuance::RateCaseRequest {
            idempotency_key: "rate-1".into(),
            case_id: case_id.clone(),
            score: 2,
            comment: "窗口等候时间过长".into(),
            real_name: true,
            ..Default::default()
        })
        .await
        .unwrap();
    let after = issued(&stack, &case_id).await.unwrap();
    assert!(after.closed);
    assert_eq!(after.ratings.len(), 1);
    assert_eq!(after.rectifications.len(), 1);
    assert!(after.rectifications[0].due_by.is_some());

    // The officer's view follows to the end: closed, rated.
    let closed = eventually("tracking shows the case closed and rated", WAIT, || async {
        summary(&stack, &case_id).await.filter(|s| s.status == common::CaseStatus::Closed as i32 && s.rating == 2)
    })
    .await;
    assert!(closed.closed_at.is_some());

    // Each department's feed holds its own; the lead (the package's, as the
    // acceptance names it) also the case-level events it follows.
    let messages = crate::department_feeds::published(&stack, &case_id).await;
    let accepted = messages.iter().find(|m| m.envelope.event_type == "ApplicationAccepted").unwrap();
    let lead = yiciban_proto::events::v1::ApplicationAccepted::decode(accepted.envelope.payload.as_slice())
        .unwrap()
        .lead_department;
    crate::department_feeds::check_feeds(&messages, &lead);
}

#[tokio::test]
async fn a_restaurant_licence_goes_out_by_mail_and_the_signature_closes_the_case() {
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let mut application = yiciban_testkit::applications::restaurant("mail-1", &[]);
    application.delivery = Some(common::DeliveryPreference {
        method: common::DeliveryMethod::Mail as i32,
        mail_address: Some(common::PostalAddress {
            recipient_name: "赵经办".into(),
            recipient_phone: "13912345678".into(),
            province: "内蒙古自治区".into(),
            city: "包头市".into(),
            district: "昆都仑区".into(),
            address_line: "钢铁大街1号".into(),
            postal_code: "014010".into(),
        }),
        pickup_hall: String::new(),
    });
    let submitted = stack.intake(Role::Clerk, "clerk-001").submit_application(application).await.unwrap().into_inner();
    let case_id = submitted.case_id;
    approve_everything(&stack, &case_id).await;
    let prepared = eventually("the batch is prepared", WAIT, || issued(&stack, &case_id)).await;
    let batch = prepared.batches[0].clone();
    assert_eq!(batch.method, common::DeliveryMethod::Mail as i32);

    let mut clerk = stack.issuance(Role::Clerk, "clerk-001", None);
    clerk
        .record_mailing(issuance::RecordMailingRequest {
            idempotency_key: "mail-1".into(),
            case_id: case_id.clone(),
            batch_number: batch.batch_number,
            courier: "EMS".into(),
            tracking_number: "1130000000001".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let delivered = clerk
        .record_delivery(issuance::RecordDeliveryRequest {
            idempotency_key: "delivered-1".into(),
            case_id: case_id.clone(),
            batch_number: batch.batch_number,
            tracking_number: "1130000000001".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(delivered.case_closed);
    eventually("tracking shows the case closed", WAIT, || async {
        summary(&stack, &case_id).await.filter(|s| s.status == common::CaseStatus::Closed as i32)
    })
    .await;
    // Issuance's process manager tells intake the day, which starts the
    // applicant's retention period (ADR 0027).
    let ending: (chrono::NaiveDate, String, Option<i32>) = eventually("intake knows the closing", WAIT, || async {
        sqlx::query_as("SELECT ended_on, how, retention_years FROM intake.case_endings WHERE case_id = $1::uuid")
            .bind(&case_id)
            .fetch_optional(&stack.db.pool)
            .await
            .ok()
            .flatten()
    })
    .await;
    assert_eq!(ending, ("2026-09-29".parse().unwrap(), "closed".to_owned(), Some(10)));
}
