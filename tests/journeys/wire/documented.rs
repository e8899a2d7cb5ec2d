//! The statuses the protos' comments document for each RPC — the contract
//! an outside developer reads — so the fuzz can hold every answer to it: a
//! status a service gives that its comments never name is a drift between
//! the code and the contract, and fails the journey.
//!
//! An RPC's documented statuses are those named (as `INVALID_ARGUMENT`,
//! `NOT_FOUND`, …) in its package's comment, its service's comment, its own
//! comment, and the comments of its request message and the request's
//! fields; plus what yiciban.common.v1 says of every call (a string with NUL
//! is INVALID_ARGUMENT, a token without a role UNAUTHENTICATED).

use prost_types::DescriptorProto;
use tonic::Code;
use yiciban_proto::descriptors::comment;

/// Every gRPC status code by its canonical name.
const NAMES: &[(Code, &str)] = &[
    (Code::Cancelled, "CANCELLED"),
    (Code::Unknown, "UNKNOWN"),
    (Code::InvalidArgument, "INVALID_ARGUMENT"),
    (Code::DeadlineExceeded, "DEADLINE_EXCEEDED"),
    (Code::NotFound, "NOT_FOUND"),
    (Code::AlreadyExists, "ALREADY_EXISTS"),
    (Code::PermissionDenied, "PERMISSION_DENIED"),
    (Code::ResourceExhausted, "RESOURCE_EXHAUSTED"),
    (Code::FailedPrecondition, "FAILED_PRECONDITION"),
    (Code::Aborted, "ABORTED"),
    (Code::OutOfRange, "OUT_OF_RANGE"),
    (Code::Unimplemented, "UNIMPLEMENTED"),
    (Code::Internal, "INTERNAL"),
    (Code::Unavailable, "UNAVAILABLE"),
    (Code::DataLoss, "DATA_LOSS"),
    (Code::Unauthenticated, "UNAUTHENTICATED"),
];

/// The canonical name of `code`.
pub fn name(code: Code) -> &'static str {
    NAMES.iter().find(|(c, _)| *c == code).map_or("OK", |(_, n)| n)
}

/// The comments of message `type_name` (`.package.Message`) and its fields.
fn message_comments(type_name: &str) -> String {
    let set = yiciban_proto::descriptors::set();
    let (package, name) = type_name.trim_start_matches('.').rsplit_once('.').unwrap_or_default();
    for file in set.file.iter().filter(|f| f.package() == package) {
        if let Some(m) = file.message_type.iter().position(|m: &DescriptorProto| m.name() == name) {
            let message = &file.message_type[m];
            let mut text = comment(file, &[4, m as i32]);
            for f in 0..message.field.len() {
                text.push(' ');
                text.push_str(&comment(file, &[4, m as i32, 2, f as i32]));
            }
            return text;
        }
    }
    String::new()
}

/// The statuses documented for `path` (`/package.Service/Method`).
pub fn statuses(path: &str) -> Vec<Code> {
    let set = yiciban_proto::descriptors::set();
    let mut text = String::from("INVALID_ARGUMENT UNAUTHENTICATED");
    for file in &set.file {
        for (s, service) in file.service.iter().enumerate() {
            for (m, method) in service.method.iter().enumerate() {
                if format!("/{}.{}/{}", file.package(), service.name(), method.name()) != path {
                    continue;
                }
                // The package statement (field 2 of the file) carries the
                // file's opening comment.
                for part in
                    [comment(file, &[2]), comment(file, &[6, s as i32]), comment(file, &[6, s as i32, 2, m as i32])]
                {
                    text.push(' ');
                    text.push_str(&part);
                }
                text.push(' ');
                text.push_str(&message_comments(method.input_type()));
            }
        }
    }
    NAMES.iter().filter(|(_, n)| mentions(&text, n)).map(|(c, _)| *c).collect()
}

/// True when `text` names `status` as a word of its own (`NOT_FOUND`, not
/// part of `TASK_NOT_FOUND`).
fn mentions(text: &str, status: &str) -> bool {
    text.match_indices(status).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + status.len()..].chars().next();
        let part_of_word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        !part_of_word(before) && !part_of_word(after)
    })
}

#[test]
fn statuses_are_read_from_the_comments() {
    let get_task = statuses("/yiciban.tasks.v1.TaskService/GetTask");
    assert!(get_task.contains(&Code::NotFound) && get_task.contains(&Code::PermissionDenied), "{get_task:?}");
    assert!(!get_task.contains(&Code::Internal));
    assert!(mentions("returns NOT_FOUND.", "NOT_FOUND"));
    assert!(!mentions("TASK_NOT_FOUND", "NOT_FOUND"));
}
