//! After a point-in-time restore (ADR 0020): an erasure made after the
//! restore point, which the restored database no longer has, is found in
//! the `PersonalDataErased` message JetStream still holds (what `casectl ops
//! after-restore` runs), recorded, and made again by intake before it
//! serves — once.

use std::time::Duration;

use yiciban_eventstore::restore;
use yiciban_intake::restore::{self as reapply, ACTOR};
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;
use yiciban_testkit::eventually;

use crate::fixtures::newborn;
use crate::helpers::{TestApp, spawn_app};

/// The applicant's data key row: (subject, wrapped, kek id).
async fn key_row(app: &TestApp, case_id: &str) -> (String, Option<Vec<u8>>, Option<String>) {
    sqlx::query_as(
        "SELECT k.subject, k.wrapped, k.kek_id FROM intake.data_keys k
           JOIN intake.case_index c ON c.applicant_key = k.subject WHERE c.case_id = $1::uuid",
    )
    .bind(case_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

fn bases(erasures: &[ev::PersonalDataErased]) -> Vec<ev::ErasureBasis> {
    erasures.iter().map(|e| e.basis()).collect()
}

#[tokio::test]
async fn an_erasure_a_point_in_time_restore_undid_is_found_on_nats_and_made_again_once() {
    let app = spawn_app().await;
    let submitted = app.clerk().submit_application(newborn("pitr-1")).await.unwrap().into_inner();
    let case_id = submitted.case_id;
    let (subject, wrapped, kek_id) = key_row(&app, &case_id).await;
    assert!(wrapped.is_some(), "the backup holds the person's key");
    let restore_point = chrono::Utc::now();

    let token = app.token(Role::Admin, "admin-001", None, None);
    let mut privacy = PrivacyServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    let request = pb::ErasePersonalDataRequest {
        case_id: case_id.clone(),
        id_number: String::new(),
        reason: "个人信息删除申请 2026-301".into(),
    };
    assert!(privacy.erase_personal_data(request).await.unwrap().into_inner().erased_now);
    eventually("the erasure published", Duration::from_secs(20), || async {
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM intake.outbox").fetch_one(&app.db.pool).await.ok()?;
        (left == 0).then_some(())
    })
    .await;

    // The restore to before the erasure: the key is back, the event gone.
    sqlx::query(
        "UPDATE intake.data_keys SET wrapped = $2, kek_id = $3, erased_at = NULL, erased_by = NULL,
                erasure_reason = NULL WHERE subject = $1",
    )
    .bind(&subject)
    .bind(&wrapped)
    .bind(&kek_id)
    .execute(&app.db.pool)
    .await
    .unwrap();
    sqlx::query("DELETE FROM intake.events WHERE event_type = 'PersonalDataErased'")
        .execute(&app.db.pool)
        .await
        .unwrap();
    assert!(bases(&app.erasures_of(&case_id).await).is_empty());

    // casectl ops after-restore: the orphans, the erasures among them, recorded.
    let since = restore_point - chrono::Duration::seconds(60);
    let orphans = restore::orphans(&app.db.pool, &app.nats.js, &app.nats.subjects, since).await.unwrap();
    let lost = reapply::find(&app.nats.js, &app.nats.subjects, &orphans).await.unwrap();
    assert_eq!(lost.len(), 1, "{orphans:?}");
    assert_eq!(lost[0].case_id.to_string(), case_id);
    assert_eq!(reapply::record(&app.db.pool, "intake", &lost).await.unwrap(), 1);
    assert_eq!(reapply::record(&app.db.pool, "intake", &lost).await.unwrap(), 0, "recorded once");

    // Intake starting again erases the person before serving, on the first basis.
    assert_eq!(reapply::reapply(&app.intake).await.unwrap(), 1);
    let (_, wrapped, _) = key_row(&app, &case_id).await;
    assert!(wrapped.is_none(), "the key is gone again");
    let (by, reason): (String, String) =
        sqlx::query_as("SELECT erased_by, erasure_reason FROM intake.data_keys WHERE subject = $1")
            .bind(&subject)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(by, ACTOR);
    assert!(reason.contains("point-in-time restore"), "{reason}");
    assert_eq!(bases(&app.erasures_of(&case_id).await), [ev::ErasureBasis::Request]);

    // A second start finds nothing left to do.
    assert_eq!(reapply::reapply(&app.intake).await.unwrap(), 0);
    assert_eq!(bases(&app.erasures_of(&case_id).await).len(), 1);
}
