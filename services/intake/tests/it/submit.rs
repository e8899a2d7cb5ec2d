//! Submission: every decision path with the seed packages, and every kind of
//! bad input answered with its status, all violations at once, nothing stored.

use std::time::Duration;

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::intake::v1 as pb;
use yiciban_testkit::eventually;

use crate::fixtures::{COMPANY_USCC, MOTHER_ID, commitment, deficiency, material, newborn, restaurant};
use crate::helpers::{IDENTITY_KEY, spawn_app};

#[tokio::test]
async fn a_complete_newborn_application_is_accepted_numbered_and_given_an_officer() {
    let app = spawn_app().await;
    let first = app.clerk().submit_application(newborn("k1")).await.unwrap().into_inner();
    assert_eq!(first.decision(), pb::AcceptanceDecision::Accepted, "{first:?}");
    assert_eq!(first.case_number, "YCB-20260316-000001");
    assert_eq!(first.notice_number, "YCB-20260316-000001-SL");
    assert_eq!(first.promised_working_days, 5);
    // 5 working days after Monday 2026-03-16.
    let by = first.promised_by.unwrap();
    assert_eq!((by.year, by.month, by.day), (2026, 3, 23));
    let second = app.clerk().submit_application(newborn("k2")).await.unwrap().into_inner();
    assert_eq!(second.case_number, "YCB-20260316-000002", "numbers are gapless per day");

    let case = app
        .clerk()
        .get_case(pb::GetCaseRequest { case_id: first.case_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    let case = case.case.unwrap();
    assert_eq!(case.officer_id, "officer-001", "the least-loaded officer");
    let case2 = app
        .clerk()
        .get_case(pb::GetCaseRequest { case_id: second.case_id, ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(case2.case.unwrap().officer_id, "officer-002", "the next case goes to the next least-loaded officer");

    // The events reach JetStream through the outbox relay.
    let stream_name = app.nats.subjects.stream_name();
    eventually("six events on JetStream", Duration::from_secs(20), || async {
        let mut stream = app.nats.js.get_stream(&stream_name).await.ok()?;
        (stream.info().await.ok()?.state.messages == 6).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_missing_non_key_material_is_accepted_with_deficiency_and_a_deadline() {
    let app = spawn_app().await;
    let mut req = restaurant("k1", &["m_site_layout"]);
    req.deficiencies.push(deficiency("m_site_layout"));
    let r = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(r.decision(), pb::AcceptanceDecision::AcceptedWithDeficiency, "{r:?}");
    assert_eq!(r.deficiencies.len(), 1);
    assert_eq!(r.deficiencies[0].material_id, "m_site_layout");
    let due = r.deficiencies[0].due_by.unwrap();
    // 5 working days (the configured deficiency period) after 2026-03-16.
    assert_eq!((due.year, due.month, due.day), (2026, 3, 23));
}

#[tokio::test]
async fn a_commitment_replaces_a_proof_and_is_flagged_for_post_check() {
    let app = spawn_app().await;
    let mut req = restaurant("k1", &["m_food_safety_rules"]);
    req.commitments.push(commitment("m_food_safety_rules"));
    let r = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(r.decision(), pb::AcceptanceDecision::Accepted, "{r:?}");
    assert_eq!(r.commitments.len(), 1);
    assert_eq!(r.commitments[0].material_id, "m_food_safety_rules");
    assert_eq!(r.commitments[0].post_check_department, "samr");
}

#[tokio::test]
async fn an_application_breaking_several_rules_is_not_accepted_with_every_reason_at_once() {
    let app = spawn_app().await;
    // A deficiency on a key material and a commitment where none is allowed.
    let mut req = restaurant("k1", &["m_food_license_app", "m_sign_app"]);
    req.deficiencies.push(deficiency("m_food_license_app"));
    req.commitments.push(commitment("m_sign_app"));
    let r = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(r.decision(), pb::AcceptanceDecision::NotAccepted);
    let codes: Vec<&str> = r.reasons.iter().map(|x| x.code.as_str()).collect();
    assert!(codes.contains(&"DEFICIENCY_NOT_ALLOWED"), "{codes:?}");
    assert!(codes.contains(&"COMMITMENT_NOT_ALLOWED"), "{codes:?}");
    assert!(r.reasons.iter().any(|x| x.path.contains("m_food_license_app")), "{:?}", r.reasons);
    assert!(r.reasons.iter().any(|x| x.path.contains("m_sign_app")), "{:?}", r.reasons);
    assert_eq!(r.notice_number, format!("{}-BSL", r.case_number));
}

#[tokio::test]
async fn a_dishonest_applicant_gets_neither_deficiency_nor_commitment() {
    let app = spawn_app().await;
    let admin = app.intake_as(&app.token(Role::Admin, "admin-1", None, None));
    admin
        .clone()
        .update_credit_status(pb::UpdateCreditStatusRequest {
            idempotency_key: "credit-1".into(),
            id_number: COMPANY_USCC.into(),
            status: pb::CreditStatus::Dishonest as i32,
            reason: "失信被执行人".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut req = restaurant("k1", &["m_site_layout", "m_food_safety_rules"]);
    req.deficiencies.push(deficiency("m_site_layout"));
    req.commitments.push(commitment("m_food_safety_rules"));
    let r = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(r.decision(), pb::AcceptanceDecision::NotAccepted);
    assert!(r.reasons.iter().filter(|x| x.code == "CREDIT_RESTRICTED").count() >= 2, "{:?}", r.reasons);

    // Only admins keep the credit list.
    let err = app
        .clerk()
        .update_credit_status(pb::UpdateCreditStatusRequest {
            idempotency_key: "credit-2".into(),
            id_number: COMPANY_USCC.into(),
            status: pb::CreditStatus::Good as i32,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
}

#[tokio::test]
async fn the_credit_list_and_the_case_index_keep_the_keyed_lookup_value_of_the_identity_not_the_number() {
    let app = spawn_app().await;
    let mut admin = app.intake_as(&app.token(Role::Admin, "admin-1", None, None));
    admin
        .update_credit_status(pb::UpdateCreditStatusRequest {
            idempotency_key: "credit-1".into(),
            id_number: COMPANY_USCC.to_lowercase(),
            status: pb::CreditStatus::Good as i32,
            reason: "守信激励".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let r = app.clerk().submit_application(restaurant("k1", &[])).await.unwrap().into_inner();

    // HMAC-SHA256 under the configured key, as every service computes it.
    let configured: std::collections::HashMap<String, String> = [
        ("YICIBAN_IDENTITY_KEY".to_owned(), IDENTITY_KEY.to_owned()),
        ("YICIBAN_DEV_MODE".to_owned(), "true".to_owned()),
    ]
    .into();
    let expected = yiciban_platform::config::identity_key(&configured).unwrap().lookup(COMPANY_USCC);
    let listed: Vec<String> =
        sqlx::query_scalar("SELECT identity_key FROM intake.credit_list").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(listed, [expected.as_str()]);
    let indexed: String = sqlx::query_scalar("SELECT applicant_key FROM intake.case_index WHERE case_id = $1::uuid")
        .bind(&r.case_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(indexed, expected);
}

#[tokio::test]
async fn every_bad_field_is_listed_in_one_invalid_argument_and_nothing_is_stored() {
    let app = spawn_app().await;
    let mut req = restaurant("k1", &["m_fire_plan"]);
    let applicant = req.applicant.as_mut().unwrap();
    applicant.id_number = "91350100M000100Y44".into(); // wrong check digit
    let form = req.form_data.as_mut().unwrap();
    form.fields.remove("entity_name"); // required field missing
    form.fields.insert(
        "contact_phone".into(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("12345".into())) },
    );
    form.fields.insert(
        "legal_rep_id_no".into(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("150203198801011230".into())) },
    );
    req.materials.push(material("m_not_in_this_package")); // extra material
    let mut big = material("m_sign_app");
    big.size_bytes = 50 * 1024 * 1024; // over the 1 MiB test limit
    req.materials.retain(|m| m.material_id != "m_sign_app");
    req.materials.push(big);

    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let violations = violations_of(&err);
    let fields: Vec<String> = violations.iter().map(|v| v.field.clone()).collect();
    for expected in
        ["applicant.id_number", "form_data.entity_name", "form_data.contact_phone", "form_data.legal_rep_id_no"]
    {
        assert!(fields.iter().any(|f| f == expected), "{expected} missing from {fields:?}");
    }
    // The extra material is the 6th in the request, the oversize one the 7th.
    let extra = violations.iter().find(|v| v.field == "materials[5].material_id").expect("extra material listed");
    assert!(extra.description.contains("m_not_in_this_package"), "{extra:?}");
    assert!(fields.iter().any(|f| f == "materials[6].size_bytes"), "oversize material: {fields:?}");
    assert!(fields.iter().any(|f| f.contains("m_fire_plan")), "missing material: {fields:?}");
    assert_eq!(app.event_count().await, 0, "nothing stored");

    // The refused submission did not use up a case number.
    let ok = app.clerk().submit_application(newborn("k2")).await.unwrap().into_inner();
    assert_eq!(ok.case_number, "YCB-20260316-000001");
}

#[tokio::test]
async fn an_unknown_package_or_a_wrong_id_check_digit_is_refused() {
    let app = spawn_app().await;
    let mut req = newborn("k1");
    req.package_id = "open-a-spaceport".into();
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(violations_of(&err).iter().any(|v| v.field == "package_id"), "{err:?}");

    let mut req = newborn("k2");
    req.applicant.as_mut().unwrap().id_number = "110105194912310021".into();
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(violations_of(&err).iter().any(|v| v.field == "applicant.id_number"), "{err:?}");

    let mut req = newborn("");
    req.idempotency_key.clear();
    let err = app.clerk().submit_application(req).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_replayed_key_returns_the_first_result_and_a_reused_key_is_refused() {
    let app = spawn_app().await;
    let first = app.clerk().submit_application(newborn("same-key")).await.unwrap().into_inner();
    let again = app.clerk().submit_application(newborn("same-key")).await.unwrap().into_inner();
    assert_eq!(first, again, "the replay answers with the first result");
    let events = app.event_count().await;

    let mut other = newborn("same-key");
    other.form_data.as_mut().unwrap().fields.insert(
        "newborn_name".into(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue("李小宝".into())) },
    );
    let err = app.clerk().submit_application(other).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists, "{err:?}");
    assert_eq!(app.event_count().await, events, "nothing stored");
}

#[tokio::test]
async fn callers_outside_their_role_are_refused() {
    let app = spawn_app().await;
    let agent = app.intake_as(&app.token(Role::Agent, "agent-1", Some("samr"), None));
    let err = agent.clone().submit_application(newborn("k1")).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // An applicant submits online for itself, not for someone else.
    let other_person = app.intake_as(&app.token(Role::Applicant, "citizen-9", None, Some("150203198801011236")));
    let mut online = newborn("k2");
    online.channel = yiciban_proto::common::v1::Channel::Online as i32;
    let err = other_person.clone().submit_application(online.clone()).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let mother = app.intake_as(&app.token(Role::Applicant, "citizen-1", None, Some(MOTHER_ID)));
    let ok = mother.clone().submit_application(online).await.unwrap().into_inner();
    assert_eq!(ok.decision(), pb::AcceptanceDecision::Accepted);

    let anonymous = yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient::new(app.channel.clone());
    let err = anonymous.clone().submit_application(newborn("k3")).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    assert_eq!(app.event_count().await, 3, "only the applicant's own submission was stored");
}

#[tokio::test]
async fn a_clerk_takes_an_application_over_the_hotline_and_the_channel_is_recorded() {
    let app = spawn_app().await;
    let mut req = newborn("k1");
    req.channel = yiciban_proto::common::v1::Channel::Hotline as i32;
    let r = app.clerk().submit_application(req).await.unwrap().into_inner();
    assert_eq!(r.decision(), pb::AcceptanceDecision::Accepted);
    let channel: String = sqlx::query_scalar("SELECT metadata->>'channel' FROM intake.events WHERE stream_version = 1")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(channel, "CHANNEL_HOTLINE");
}
