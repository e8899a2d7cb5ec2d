//! The event catalogue a department's developer reads, `docs/EVENTS.md`,
//! generated from the protos (their comments are the contract) and kept
//! true by a test: it fails when the page differs from what the protos say
//! today; `YICIBAN_BLESS_DOCS=1 cargo test -p yiciban-proto catalogue`
//! writes it. Which department's subject an event is published on is decided
//! by the owning service's code; [`DEPARTMENT_OF`] says it here, and the
//! test fails for an event type it does not place.

use std::fmt::Write as _;

use prost::Message as _;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{FileDescriptorProto, FileDescriptorSet};

use crate::payload::EVENT_TYPES;

/// The owning services, by the file their events are declared in.
const SOURCES: &[(&str, &str, &str)] = &[
    (
        "yiciban/events/v1/intake.proto",
        "intake",
        "受理 — applications, acceptance, supplements (stream `case-<case id>`)",
    ),
    (
        "yiciban/events/v1/routing.proto",
        "routing",
        "联办方案 — the plan, its steps and the case clock (stream `plan-<case id>`)",
    ),
    (
        "yiciban/events/v1/tasks.proto",
        "tasks",
        "部门环节 — one department's work on one item (stream `task-<task id>`)",
    ),
    (
        "yiciban/events/v1/issuance.proto",
        "issuance",
        "出件 — results, delivery, closing, ratings, rectification (stream `issuance-<case id>`)",
    ),
];

/// The events published on a department's subject, and which department;
/// every other event is case-level (`_`).
const DEPARTMENT_OF: &[(&str, &str)] = &[
    ("StepDispatched", "the step's department"),
    ("StepCancelled", "the step's department"),
    ("TaskCreated", "the task's department"),
    ("TaskClaimed", "the task's department"),
    ("TaskTransferred", "the task's department"),
    ("TaskApproved", "the task's department"),
    ("TaskDenied", "the task's department"),
    ("TaskReturnedForSupplement", "the task's department"),
    ("TaskResumed", "the task's department"),
    ("TaskWarned", "the task's department"),
    ("TaskEscalated", "the task's department"),
    ("TaskCancelled", "the task's department"),
    ("PostCheckPassed", "the task's department"),
    ("PostCheckFailed", "the task's department"),
    ("ApprovalRevoked", "the task's department"),
    ("RatingReceived", "the rated department; case-level when the rating names none"),
    ("RatingMarkedInvalid", "the rated department; case-level when the rating named none"),
    ("RectificationOpened", "the responsible department"),
    ("RectificationVerified", "the responsible department"),
    ("RectificationRectified", "the responsible department"),
    ("RectificationExplained", "the responsible department"),
    ("RectificationClosed", "the responsible department"),
];

/// The comment attached to the element at `path` of `file`.
fn comment(file: &FileDescriptorProto, path: &[i32]) -> String {
    let Some(info) = &file.source_code_info else { return String::new() };
    info.location
        .iter()
        .find(|l| l.path == path)
        .and_then(|l| l.leading_comments.clone())
        .map(|c| c.lines().map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn type_of(f: &prost_types::FieldDescriptorProto) -> String {
    let base = match f.r#type() {
        Type::Message | Type::Enum => f.type_name().trim_start_matches('.').to_owned(),
        other => format!("{other:?}").to_lowercase(),
    };
    if f.label() == Label::Repeated { format!("repeated {base}") } else { base }
}

/// `docs/EVENTS.md` as the protos say it today.
fn render() -> String {
    let set = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).expect("the descriptor set");
    let envelope_file = set.file.iter().find(|f| f.name() == "yiciban/events/v1/envelope.proto").expect("envelope");
    let mut page = String::new();
    page.push_str(
        "# Case events: the catalogue for department systems\n\n\
         <!-- Generated from proto/yiciban/events/v1 by the test `catalogue` of services/proto \
         (YICIBAN_BLESS_DOCS=1 cargo test -p yiciban-proto catalogue); do not edit by hand. -->\n\n\
         Every case event is published on NATS JetStream (stream `<PREFIX>_CASE_EVENTS`) on the subject\n\n\
         ```\n<prefix>.evt.<department>.<source>.<case id>.<EventType>\n```\n\n\
         - `<prefix>`: the deployment's prefix (`yiciban` unless configured otherwise);\n\
         - `<department>`: the department code the event concerns (table below), or `_` for a case-level event;\n\
         - `<source>`: the owning service — `intake`, `routing`, `tasks` or `issuance`;\n\
         - `<case id>`: the case's UUID (never personal data);\n\
         - `<EventType>`: the message name below.\n\n\
         A department system subscribes to `<prefix>.evt.<its code>.>`: exactly its own events, which is also what its \
         NATS permission allows. Each message is one `EventEnvelope` (protobuf); decode it, then decode `payload` as the \
         message named by `event_type`. Events of one stream (`stream_id`) come in `stream_version` order; a repeated \
         `event_id` is the same event again (treat it as done).\n\n\
         **Versions.** `schema_version` is 1 for every event today. Fields are only ever added (never renumbered, \
         retyped or removed — `buf breaking` in CI against `proto/released/`, and golden wire fixtures of every event in \
         `services/proto/golden/`); a change that cannot be made that way becomes a new schema version, which the owning \
         service upcasts when it reads old events back, and a new message for subscribers.\n\n",
    );
    page.push_str("## The envelope (`EventEnvelope`)\n\n");
    page.push_str(&comment(envelope_file, &[4, 0]));
    page.push_str("\n\n| # | field | type | meaning |\n| ---: | --- | --- | --- |\n");
    let envelope = &envelope_file.message_type[0];
    for (i, f) in envelope.field.iter().enumerate() {
        let _ = writeln!(
            page,
            "| {} | `{}` | `{}` | {} |",
            f.number(),
            f.name(),
            type_of(f),
            comment(envelope_file, &[4, 0, 2, i as i32])
        );
    }
    for (file_name, source, what) in SOURCES {
        let file = set.file.iter().find(|f| f.name() == *file_name).expect("an event file");
        let _ = write!(page, "\n## From `{source}`: {what}\n\n");
        for (m, message) in file.message_type.iter().enumerate() {
            if !EVENT_TYPES.contains(&message.name()) {
                continue;
            }
            let subject = DEPARTMENT_OF
                .iter()
                .find(|(t, _)| *t == message.name())
                .map_or("`_` (case-level)".to_owned(), |(_, d)| (*d).to_owned());
            let _ = write!(
                page,
                "### {}\n\n{}\n\nSubject department: {subject}.\n\n",
                message.name(),
                comment(file, &[4, m as i32])
            );
            if message.field.is_empty() {
                page.push_str("No fields.\n\n");
                continue;
            }
            page.push_str("| # | field | type | meaning |\n| ---: | --- | --- | --- |\n");
            for (i, f) in message.field.iter().enumerate() {
                let _ = writeln!(
                    page,
                    "| {} | `{}` | `{}` | {} |",
                    f.number(),
                    f.name(),
                    type_of(f),
                    comment(file, &[4, m as i32, 2, i as i32]).replace('|', "\\|")
                );
            }
            page.push('\n');
        }
    }
    page
}

#[test]
fn every_event_is_in_one_source_and_every_department_event_is_an_event() {
    let set = FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
    for event_type in EVENT_TYPES {
        let files: Vec<&str> = SOURCES
            .iter()
            .filter(|(name, ..)| {
                set.file.iter().any(|f| f.name() == *name && f.message_type.iter().any(|m| m.name() == *event_type))
            })
            .map(|(name, ..)| *name)
            .collect();
        assert_eq!(files.len(), 1, "{event_type} is declared in {files:?}");
    }
    for (event_type, _) in DEPARTMENT_OF {
        assert!(EVENT_TYPES.contains(event_type), "{event_type} is no event");
    }
    // The task service publishes every one of its events on the task's
    // department's subject (services/tasks/src/commands.rs).
    let tasks = set.file.iter().find(|f| f.name() == "yiciban/events/v1/tasks.proto").unwrap();
    for m in tasks.message_type.iter().filter(|m| EVENT_TYPES.contains(&m.name())) {
        assert!(DEPARTMENT_OF.iter().any(|(t, _)| *t == m.name()), "{} is a department event", m.name());
    }
    assert!(set.file.iter().any(|f| f.source_code_info.is_some()), "the descriptor set carries the comments");
}

#[test]
fn the_event_catalogue_in_docs_is_what_the_protos_say() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/EVENTS.md");
    let page = render();
    if std::env::var_os("YICIBAN_BLESS_DOCS").is_some() {
        std::fs::write(&path, &page).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == page,
        "docs/EVENTS.md differs from the protos: run YICIBAN_BLESS_DOCS=1 cargo test -p yiciban-proto catalogue and commit it"
    );
}
