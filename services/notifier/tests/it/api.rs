//! NotifierService.ListMessages: who may list, what a bad request gets, and
//! the pages.

use tonic::Code;
use yiciban_platform::Role;
use yiciban_proto::notifier::v1 as pb;

use crate::helpers::{Via, spawn_app};

#[tokio::test]
async fn only_supervisors_and_administrators_list_messages_and_bad_requests_name_their_field() {
    let app = spawn_app(Via::LocalSink).await;
    let (first, _) = app.accepted_case("api-1").await;
    let (second, _) = app.accepted_case("api-2").await;
    app.settled(first, 1).await;
    app.settled(second, 1).await;

    for (role, department) in [(Role::Agent, Some("public-security")), (Role::Clerk, None), (Role::Officer, None)] {
        let refused = app.client(role, department).list_messages(pb::ListMessagesRequest::default()).await.unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied, "{role:?}: {refused:?}");
    }

    let admin = app.client(Role::Admin, None);
    let too_big = pb::ListMessagesRequest { page_size: 201, ..Default::default() };
    let refused = admin.clone().list_messages(too_big).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("page_size"), "{refused:?}");
    let not_a_case = pb::ListMessagesRequest { case_id: "YCB-20260316-000001".into(), ..Default::default() };
    let refused = admin.clone().list_messages(not_a_case).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(refused.message().contains("case_id"), "{refused:?}");

    // Two pages of one, newest first, then the end.
    let supervisor = app.client(Role::Supervisor, None);
    let page = |token: String| pb::ListMessagesRequest { page_size: 1, page_token: token, ..Default::default() };
    let one = supervisor.clone().list_messages(page(String::new())).await.unwrap().into_inner();
    assert_eq!(one.messages[0].case_id, second.to_string());
    let two = supervisor.clone().list_messages(page(one.next_page_token.clone())).await.unwrap().into_inner();
    assert_eq!(two.messages[0].case_id, first.to_string());
    assert_eq!(two.next_page_token, "", "no third page");
}
