//! Reassigning the case officer (AssignOfficer): only a case officer on
//! intake's roster (YICIBAN_OFFICERS) is taken — a mistyped login is refused
//! on its field with nothing recorded, instead of taking the case off every
//! officer's worklist — and an empty name is the roster's.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::status::violations_of;
use yiciban_proto::intake::v1 as pb;

use crate::fixtures::newborn;
use crate::helpers::spawn_app;

fn assign(key: &str, case_id: &str, officer_id: &str) -> pb::AssignOfficerRequest {
    pb::AssignOfficerRequest {
        idempotency_key: key.into(),
        case_id: case_id.into(),
        expected_version: 0,
        officer_id: officer_id.into(),
        officer_name: String::new(),
    }
}

#[tokio::test]
async fn only_a_case_officer_on_the_roster_takes_a_case_and_an_empty_name_is_the_rosters() {
    let app = spawn_app().await;
    let case_id = app.clerk().submit_application(newborn("k1")).await.unwrap().into_inner().case_id;
    let supervisor = app.intake_as(&app.token(Role::Supervisor, "sup-001", None, None));
    let before = app.event_count().await;

    for unknown in ["officer-999", "offcer-002", "clerk-001"] {
        let err = supervisor.clone().assign_officer(assign(unknown, &case_id, unknown)).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{unknown}: {err:?}");
        assert!(!err.message().contains(unknown), "the message does not echo the input: {}", err.message());
        assert_eq!(violations_of(&err).into_iter().map(|v| v.field).collect::<Vec<_>>(), ["officer_id"]);
    }
    assert_eq!(app.event_count().await, before, "nothing recorded");

    let officer_of = || {
        let mut supervisor = supervisor.clone();
        let request = pb::GetCaseRequest { case_id: case_id.clone(), ..Default::default() };
        async move { supervisor.get_case(request).await.unwrap().into_inner().case.unwrap().officer_id }
    };
    let current = officer_of().await;
    let other = if current == "officer-002" { "officer-003" } else { "officer-002" };
    supervisor.clone().assign_officer(assign("ok", &case_id, &format!(" {other} "))).await.unwrap();
    assert_eq!(officer_of().await, other);
    let recorded: Vec<u8> = sqlx::query_scalar(
        "SELECT payload FROM intake.events WHERE event_type = 'OfficerAssigned' ORDER BY position DESC LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let roster_name = if other == "officer-002" { "李专员" } else { "张专员" };
    assert!(
        recorded.windows(roster_name.len()).any(|w| w == roster_name.as_bytes()),
        "the roster's name is recorded for an empty one"
    );
}
