//! The authorization matrix: every RPC of every service, called by every
//! role and by every service, against the running system, checked against
//! the one access table (`yiciban_platform::access::RULES`). A caller the
//! rule admits gets past the authentication layer (whatever its empty
//! request then earns: INVALID_ARGUMENT, NOT_FOUND, …); any other caller is
//! refused by the layer with PERMISSION_DENIED before a handler runs. An RPC
//! of the protos without a rule fails the test, so none can be added
//! without deciding who may call it. (Scope — this officer's case, this
//! agent's department, this applicant's own — is the handlers' part and is
//! tested in each service's suite.)

use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::access::rule_of;

use crate::stack::{Service, Stack};

/// Who calls: a person in a role, or a service.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Caller {
    Person(Role, &'static str, Option<&'static str>, Option<&'static str>),
    Service(&'static str),
}

pub(crate) const CALLERS: [Caller; 14] = [
    Caller::Person(Role::Clerk, "clerk-001", None, None),
    Caller::Person(Role::Agent, "agent-samr-1", Some("samr"), None),
    Caller::Person(Role::Officer, "officer-001", None, None),
    Caller::Person(Role::Supervisor, "sup-001", None, None),
    Caller::Person(Role::Admin, "admin-001", None, None),
    Caller::Person(Role::Applicant, "mother", None, Some("11010519491231002X")),
    Caller::Service("intake"),
    Caller::Service("routing"),
    Caller::Service("tasks"),
    Caller::Service("issuance"),
    Caller::Service("tracking"),
    Caller::Service("notifier"),
    Caller::Service("supervision"),
    // the workbench's own identity for the public progress page (ADR 0032)
    Caller::Service("progress"),
];

/// Every RPC of the protos, as its gRPC path.
fn rpcs() -> Vec<String> {
    crate::wire::methods().into_iter().map(|m| m.path).collect()
}

/// The services serving `method` (the refusal log and the operator tools by all).
pub(crate) fn served_by(method: &str) -> Vec<Service> {
    let package = method.trim_start_matches('/').split('.').nth(1).unwrap_or_default();
    match package {
        "catalog" | "intake" => vec![Service::Intake],
        "routing" => vec![Service::Routing],
        "tasks" => vec![Service::Tasks],
        "issuance" => vec![Service::Issuance],
        "tracking" => vec![Service::Tracking],
        "webhooks" => vec![Service::Webhooks],
        "notifier" => vec![Service::Notifier],
        "supervision" => vec![Service::Supervision],
        "audit" | "ops" => Service::ALL.to_vec(),
        other => panic!("no service serves the package {other:?} of {method}"),
    }
}

/// Calls `method` on `service` with an empty request as `token`.
async fn call(stack: &Stack, service: Service, method: &str, token: &str) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(stack.channel(service));
    grpc.ready().await.expect("the service answers");
    let mut request = tonic::Request::new(());
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    let path: http::uri::PathAndQuery = method.parse().unwrap();
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    match grpc.unary(request, path, codec).await {
        Ok(_) => tonic::Status::ok(""),
        Err(status) => status,
    }
}

fn refused_by_the_layer(status: &tonic::Status) -> bool {
    status.code() == Code::PermissionDenied
        && (status.message().contains("may not call")
            || status.message().contains("called only by yiciban's own services"))
}

#[tokio::test]
async fn every_rpc_admits_exactly_the_roles_and_services_its_rule_names() {
    let mut stack = Stack::start("2026-09-29T02:00:00Z").await;
    stack.spawn(Service::Notifier).await;
    stack.spawn(Service::Supervision).await;
    let mut wrong = Vec::new();
    let methods = rpcs();
    assert!(methods.len() >= 59, "the descriptor set lists every RPC");
    for method in &methods {
        let rule = rule_of(method).unwrap_or_else(|| panic!("{method} has no access rule"));
        for caller in CALLERS {
            let (token, admitted) = match caller {
                Caller::Person(role, sub, department, identity) => {
                    (stack.token_with_identity(role, sub, department, identity), rule.people.contains(&role))
                }
                Caller::Service(name) => (stack.token(Role::Service, name, None), rule.services.contains(&name)),
            };
            for service in served_by(method) {
                let status = call(&stack, service, method, &token).await;
                assert_ne!(status.code(), Code::Unauthenticated, "{method} as {caller:?}: {status:?}");
                if admitted == refused_by_the_layer(&status) {
                    wrong.push(format!(
                        "{method} as {caller:?} at {service:?}: admitted by the rule: {admitted}, got {status:?}"
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{} call(s) against the access table:\n{}", wrong.len(), wrong.join("\n"));
}
