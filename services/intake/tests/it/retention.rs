//! Retention periods: intake records the day each case ended (closed by the
//! issuance service through RecordCaseClosed, or withdrawn in intake), the
//! retention job erases an applicant once every case ended and the period
//! ran out — once, with basis retention, whichever replicas run it — and
//! operators see who falls due without personal data.

use tonic::Code;
use yiciban_intake::retention;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;

use crate::fixtures::newborn;
use crate::helpers::{TestApp, spawn_app};

type Privacy = PrivacyServiceClient<tonic::codegen::InterceptedService<tonic::transport::Channel, ClientAuth>>;

fn privacy_as(app: &TestApp, role: Role) -> Privacy {
    let token = app.token(role, &format!("{}-001", role.as_str()), None, None);
    PrivacyServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)))
}

fn date(year: i32, month: i32, day: i32) -> common::Date {
    common::Date { year, month, day }
}

/// 10:00 in China on `day` (YYYY-MM-DD).
fn morning_of(day: &str) -> chrono::DateTime<chrono::Utc> {
    format!("{day}T02:00:00Z").parse().unwrap()
}

/// The mother's newborn application, accepted; its case id.
async fn accepted_case(app: &TestApp, key: &str) -> String {
    let submitted = app.clerk().submit_application(newborn(key)).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), pb::AcceptanceDecision::Accepted, "{submitted:?}");
    submitted.case_id
}

/// The issuance service's process manager telling intake the case closed.
async fn closed_by_issuance(app: &TestApp, case_id: &str, on: common::Date) -> Result<bool, tonic::Status> {
    closed_with_scans(app, case_id, on, &[]).await
}

/// Like [`closed_by_issuance`], with the scans the window took at hand-out.
pub(crate) async fn closed_with_scans(
    app: &TestApp,
    case_id: &str,
    on: common::Date,
    scans: &[&str],
) -> Result<bool, tonic::Status> {
    let service = app.intake_as(&app.token(Role::Service, "issuance", None, None));
    let request = pb::RecordCaseClosedRequest {
        case_id: case_id.into(),
        closed_on: Some(on),
        window_materials: scans.iter().map(|s| (*s).to_owned()).collect(),
    };
    service.clone().record_case_closed(request).await.map(|r| r.into_inner().recorded)
}

/// One round of the job, which no other replica holds.
async fn round(app: &TestApp) -> usize {
    retention::round(&app.intake).await.unwrap().expect("no other round holds the lock")
}

/// Who erased, and why, as the data keys record it for the case's applicant.
async fn erasure_record(app: &TestApp, case_id: &str) -> Option<(String, String)> {
    sqlx::query_as(
        "SELECT k.erased_by, k.erasure_reason FROM intake.data_keys k
           JOIN intake.case_index c ON c.applicant_key = k.subject
          WHERE c.case_id = $1::uuid AND k.erased_at IS NOT NULL",
    )
    .bind(case_id)
    .fetch_optional(&app.db.pool)
    .await
    .unwrap()
}

async fn listed_due(app: &TestApp, within_days: u32) -> pb::ListRetentionDueResponse {
    let request = pb::ListRetentionDueRequest { within_days, limit: 0 };
    privacy_as(app, Role::Supervisor).list_retention_due(request).await.unwrap().into_inner()
}

#[tokio::test]
async fn a_closed_case_kept_past_its_retention_period_has_its_applicant_erased_once_with_basis_retention() {
    let app = spawn_app().await;
    let case_id = accepted_case(&app, "r-1").await;
    assert!(closed_by_issuance(&app, &case_id, date(2026, 3, 20)).await.unwrap());
    assert!(!closed_by_issuance(&app, &case_id, date(2026, 3, 20)).await.unwrap(), "a repeat records nothing");

    // Listed ahead (seed packages keep data ten years), without personal data.
    app.clock.set(morning_of("2036-03-01"));
    let listed = listed_due(&app, 30).await;
    assert_eq!(listed.today, Some(date(2036, 3, 1)));
    assert_eq!(listed.due.len(), 1, "{listed:?}");
    let due = &listed.due[0];
    assert_eq!(
        (due.due_on, due.last_ended_on, due.retention_years),
        (Some(date(2036, 3, 20)), Some(date(2026, 3, 20)), 10)
    );
    assert_eq!(due.case_ids, std::slice::from_ref(&case_id));
    assert_eq!(due.subject_prefix.len(), 12);
    assert!(listed_due(&app, 0).await.due.is_empty(), "not due today");

    // The day before the period ends nothing happens; on the day it is erased.
    app.clock.set(morning_of("2036-03-19"));
    assert_eq!(round(&app).await, 0);
    assert!(app.erasures_of(&case_id).await.is_empty());
    app.clock.set(morning_of("2036-03-20"));
    assert_eq!(round(&app).await, 1);
    let erased = app.erasures_of(&case_id).await;
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].basis(), ev::ErasureBasis::Retention, "{erased:?}");
    let (by, reason) = erasure_record(&app, &case_id).await.expect("the erasure is recorded");
    assert_eq!(by, retention::ACTOR);
    assert!(reason.contains("retention period passed") && reason.contains("2026-03-20"), "{reason}");

    // Once: later rounds find nobody; the admin's list shows who did it.
    app.clock.set(morning_of("2040-01-01"));
    assert_eq!(round(&app).await, 0);
    assert_eq!(app.erasures_of(&case_id).await.len(), 1);
    assert!(listed_due(&app, 0).await.due.is_empty());
    let list = privacy_as(&app, Role::Admin).list_erasures(pb::ListErasuresRequest { limit: 0 }).await.unwrap();
    assert_eq!(list.into_inner().erasures[0].erased_by, retention::ACTOR);
}

#[tokio::test]
async fn a_person_with_one_open_case_is_not_erased_until_that_case_ends_too() {
    let app = spawn_app().await;
    let closed = accepted_case(&app, "r-2a").await;
    let open = accepted_case(&app, "r-2b").await;
    closed_by_issuance(&app, &closed, date(2026, 3, 20)).await.unwrap();

    app.clock.set(morning_of("2050-01-01"));
    assert_eq!(round(&app).await, 0);
    assert!(listed_due(&app, retention::MAX_LOOKAHEAD_DAYS).await.due.is_empty());
    assert!(app.erasures_of(&closed).await.is_empty() && app.erasures_of(&open).await.is_empty());

    // Withdrawn in intake on 2050-01-01: the period runs from that day.
    let withdrawn = app
        .clerk()
        .withdraw_application(pb::WithdrawApplicationRequest {
            idempotency_key: "w-r-2b".into(),
            case_id: open.clone(),
            expected_version: 0,
            reason: "申请人主动撤回".into(),
        })
        .await;
    withdrawn.unwrap();
    let due = listed_due(&app, retention::MAX_LOOKAHEAD_DAYS).await.due;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!((due[0].due_on, due[0].last_ended_on), (Some(date(2060, 1, 1)), Some(date(2050, 1, 1))));
    let mut cases = vec![closed.clone(), open.clone()];
    cases.sort();
    assert_eq!(due[0].case_ids, cases);

    app.clock.set(morning_of("2060-01-01"));
    assert_eq!(round(&app).await, 1);
    assert_eq!(app.erasures_of(&closed).await.len(), 1);
    assert_eq!(app.erasures_of(&open).await.len(), 1);
}

#[tokio::test]
async fn two_job_instances_at_once_erase_a_person_once_and_a_held_lock_leaves_the_round_to_its_holder() {
    let app = spawn_app().await;
    let case_id = accepted_case(&app, "r-3").await;
    closed_by_issuance(&app, &case_id, date(2026, 3, 20)).await.unwrap();
    app.clock.set(morning_of("2037-01-01"));

    // Another replica holds the lock: this one leaves the round to it.
    let mut other = app.db.pool.acquire().await.unwrap();
    let key = "yiciban-retention-intake";
    let got: bool =
        sqlx::query_scalar("SELECT pg_try_advisory_lock(hashtext($1))").bind(key).fetch_one(&mut *other).await.unwrap();
    assert!(got);
    assert_eq!(retention::round(&app.intake).await.unwrap(), None);
    assert!(app.erasures_of(&case_id).await.is_empty());
    sqlx::query("SELECT pg_advisory_unlock(hashtext($1))").bind(key).execute(&mut *other).await.unwrap();

    let (a, b) = tokio::join!(retention::round(&app.intake), retention::round(&app.intake));
    let erased: usize = [a.unwrap(), b.unwrap()].iter().flatten().sum();
    assert_eq!(erased, 1);
    assert_eq!(app.erasures_of(&case_id).await.len(), 1);
}

/// The newborn application of the applicant with resident ID number
/// `id_number` (another person than the mother), accepted; its case id.
async fn accepted_case_of(app: &TestApp, key: &str, id_number: &str) -> String {
    let mut request = newborn(key);
    request.applicant.as_mut().unwrap().id_number = id_number.to_owned();
    let submitted = app.clerk().submit_application(request).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), pb::AcceptanceDecision::Accepted, "{submitted:?}");
    submitted.case_id
}

/// Two replicas of the intake service on one database run the retention
/// job at the same moment, at every instant someone falls due and after
/// (issue 20, item 2: work that must happen once is safe with any number of
/// replicas): each person is erased once, whichever replica did it — one
/// erased data key each, recorded as the job, one `PersonalDataErased` per
/// case with basis retention — and the two replicas' rounds add up to one
/// erasure per person; later rounds do nothing.
#[tokio::test]
async fn two_replicas_running_the_job_at_the_same_moment_erase_each_person_once() {
    let app = spawn_app().await;
    let other = app.replica().await;
    // Six people (their own resident ID numbers); the first three closed in
    // March, the others in June (seed packages keep data ten years), and one
    // of each group with a second case that ended the same day.
    let mut people: Vec<Vec<String>> = Vec::new();
    for i in 0..6 {
        let first17 = format!("11010519800101{:03}", 100 + i);
        let id_number = format!("{first17}{}", yiciban_domain::values::id_number_check_char(&first17).unwrap());
        let cases = if i % 3 == 0 { 2 } else { 1 };
        let mut ids = Vec::new();
        for c in 0..cases {
            let case_id = accepted_case_of(&app, &format!("r-10-{i}-{c}"), &id_number).await;
            let on = if i < 3 { date(2026, 3, 20) } else { date(2026, 6, 22) };
            assert!(closed_by_issuance(&app, &case_id, on).await.unwrap());
            ids.push(case_id);
        }
        people.push(ids);
    }
    let cases = people.iter().flatten().count();
    assert_eq!(cases, 8);

    let mut total = 0;
    for (at, due) in [("2036-03-19", 0), ("2036-03-20", 3), ("2036-06-21", 0), ("2036-06-22", 3), ("2040-01-01", 0)] {
        app.clock.set(morning_of(at));
        // Twice at each instant: the second pair finds nobody left.
        for pass in 0..2 {
            let (a, b) = tokio::join!(retention::round(&app.intake), retention::round(&other.state));
            let erased: usize = [a.unwrap(), b.unwrap()].iter().flatten().sum();
            assert_eq!(erased, if pass == 0 { due } else { 0 }, "at {at}, pass {pass}");
            total += erased;
        }
    }
    assert_eq!(total, 6, "one erasure per person over both replicas");

    for case_id in people.iter().flatten() {
        let erased = app.erasures_of(case_id).await;
        assert_eq!(erased.len(), 1, "one PersonalDataErased on case {case_id}");
        assert_eq!(erased[0].basis(), ev::ErasureBasis::Retention, "{erased:?}");
        let (by, _) = erasure_record(&app, case_id).await.expect("the erasure is recorded");
        assert_eq!(by, retention::ACTOR);
    }
    let (erasure_events, erased_subjects): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM intake.events WHERE event_type = 'PersonalDataErased'),
                (SELECT count(DISTINCT subject) FROM intake.data_keys WHERE erased_at IS NOT NULL)",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((erasure_events, erased_subjects), (cases as i64, 6), "nothing done twice, nobody else erased");
    assert!(listed_due(&app, retention::MAX_LOOKAHEAD_DAYS).await.due.is_empty());
}

#[tokio::test]
async fn a_round_cut_short_after_deleting_the_key_is_finished_by_the_next() {
    let app = spawn_app().await;
    let case_id = accepted_case(&app, "r-4").await;
    closed_by_issuance(&app, &case_id, date(2026, 3, 20)).await.unwrap();
    app.clock.set(morning_of("2037-01-01"));
    // A round that deleted the key and stopped before marking the case.
    let subject: String = sqlx::query_scalar("SELECT applicant_key FROM intake.case_index WHERE case_id = $1::uuid")
        .bind(&case_id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let codec = app.intake.applications.codec();
    assert!(codec.data_keys.erase(&subject, retention::ACTOR, "cut short").await.unwrap());
    assert_eq!(listed_due(&app, 0).await.due.len(), 1, "not done until every case is marked");

    assert_eq!(round(&app).await, 0, "the key was deleted before");
    let erased = app.erasures_of(&case_id).await;
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].basis(), ev::ErasureBasis::Retention);
    assert!(listed_due(&app, 0).await.due.is_empty());
}

#[tokio::test]
async fn recording_a_closing_is_for_services_only_and_a_bad_request_changes_nothing() {
    let app = spawn_app().await;
    let case_id = accepted_case(&app, "r-5").await;
    let request = pb::RecordCaseClosedRequest {
        case_id: case_id.clone(),
        closed_on: Some(date(2026, 3, 20)),
        window_materials: Vec::new(),
    };
    for role in [Role::Clerk, Role::Admin, Role::Supervisor] {
        let refused = app
            .intake_as(&app.token(role, &format!("{}-001", role.as_str()), None, None))
            .record_case_closed(request.clone())
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}: {refused:?}");
    }
    let bad_id = closed_by_issuance(&app, "not-a-case", date(2026, 3, 20)).await.unwrap_err();
    assert_eq!(bad_id.code(), Code::InvalidArgument, "{bad_id:?}");
    let no_day = closed_by_issuance(&app, &case_id, date(2026, 2, 30)).await.unwrap_err();
    assert_eq!(no_day.code(), Code::InvalidArgument, "{no_day:?}");
    let unknown = closed_by_issuance(&app, &uuid::Uuid::now_v7().to_string(), date(2026, 3, 20)).await.unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound, "{unknown:?}");
    let sha = "a".repeat(64);
    let too_many: Vec<&str> = vec![sha.as_str(); 101];
    for (scans, field) in [(&["not-a-sha"][..], "window_materials[0]"), (&too_many[..], "window_materials")] {
        let bad = closed_with_scans(&app, &case_id, date(2026, 3, 20), scans).await.unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument, "{bad:?}");
        let fields: Vec<String> = yiciban_platform::status::violations_of(&bad).into_iter().map(|v| v.field).collect();
        assert!(fields.contains(&field.to_owned()), "{fields:?}");
    }
    let scans: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.window_materials").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(scans, 0, "no scan recorded");
    let endings: i64 =
        sqlx::query_scalar("SELECT count(*) FROM intake.case_endings").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(endings, 0, "nothing recorded");

    // A later day moves the closing later, an earlier one never moves it back.
    assert!(closed_by_issuance(&app, &case_id, date(2026, 3, 20)).await.unwrap());
    assert!(closed_by_issuance(&app, &case_id, date(2026, 3, 25)).await.unwrap());
    assert!(!closed_by_issuance(&app, &case_id, date(2026, 3, 21)).await.unwrap());
    app.clock.set(morning_of("2036-03-01"));
    assert_eq!(listed_due(&app, 30).await.due[0].due_on, Some(date(2036, 3, 25)));
}

#[tokio::test]
async fn the_due_list_is_for_admins_and_supervisors_and_checks_its_bounds() {
    let app = spawn_app().await;
    for role in [Role::Clerk, Role::Officer] {
        let refused =
            privacy_as(&app, role).list_retention_due(pb::ListRetentionDueRequest::default()).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}: {refused:?}");
    }
    privacy_as(&app, Role::Admin).list_retention_due(pb::ListRetentionDueRequest::default()).await.unwrap();
    let request = pb::ListRetentionDueRequest { within_days: retention::MAX_LOOKAHEAD_DAYS + 1, limit: 501 };
    let refused = privacy_as(&app, Role::Admin).list_retention_due(request).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    let fields: Vec<String> = yiciban_platform::status::violations_of(&refused).into_iter().map(|v| v.field).collect();
    assert_eq!(fields, ["within_days", "limit"]);
}

#[tokio::test]
async fn a_case_keeps_the_retention_period_of_its_catalog_version_after_another_is_published() {
    use yiciban_proto::catalog::v1 as catalog;
    use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;
    let app = spawn_app().await;
    let token = app.token(Role::Admin, "admin-001", None, None);
    let mut publishing =
        CatalogPublishingServiceClient::with_interceptor(app.channel.clone(), ClientAuth::new(Some(&token)));
    let with_years = |version: &str, years: u32| {
        yiciban_testkit::catalogs::seed_as(version, |c| {
            for p in c["packages"].as_array_mut().unwrap() {
                p["retention_years"] = years.into();
            }
        })
    };
    let import = |file_json: String| catalog::ImportCatalogRequest { file_json, note: "retention".into() };
    publishing.import_catalog(import(with_years("2026.2", 30))).await.unwrap();
    let case_id = accepted_case(&app, "r-7").await;
    // The guide tells applicants the period of the version in force.
    let guide = app
        .catalog()
        .get_guide(catalog::GetGuideRequest { package_id: "newborn-birth".into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(guide.guide.unwrap().retention_years, 30);
    publishing.import_catalog(import(with_years("2026.3", 2))).await.unwrap();

    // Withdrawn under 2026.3 in force: the case keeps 2026.2's 30 years,
    // looked up from the published versions.
    let withdrawal = pb::WithdrawApplicationRequest {
        idempotency_key: "w-r-7".into(),
        case_id: case_id.clone(),
        expected_version: 0,
        reason: "申请人主动撤回".into(),
    };
    app.clerk().withdraw_application(withdrawal).await.unwrap();
    let stored: Option<i32> =
        sqlx::query_scalar("SELECT retention_years FROM intake.case_endings WHERE case_id = $1::uuid")
            .bind(&case_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(stored, None, "not the version in force: looked up by the job");
    let due = listed_due(&app, retention::MAX_LOOKAHEAD_DAYS).await.due;
    assert!(due.is_empty(), "thirty years is beyond any listing: {due:?}");
    app.clock.set(morning_of("2056-03-01"));
    let due = listed_due(&app, 30).await.due;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!((due[0].retention_years, due[0].due_on), (30, Some(date(2056, 3, 16))));
}

#[tokio::test]
async fn a_case_not_accepted_ends_the_day_it_is_refused() {
    let app = spawn_app().await;
    let mut refused = yiciban_testkit::applications::restaurant("r-8", &["m_food_license_app"]);
    refused.deficiencies.push(yiciban_testkit::applications::deficiency("m_food_license_app"));
    let r = app.clerk().submit_application(refused).await.unwrap().into_inner();
    assert_eq!(r.decision(), pb::AcceptanceDecision::NotAccepted);
    let ending: (chrono::NaiveDate, String, Option<i32>) =
        sqlx::query_as("SELECT ended_on, how, retention_years FROM intake.case_endings WHERE case_id = $1::uuid")
            .bind(&r.case_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(ending, ("2026-03-16".parse().unwrap(), "not_accepted".to_owned(), Some(10)));
    app.clock.set(morning_of("2036-03-16"));
    assert_eq!(round(&app).await, 1);
    assert_eq!(app.erasures_of(&r.case_id).await.len(), 1);
}

#[tokio::test]
async fn the_job_runs_on_its_interval_and_reports_its_health() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
    let app = crate::helpers::spawn_app_with(&[("YICIBAN_RETENTION_SCAN", "1s")]).await;
    let case_id = accepted_case(&app, "r-9").await;
    closed_by_issuance(&app, &case_id, date(2026, 3, 20)).await.unwrap();
    app.clock.set(morning_of("2036-03-20"));
    // No round called here: the service's own job finds the person.
    let erased = yiciban_testkit::eventually("the job's round", std::time::Duration::from_secs(30), || async {
        let found = app.erasures_of(&case_id).await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    assert_eq!(erased.len(), 1);
    let health = HealthClient::new(app.channel.clone())
        .check(HealthCheckRequest { service: retention::HEALTH_ENTRY.into() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status(), ServingStatus::Serving);
}
