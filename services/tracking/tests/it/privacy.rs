//! The applicant's personal data sealed in the event (ADR 0024): tracking
//! opens it with intake's data keys and keeps only a masked display and the
//! lookup value; once the applicant is erased the display is the erased
//! text, in the live read model and in a case projected afterwards, while
//! the case's facts stay.

use std::sync::Arc;

use yiciban_platform::config::{development_env, identity_key};
use yiciban_privacy::{DataKeys, PrivacyConfig};
use yiciban_proto::events::v1 as ev;
use yiciban_proto::sealed::seal_submitted;

use crate::helpers::{CLERK, Case, ID_NUMBER, NAME, PHONE, STREET, TestApp, spawn_app};

/// Intake's data keys as the test's tracking reads them (development key).
fn data_keys(app: &TestApp) -> DataKeys {
    let privacy = PrivacyConfig::development(yiciban_privacy::Algorithm::Aes256Gcm);
    DataKeys::new(app.db.pool.clone(), "intake", Arc::clone(&privacy.keks), privacy.algorithm)
}

fn subject() -> String {
    let env = development_env(&[("YICIBAN_IDENTITY_KEY", "test-identity-key")]);
    identity_key(&env).unwrap().lookup(ID_NUMBER)
}

/// A case submitted with its personal part sealed as intake stores it, and
/// accepted; both projected. `Sealed::Earlier`: an event of an earlier case,
/// sealed under the applicant's first key (generation 0) — after an erasure,
/// what a rebuild or a late copy reads.
async fn sealed_case(app: &TestApp, number: &'static str, sealed: Sealed) -> Case {
    let c = Case::new(number);
    let mut submitted = c.submitted();
    let subject = subject();
    match sealed {
        Sealed::Now => seal_submitted(&mut submitted, &subject, &data_keys(app).key_for(&subject).await.unwrap()),
        Sealed::Earlier => {
            let gone = yiciban_privacy::SecretKey::generate(yiciban_privacy::Algorithm::Aes256Gcm);
            seal_submitted(&mut submitted, &subject, &gone)
        }
    }
    assert!(submitted.applicant.is_none());
    for event in [
        app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &submitted).await,
        app.append(&c.case_stream(), c.id, CLERK, "2026-01-05T09:00", None, &c.accepted()).await,
    ] {
        app.consumer.process(&event, "direct").await.unwrap();
    }
    c
}

/// Under which key [`sealed_case`] seals.
enum Sealed {
    /// The applicant's current key, as intake seals a new application.
    Now,
    /// Generation 0, erased since.
    Earlier,
}

fn holds_personal_data(doc: &serde_json::Value) -> Vec<&'static str> {
    let text = doc.to_string();
    [NAME, ID_NUMBER, PHONE, STREET].into_iter().filter(|v| text.contains(v)).collect()
}

#[tokio::test]
async fn a_sealed_application_is_shown_masked_and_erased_once_its_key_is_gone() {
    let app = spawn_app(false).await;
    let c = sealed_case(&app, "YCB-20260105-000031", Sealed::Now).await;
    let summary = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!(summary.applicant_display, "王**");
    assert_eq!(summary.applicant_kind, yiciban_proto::common::v1::ApplicantKind::Person as i32);
    // The applicant finds their own case by the lookup value the event carries.
    assert!(app.summary(&mut app.applicant(ID_NUMBER), c.id).await.is_ok());
    let (cases, _, timeline, doc) = app.snapshot(c.id).await;
    assert_eq!(holds_personal_data(&doc), Vec::<&str>::new());

    // Erased: the key goes, intake appends PersonalDataErased.
    assert!(data_keys(&app).erase(&subject(), "admin-001", "request 2026-118").await.unwrap());
    let erased = ev::PersonalDataErased { basis: ev::ErasureBasis::Request as i32, materials_deleted: 1 };
    let event = app.append(&c.case_stream(), c.id, CLERK, "2026-02-01T10:00", None, &erased).await;
    app.consumer.process(&event, "direct").await.unwrap();
    let after = app.summary(&mut app.supervisor(), c.id).await.unwrap();
    assert_eq!(after.applicant_display, "（个人信息已删除）");
    assert_eq!(
        (after.status, after.accepted_on, after.case_number.as_str()),
        (summary.status, summary.accepted_on, summary.case_number.as_str())
    );
    let (cases_after, _, timeline_after, doc) = app.snapshot(c.id).await;
    assert_eq!((cases_after, timeline_after), (cases, timeline + 1), "the case and its facts stay");
    assert!(!doc.to_string().contains("王**"));
    let last = app.timeline(c.id).await.pop().unwrap();
    assert_eq!(last.summary, "综窗 clerk-001 删除申请人个人信息（依申请）");

    // A case of the same applicant projected after the erasure (a rebuild,
    // or a late copy) shows the erased text from the start.
    let late = sealed_case(&app, "YCB-20260105-000032", Sealed::Earlier).await;
    let late = app.summary(&mut app.supervisor(), late.id).await.unwrap();
    assert_eq!(late.applicant_display, "（个人信息已删除）");
    assert_eq!(late.status, summary.status);

    // The person applies again: sealed under the next key generation, shown.
    let again = sealed_case(&app, "YCB-20260301-000033", Sealed::Now).await;
    let again = app.summary(&mut app.supervisor(), again.id).await.unwrap();
    assert_eq!(again.applicant_display, "王**");
}
