//! Hand-outs written in clear before the collector was sealed (ADR 0031):
//! rewritten in place at start — sealed under the applicant's data key, or
//! the identity dropped when the applicant has none — each once.

use prost::Message as _;
use uuid::Uuid;
use yiciban_domain::issuance::DeliveryMethod;
use yiciban_issuance::legacy::{Rewritten, seal_written_in_clear};
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::{Opening, collector_in_clear, open_collector};

use crate::helpers::*;

/// A case picked up at the window by an agent; its case number.
async fn picked_up_case(app: &TestApp) -> (Uuid, String) {
    let case_id = app.new_case(DeliveryMethod::WindowPickup);
    app.prepare(case_id, vec![licence(&format!("JY-{case_id}"))]).await;
    let agent = collector(common::CollectorKind::Agent, STRANGER_ID, true);
    app.clerk().confirm_pickup(pickup_request(case_id, 1, agent)).await.unwrap();
    (case_id, app.get(case_id).await.case_number)
}

/// Writes the case's `PickedUp` back as a release before sealing stored it.
async fn as_written_in_clear(app: &TestApp, case_id: Uuid) {
    let legacy = ev::PickedUp {
        batch_number: 1,
        collector: Some(ev::Collector {
            kind: common::CollectorKind::Agent as i32,
            name_masked: "张*".into(),
            id_number_masked: "1101**********002X".into(),
            id_number_hmac: app.issuance.identity_key.lookup(STRANGER_ID),
            ..Default::default()
        }),
        document_numbers: vec!["JY".into()],
        receipt: Some(file("签收单.pdf")),
    };
    sqlx::query("UPDATE issuance.events SET payload = $2 WHERE case_id = $1 AND event_type = 'PickedUp'")
        .bind(case_id)
        .bind(legacy.encode_to_vec())
        .execute(&app.db.pool)
        .await
        .unwrap();
}

async fn stored(app: &TestApp, case_id: Uuid) -> ev::Collector {
    let payload: Vec<u8> =
        sqlx::query_scalar("SELECT payload FROM issuance.events WHERE case_id = $1 AND event_type = 'PickedUp'")
            .bind(case_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    ev::PickedUp::decode(payload.as_slice()).unwrap().collector.unwrap()
}

#[tokio::test]
async fn a_hand_out_written_in_clear_is_sealed_once_and_an_erased_applicants_is_stripped() {
    let app = spawn_app().await;
    // The job ran at start and found nothing; these are written after.
    let (kept, number) = picked_up_case(&app).await;
    as_written_in_clear(&app, kept).await;
    assert!(collector_in_clear(&stored(&app, kept).await));

    let done = seal_written_in_clear(&app.issuance).await.unwrap();
    assert_eq!(done, Rewritten { sealed: 1, stripped: 0 });
    let c = stored(&app, kept).await;
    assert!(!collector_in_clear(&c) && !c.sealed_identity.is_empty(), "{c:?}");
    let key = app.data_keys.find(&c.data_subject).await.unwrap().expect("the applicant's key");
    let opened = open_collector(&c, &number, 1, Opening::Key(&key)).unwrap().unwrap();
    assert_eq!((opened.name_masked.as_str(), opened.id_number_masked.as_str()), ("张*", "1101**********002X"));
    assert_eq!(seal_written_in_clear(&app.issuance).await.unwrap(), Rewritten::default(), "each once");

    // The applicant erased since: a later clear hand-out loses the identity.
    let (stripped, _) = picked_up_case(&app).await;
    as_written_in_clear(&app, stripped).await;
    let subject = app.issuance.identity_key.lookup(APPLICANT_ID);
    assert!(app.data_keys.erase(&subject, "admin-001", "个人信息删除申请").await.unwrap());
    assert_eq!(seal_written_in_clear(&app.issuance).await.unwrap(), Rewritten { sealed: 0, stripped: 1 });
    let c = stored(&app, stripped).await;
    assert!(!collector_in_clear(&c) && c.sealed_identity.is_empty(), "{c:?}");
    assert_eq!(c.kind(), common::CollectorKind::Agent, "the kind stays");
}
