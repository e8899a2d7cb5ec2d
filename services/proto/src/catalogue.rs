//! The event catalogue a department's developer reads, `docs/EVENTS.md`,
//! and the same as an AsyncAPI 3.0 document, `docs/asyncapi.json` (for
//! AsyncAPI tools and code generators; `make proto-check` validates it with
//! the AsyncAPI parser), both generated from the protos (their comments are
//! the contract) and kept true by a test: it fails when a file differs from
//! what the protos say today; `YICIBAN_BLESS_DOCS=1 cargo test -p
//! yiciban-proto catalogue` writes them. Which department's subject an event is published on is decided
//! by [`crate::placement`], the table the owning services' encoders read.

use std::fmt::Write as _;

use prost_types::FileDescriptorProto;
use prost_types::field_descriptor_proto::{Label, Type};

use crate::descriptors::comment;
use crate::payload::EVENT_TYPES;
use crate::placement::{Placement, placement};

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

fn type_of(f: &prost_types::FieldDescriptorProto) -> String {
    let base = match f.r#type() {
        Type::Message | Type::Enum => f.type_name().trim_start_matches('.').to_owned(),
        other => format!("{other:?}").to_lowercase(),
    };
    if f.label() == Label::Repeated { format!("repeated {base}") } else { base }
}

/// Where an event is published, as [`crate::placement`] places it.
fn department_of(event_type: &str) -> &'static str {
    match placement(event_type) {
        Placement::Department(which) => which,
        Placement::CaseLevel => "`_` (case-level)",
        Placement::CaseLevelToLead => {
            "the case's lead department (牵头部门), with `lead_department` set in the envelope; `_` when the case's lead \
             department is not known (cases older than this rule)"
        }
    }
}

/// The Markdown table of the fields of the `m`-th top-level message of
/// `file`: number, name, type and the field's comment.
fn field_table(page: &mut String, file: &FileDescriptorProto, m: usize) {
    page.push_str("| # | field | type | meaning |\n| ---: | --- | --- | --- |\n");
    for (i, f) in file.message_type[m].field.iter().enumerate() {
        let meaning = comment(file, &[4, m as i32, 2, i as i32]).replace('|', "\\|");
        let _ = writeln!(page, "| {} | `{}` | `{}` | {meaning} |", f.number(), f.name(), type_of(f));
    }
}

/// `docs/EVENTS.md` as the protos say it today.
fn render() -> String {
    let set = crate::descriptors::set();
    let envelope_file = set.file.iter().find(|f| f.name() == "yiciban/events/v1/envelope.proto").expect("envelope");
    let mut page = String::new();
    page.push_str(
        "# Case events: the catalogue for department systems\n\n\
         <!-- Generated from proto/yiciban/events/v1 by the test `catalogue` of services/proto \
         (YICIBAN_BLESS_DOCS=1 cargo test -p yiciban-proto catalogue); do not edit by hand. -->\n\n\
         Every case event is published on NATS JetStream (stream `<PREFIX>_CASE_EVENTS`) on the subject\n\n\
         ```\n<prefix>.evt.<department>.<source>.<case id>.<EventType>.<partition>\n```\n\n\
         - `<prefix>`: the deployment's prefix (`yiciban` unless configured otherwise);\n\
         - `<department>`: the department code the event concerns (each event below says which), the case's lead \
         department for the case-level events it follows, or `_` for a case-level event;\n\
         - `<source>`: the owning service — `intake`, `routing`, `tasks` or `issuance`;\n\
         - `<case id>`: the case's UUID (never personal data);\n\
         - `<EventType>`: the message name below;\n\
         - `<partition>`: a number from 0 to 7, the same for every event of a case (FNV-1a of the case id's 16 \
         bytes, modulo 8): yiciban's own services share their work by it (ADR 0043). Events published before \
         December 2026 have no partition token: a filter ending in `>` reads both forms.\n\n\
         A department system subscribes to `<prefix>.evt.<its code>.>`: exactly its own events — its tasks' events, \
         ratings and rectifications of the department, and the case-level events (accepted, planned, clock stopped \
         and resumed, decided, handed over, prepared, closed, terminated, withdrawn) of the cases it leads — which is \
         also what its NATS permission allows; never another department's task events, never the applicant's \
         personal data of `ApplicationSubmitted`. Each message is one `EventEnvelope` (protobuf); decode it, then decode `payload` as the \
         message named by `event_type`. Events of one stream (`stream_id`) come in `stream_version` order; a repeated \
         `event_id` is the same event again (treat it as done).\n\n\
         **Versions.** `schema_version` is 1 for every event today. Fields are only ever added (never renumbered, \
         retyped or removed — `buf breaking` in CI against `proto/released/`, and golden wire fixtures of every event in \
         `services/proto/golden/`); a change that cannot be made that way becomes a new schema version, which the owning \
         service upcasts when it reads old events back, and a new message for subscribers.\n\n\
         **Personal data (ADR 0024).** The applicant's personal data is in one event only, `ApplicationSubmitted`, \
         and since December 2026 only sealed: `sealed_personal_data` is a `PersonalData` message encrypted under the \
         applicant's own data key, which only intake and tracking hold, and which is deleted when the applicant's data \
         is erased — no subscriber can open it. A department that needs the applicant's data asks intake \
         (`IntakeService.GetCase`, authorised, masked unless its role may see it), never the event. The upcasting rule \
         for events written before: an `ApplicationSubmitted` with an empty `sealed_personal_data` has its personal \
         data in clear in `applicant`, `form_data` and `delivery.mail_address`, its kind in `applicant.kind` \
         (`applicant_kind` is UNSPECIFIED) and no `data_subject` (the keyed hash of `applicant.id_number`); its owners \
         read both shapes as one, and hide the clear one too once its applicant is erased.\n\n",
    );
    page.push_str("## The envelope (`EventEnvelope`)\n\n");
    page.push_str(&comment(envelope_file, &[4, 0]));
    page.push_str("\n\n");
    field_table(&mut page, envelope_file, 0);
    for (file_name, source, what) in SOURCES {
        let file = set.file.iter().find(|f| f.name() == *file_name).expect("an event file");
        let _ = write!(page, "\n## From `{source}`: {what}\n\n");
        for (m, message) in file.message_type.iter().enumerate() {
            if !EVENT_TYPES.contains(&message.name()) {
                continue;
            }
            let _ = write!(
                page,
                "### {}\n\n{}\n\nSubject department: {}.\n\n",
                message.name(),
                comment(file, &[4, m as i32]),
                department_of(message.name())
            );
            if message.field.is_empty() {
                page.push_str("No fields.\n\n");
                continue;
            }
            field_table(&mut page, file, m);
            page.push('\n');
        }
    }
    page
}

/// A JSON Schema of one protobuf field (the payload on the wire is
/// protobuf; the schema says what each field holds).
fn field_schema(f: &prost_types::FieldDescriptorProto, description: String) -> serde_json::Value {
    use serde_json::json;
    let one = match f.r#type() {
        Type::Message => json!({ "$ref": format!("#/components/schemas/{}", f.type_name().trim_start_matches('.')) }),
        Type::Enum => {
            json!({ "type": "string", "description": format!("enum {}", f.type_name().trim_start_matches('.')) })
        }
        Type::String => json!({ "type": "string" }),
        Type::Bytes => json!({ "type": "string", "contentEncoding": "base64" }),
        Type::Bool => json!({ "type": "boolean" }),
        Type::Double | Type::Float => json!({ "type": "number" }),
        Type::Int64 | Type::Uint64 | Type::Sint64 | Type::Fixed64 | Type::Sfixed64 => {
            json!({ "type": "integer", "format": "int64" })
        }
        _ => json!({ "type": "integer", "format": "int32" }),
    };
    let mut schema = if f.label() == Label::Repeated { json!({ "type": "array", "items": one }) } else { one };
    if !description.is_empty() {
        schema["description"] = json!(description);
    }
    json!({ "allOf": [schema], "x-protobuf-field": f.number() })
}

/// `docs/asyncapi.json` as the protos say it today.
fn render_asyncapi() -> String {
    use serde_json::{Map, json};
    let set = crate::descriptors::set();
    // Every message of the set, with its file and path for its comment.
    let mut all: Vec<(String, &FileDescriptorProto, Vec<i32>, &prost_types::DescriptorProto)> = Vec::new();
    fn walk<'a>(
        file: &'a FileDescriptorProto,
        prefix: &str,
        path: Vec<i32>,
        found: &'a [prost_types::DescriptorProto],
        all: &mut Vec<(String, &'a FileDescriptorProto, Vec<i32>, &'a prost_types::DescriptorProto)>,
    ) {
        for (i, m) in found.iter().enumerate() {
            let name = format!("{prefix}.{}", m.name());
            let mut at = path.clone();
            at.extend([if path.is_empty() { 4 } else { 3 }, i as i32]);
            walk(file, &name, at.clone(), &m.nested_type, all);
            all.push((name, file, at, m));
        }
    }
    for file in &set.file {
        walk(file, file.package(), Vec::new(), &file.message_type, &mut all);
    }
    // The schemas of the events package and every message they refer to.
    let mut wanted: Vec<String> =
        all.iter().filter(|(n, ..)| n.starts_with("yiciban.events.v1.")).map(|(n, ..)| n.clone()).collect();
    let mut i = 0;
    while i < wanted.len() {
        if let Some((_, _, _, m)) = all.iter().find(|(n, ..)| *n == wanted[i]) {
            for f in m.field.iter().filter(|f| f.r#type() == Type::Message) {
                let referred = f.type_name().trim_start_matches('.').to_owned();
                if !wanted.contains(&referred) {
                    wanted.push(referred);
                }
            }
        }
        i += 1;
    }
    let mut schemas = Map::new();
    for (name, file, path, m) in all.iter().filter(|(n, ..)| wanted.contains(n)) {
        let mut properties = Map::new();
        for (i, f) in m.field.iter().enumerate() {
            let mut at = path.clone();
            at.extend([2, i as i32]);
            properties.insert(f.name().to_owned(), field_schema(f, comment(file, &at)));
        }
        let mut schema = json!({ "type": "object", "properties": properties });
        let said = comment(file, path);
        if !said.is_empty() {
            schema["description"] = json!(said);
        }
        schemas.insert(name.clone(), schema);
    }
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut operation_messages = Vec::new();
    for (file_name, source, _) in SOURCES {
        let file = set.file.iter().find(|f| f.name() == *file_name).expect("an event file");
        for (m, message) in file.message_type.iter().enumerate() {
            if !EVENT_TYPES.contains(&message.name()) {
                continue;
            }
            let name = message.name();
            let department = department_of(name);
            messages.insert(
                name.to_owned(),
                json!({
                    "name": name,
                    "title": name,
                    "summary": comment(file, &[4, m as i32]),
                    "description": format!(
                        "Published by `{source}` on `<prefix>.evt.<department>.{source}.<case id>.{name}.<partition>`, \
                         department: {department}. The message is an `EventEnvelope` whose `payload` is \
                         `yiciban.events.v1.{name}` (schema `yiciban.events.v1.{name}`)."
                    ),
                    "contentType": "application/x-protobuf",
                    "headers": {
                        "type": "object",
                        "properties": {
                            "Nats-Msg-Id": { "type": "string", "description": "The event id: a repeated id is the same event again." }
                        }
                    },
                    "payload": { "$ref": "#/components/schemas/yiciban.events.v1.EventEnvelope" },
                    "x-payload-message": { "$ref": format!("#/components/schemas/yiciban.events.v1.{name}") }
                }),
            );
            channel_messages.insert(name.to_owned(), json!({ "$ref": format!("#/components/messages/{name}") }));
            operation_messages.push(json!({ "$ref": format!("#/channels/caseEvents/messages/{name}") }));
        }
    }
    let event_types: Vec<&str> = EVENT_TYPES.to_vec();
    let document = json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "yiciban case events",
            "version": "1",
            "description": "The case events of yiciban (一次办) on NATS JetStream, for department systems. Generated from \
                proto/yiciban/events/v1 (docs/EVENTS.md is the same catalogue to read). Payloads are protobuf: an \
                EventEnvelope whose `payload` decodes as the message named by `event_type`."
        },
        "defaultContentType": "application/x-protobuf",
        "channels": {
            "caseEvents": {
                "address": "{prefix}.evt.{department}.{source}.{caseId}.{eventType}.{partition}",
                "title": "Case events",
                "description": "Stream `<PREFIX>_CASE_EVENTS`. A department system subscribes to `<prefix>.evt.<its code>.>`: \
                    exactly its own events, which is also what its NATS permission allows.",
                "parameters": {
                    "prefix": { "description": "The deployment's subject prefix (`yiciban` unless configured otherwise)." },
                    "department": { "description": "The department code the event concerns, or `_` for a case-level event." },
                    "source": { "enum": ["intake", "routing", "tasks", "issuance"], "description": "The owning service." },
                    "caseId": { "description": "The case's UUID (never personal data)." },
                    "eventType": { "enum": event_types, "description": "The event message's name." },
                    "partition": {
                        "enum": ["0", "1", "2", "3", "4", "5", "6", "7"],
                        "description": "The case's partition, the same for all its events (FNV-1a of the case id's 16 bytes, modulo 8). Absent on events published before December 2026."
                    }
                },
                "messages": channel_messages
            }
        },
        "operations": {
            "receiveCaseEvents": {
                "action": "receive",
                "channel": { "$ref": "#/channels/caseEvents" },
                "summary": "A department system receives its department's events (and case-level ones where allowed).",
                "messages": operation_messages
            }
        },
        "components": { "schemas": schemas, "messages": messages }
    });
    serde_json::to_string_pretty(&document).expect("a JSON document") + "\n"
}

#[test]
fn every_event_is_in_one_source_and_every_department_event_is_an_event() {
    let set = crate::descriptors::set();
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
    // The task service publishes every one of its events on the task's
    // department's subject (services/tasks/src/commands.rs).
    let tasks = set.file.iter().find(|f| f.name() == "yiciban/events/v1/tasks.proto").unwrap();
    for m in tasks.message_type.iter().filter(|m| EVENT_TYPES.contains(&m.name())) {
        assert!(matches!(placement(m.name()), Placement::Department(_)), "{} is a department event", m.name());
    }
    assert!(set.file.iter().any(|f| f.source_code_info.is_some()), "the descriptor set carries the comments");
}

#[test]
fn the_event_catalogue_in_docs_is_what_the_protos_say() {
    let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    for (file, content) in [("EVENTS.md", render()), ("asyncapi.json", render_asyncapi())] {
        let path = docs.join(file);
        if std::env::var_os("YICIBAN_BLESS_DOCS").is_some() {
            std::fs::write(&path, &content).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == content,
            "docs/{file} differs from the protos: run YICIBAN_BLESS_DOCS=1 cargo test -p yiciban-proto catalogue \
             and commit it"
        );
    }
}
