//! Requests fuzzed at the transport, as an outside client could send them:
//! every RPC of every service, called by a caller its access rule admits (so
//! the handler runs, not only the authentication layer), with random
//! messages built from the protos ([`messages`]) and with random bytes that
//! are no message at all. Every answer must be a status a client can act
//! on — never INTERNAL, UNKNOWN, DATA_LOSS or UNIMPLEMENTED — and one the
//! protos' comments document for that RPC ([`documented`]: the contract
//! cannot drift from the code), bounded so a default gRPC client reads it,
//! and given within the request timeout; the services answer a normal
//! request afterwards.
//!
//! The plan is random; the seed is printed, `YICIBAN_FUZZ_SEED=<seed>`
//! repeats a run and `YICIBAN_FUZZ_CASES` (default 24) sets the random
//! messages per RPC.

mod documented;
mod messages;

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tonic::Code;
use yiciban_platform::Role;
use yiciban_platform::access::rule_of;
use yiciban_platform::answer::{MAX_DETAILS_BYTES, MAX_MESSAGE_BYTES, encoded_len};
use yiciban_testkit::raw::RawCodec;

use crate::access_matrix::{CALLERS, Caller, served_by};
use crate::stack::{Service, Stack};
use messages::Method;
pub(crate) use messages::methods;

/// Statuses that say the service failed, not the request.
const NEVER: [Code; 4] = [Code::Internal, Code::Unknown, Code::DataLoss, Code::Unimplemented];

/// Calls `method` on `service` with `bodies` as `token` (one message, or a
/// stream of them for a client-streaming RPC).
async fn call(stack: &Stack, service: Service, method: &Method, token: &str, bodies: Vec<Vec<u8>>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(stack.channel(service));
    grpc.ready().await.expect("the service answers");
    let path: http::uri::PathAndQuery = method.path.parse().unwrap();
    let authorize = |metadata: &mut tonic::metadata::MetadataMap| {
        metadata.insert("authorization", format!("Bearer {token}").parse().unwrap());
    };
    let answer = if method.client_streaming || method.server_streaming {
        let mut request = tonic::Request::new(futures::stream::iter(bodies));
        authorize(request.metadata_mut());
        match grpc.streaming(request, path, RawCodec).await {
            Ok(response) => {
                let mut stream = response.into_inner();
                loop {
                    match stream.message().await {
                        Ok(Some(_)) => {}
                        Ok(None) => break Ok(()),
                        Err(status) => break Err(status),
                    }
                }
            }
            Err(status) => Err(status),
        }
    } else {
        let mut request = tonic::Request::new(bodies.into_iter().next().unwrap_or_default());
        authorize(request.metadata_mut());
        grpc.unary(request, path, RawCodec).await.map(|_| ())
    };
    answer.err().unwrap_or_else(|| tonic::Status::ok(""))
}

/// The token of a caller `method`'s rule admits, chosen at random.
fn admitted_token(stack: &Stack, method: &str, rng: &mut StdRng) -> (Caller, String) {
    let rule = rule_of(method).unwrap_or_else(|| panic!("{method} has no access rule"));
    let admitted: Vec<Caller> = CALLERS
        .into_iter()
        .filter(|c| match c {
            Caller::Person(role, ..) => rule.people.contains(role),
            Caller::Service(name) => rule.services.contains(name),
        })
        .collect();
    let caller = admitted[rng.random_range(0..admitted.len())];
    let token = match caller {
        Caller::Person(role, sub, department, identity) => stack.token_with_identity(role, sub, department, identity),
        Caller::Service(name) => stack.token(Role::Service, name, None),
    };
    (caller, token)
}

/// What is wrong with `status` as an answer to a request whose RPC
/// documents `documented`, if anything.
fn wrong(status: &tonic::Status, documented: &[Code]) -> Option<String> {
    if NEVER.contains(&status.code()) {
        return Some("a status that says the service failed".into());
    }
    if status.code() == Code::Unauthenticated {
        return Some("an admitted caller's token refused".into());
    }
    if status.code() != Code::Ok && !documented.contains(&status.code()) {
        return Some(format!(
            "{}, which the RPC's comments (package, service, RPC, request) never name",
            documented::name(status.code())
        ));
    }
    if encoded_len(status.message()) > MAX_MESSAGE_BYTES {
        return Some(format!("a message of {} bytes", encoded_len(status.message())));
    }
    if status.details().len() * 4 / 3 > MAX_DETAILS_BYTES {
        return Some(format!("details of {} bytes", status.details().len()));
    }
    None
}

#[tokio::test]
async fn every_rpc_answers_random_requests_with_a_status_a_client_can_act_on() {
    let seed: u64 = std::env::var("YICIBAN_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    let cases: usize = std::env::var("YICIBAN_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(24);
    eprintln!("fuzz seed {seed} (YICIBAN_FUZZ_SEED={seed} repeats it), {cases} random messages per RPC");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut stack = Stack::start("2026-09-29T02:00:00Z").await;
    stack.spawn(Service::Notifier).await;
    stack.spawn(Service::Supervision).await;
    let mut failures = Vec::new();
    let mut calls = 0;
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for method in methods() {
        let documented = documented::statuses(&method.path);
        for round in 0..cases + 4 {
            // The last rounds send bytes that are not the message at all.
            let body = |rng: &mut StdRng| {
                if round < cases {
                    messages::random(&method.input, rng)
                } else {
                    (0..rng.random_range(1..64)).map(|_| rng.random()).collect()
                }
            };
            let count = if method.client_streaming { rng.random_range(0..4) } else { 1 };
            let bodies: Vec<Vec<u8>> = (0..count).map(|_| body(&mut rng)).collect();
            let (caller, token) = admitted_token(&stack, &method.path, &mut rng);
            for service in served_by(&method.path) {
                let answer = tokio::time::timeout(
                    Duration::from_secs(40),
                    call(&stack, service, &method, &token, bodies.clone()),
                )
                .await;
                calls += 1;
                let problem = match &answer {
                    Err(_) => Some("no answer within 40 s".to_owned()),
                    Ok(status) => {
                        *codes.entry(format!("{:?}", status.code())).or_default() += 1;
                        wrong(status, &documented)
                    }
                };
                if let Some(problem) = problem {
                    let shown: Vec<String> =
                        bodies.iter().map(|b| b.iter().take(96).map(|x| format!("{x:02x}")).collect()).collect();
                    failures.push(format!(
                        "{} at {service:?} as {caller:?}: {problem}: {answer:?}\n  body (hex, first 96 bytes of each): {shown:?}",
                        method.path
                    ));
                }
            }
        }
    }
    eprintln!("{calls} calls; answers by code: {codes:?}");
    assert!(failures.is_empty(), "seed {seed}: {} bad answer(s):\n{}", failures.len(), failures.join("\n"));

    // Still serving: an ordinary read answers.
    let mut tracking = stack.tracking(Role::Supervisor, "sup-001", None);
    tracking
        .overdue_board(yiciban_proto::tracking::v1::OverdueBoardRequest::default())
        .await
        .expect("tracking still answers");
}
