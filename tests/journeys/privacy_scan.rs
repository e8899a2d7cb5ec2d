//! A test that looks everywhere (issue 18): a case with marked personal
//! values — the applicant's name, ID number and phone, a form field, the
//! mail recipient and address — runs from submission through every
//! department to mailing and delivery, read by a clerk (in clear), a
//! supervisor (masked) and the applicant itself (in clear, with its own
//! access token). Then every log line (debug level, JSON), every span and
//! its attributes, the metrics, every message on JetStream, every row of
//! every table of every service, and the applicant's access token (raw and
//! decoded: tokens carry a subject, never an ID number) are searched for the
//! marked values, as text and as the hex of their bytes. Each hit outside [`ALLOWED`] fails the
//! test and is named with where it was found.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_sdk::trace::InMemorySpanExporter;
use sqlx::Row as _;
use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1 as intake;
use yiciban_proto::issuance::v1 as issuance;
use yiciban_testkit::eventually;

use crate::joint_processing::approve_everything;
use crate::stack::Stack;

const WAIT: Duration = Duration::from_secs(30);

/// The marked values: unlikely anywhere by chance.
pub(crate) const NAME: &str = "隐私标记赵乙";
const PHONE: &str = "13987650042";
const RECIPIENT: &str = "隐私标记收件人";
const ADDRESS_LINE: &str = "隐私标记大街42号";
const FORM_VALUE: &str = "隐私标记表单值";

/// Where a marked value may be found, and why. Each entry is a place a
/// person's data is kept on purpose; everything else must hold none.
/// None since the applicant's data is sealed under their data key (ADR
/// 0024): `ApplicationSubmitted` holds it only as ciphertext, in intake's
/// ledger and on NATS alike.
const ALLOWED: &[(&str, &str)] = &[];

/// The lines the services logged, as they were written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;
    fn make_writer(&'w self) -> Captured {
        self.clone()
    }
}

/// The marked values, each as text and as the hex of its bytes (how
/// Postgres prints a bytea column).
fn markers() -> Vec<(String, String)> {
    let ids = [yiciban_testkit::applications::MOTHER_ID];
    [NAME, PHONE, RECIPIENT, ADDRESS_LINE, FORM_VALUE]
        .into_iter()
        .chain(ids)
        .flat_map(|m| {
            let hex: String = m.bytes().map(|b| format!("{b:02x}")).collect();
            [(m.to_owned(), m.to_owned()), (format!("{m} (hex)"), hex)]
        })
        .collect()
}

/// Every marker `text` holds.
pub(crate) fn found(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    markers().into_iter().filter(|(_, m)| lower.contains(&m.to_lowercase())).map(|(name, _)| name).collect()
}

/// The payload of a JWT, decoded (not verified).
fn decoded_payload(token: &str) -> String {
    use base64::Engine as _;
    let part = token.split('.').nth(1).expect("a JWT");
    String::from_utf8(base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).expect("base64url")).unwrap()
}

/// How the marked case's results reach the applicant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HandOut {
    /// Mailed to the marked recipient and address, and signed for.
    Mail,
    /// Collected at the window by an agent ([`COLLECTOR`]) with a power of
    /// attorney, the receipt signed; both scans hold the applicant's name.
    Window,
}

/// The agent collecting at the window: a marked name, the father's ID number.
pub(crate) const COLLECTOR: &str = "隐私标记代领人";

fn marked_application(key: &str, hand_out: HandOut) -> intake::SubmitApplicationRequest {
    let mut application = yiciban_testkit::applications::newborn(key);
    let applicant = application.applicant.as_mut().unwrap();
    applicant.name = NAME.into();
    applicant.phone = PHONE.into();
    // The newborn's name: personal data the form carries.
    let form = application.form_data.as_mut().unwrap();
    form.fields.insert(
        "newborn_name".into(),
        prost_types::Value { kind: Some(prost_types::value::Kind::StringValue(FORM_VALUE.into())) },
    );
    if hand_out == HandOut::Window {
        return application;
    }
    application.delivery = Some(common::DeliveryPreference {
        method: common::DeliveryMethod::Mail as i32,
        mail_address: Some(common::PostalAddress {
            recipient_name: RECIPIENT.into(),
            recipient_phone: PHONE.into(),
            province: "内蒙古自治区".into(),
            city: "包头市".into(),
            district: "昆都仑区".into(),
            address_line: ADDRESS_LINE.into(),
            postal_code: "014010".into(),
        }),
        pickup_hall: String::new(),
    });
    application
}

/// Runs the marked case (idempotency key `key`) to delivery as `hand_out`
/// says; returns its id.
pub(crate) async fn run_case(stack: &Stack, key: &str, hand_out: HandOut) -> String {
    let application = marked_application(key, hand_out);
    let submitted = stack.intake(Role::Clerk, "clerk-001").submit_application(application).await.unwrap().into_inner();
    assert_eq!(submitted.decision(), intake::AcceptanceDecision::Accepted, "{submitted:?}");
    let case_id = submitted.case_id;
    // Read in clear by the clerk, masked by a supervisor.
    let get = intake::GetCaseRequest { case_id: case_id.clone(), ..Default::default() };
    let clear = stack.intake(Role::Clerk, "clerk-001").get_case(get.clone()).await.unwrap().into_inner();
    assert_eq!(clear.case.unwrap().applicant.unwrap().name, NAME);
    stack.intake(Role::Supervisor, "sup-001").get_case(get).await.unwrap();

    approve_everything(stack, &case_id).await;
    let mut clerk = stack.issuance(Role::Clerk, "clerk-001", None);
    let batch = eventually("the batch is prepared", WAIT, || async {
        clerk
            .clone()
            .get_issuance(issuance::GetIssuanceRequest { case_id: case_id.clone() })
            .await
            .ok()
            .and_then(|r| r.into_inner().issuance)
            .and_then(|i| i.batches.first().cloned())
    })
    .await;
    match hand_out {
        HandOut::Mail => mail(&mut clerk, &case_id, batch.batch_number).await,
        HandOut::Window => collect_at_the_window(stack, &mut clerk, &case_id, batch.batch_number).await,
    }
    // Tracking has folded everything in.
    eventually("tracking shows the case closed", WAIT, || async {
        let summary = stack
            .tracking(Role::Supervisor, "sup-001", None)
            .get_case_summary(yiciban_proto::tracking::v1::GetCaseSummaryRequest { case_id: case_id.clone() })
            .await
            .ok()?
            .into_inner()
            .summary?;
        (summary.status == common::CaseStatus::Closed as i32).then_some(())
    })
    .await;
    case_id
}

async fn mail(clerk: &mut crate::stack::Issuance, case_id: &str, batch_number: u32) {
    let mailing = issuance::RecordMailingRequest {
        idempotency_key: format!("mail-{case_id}"),
        case_id: case_id.to_owned(),
        batch_number,
        courier: "EMS".into(),
        tracking_number: "1130000000042".into(),
        ..Default::default()
    };
    clerk.record_mailing(mailing).await.unwrap();
    let delivery = issuance::RecordDeliveryRequest {
        idempotency_key: format!("delivered-{case_id}"),
        case_id: case_id.to_owned(),
        batch_number,
        tracking_number: "1130000000042".into(),
        ..Default::default()
    };
    assert!(clerk.record_delivery(delivery).await.unwrap().into_inner().case_closed);
}

/// The scans of the hand-out, each holding the applicant's marked name.
pub(crate) async fn window_scans(stack: &Stack, case_id: &str) -> [common::MaterialRef; 2] {
    let upload = |what: &str| intake::UploadMaterialRequest {
        file_name: format!("{what}.pdf"),
        content_type: "application/pdf".into(),
        content: format!("%PDF-1.4 {what} {case_id} 申请人 {NAME}").into_bytes(),
        sha256_hex: String::new(),
    };
    let mut clerk = stack.intake(Role::Clerk, "clerk-001");
    let attorney = clerk.upload_material(upload("授权委托书")).await.unwrap().into_inner().material.unwrap();
    let receipt = clerk.upload_material(upload("签收单")).await.unwrap().into_inner().material.unwrap();
    [attorney, receipt]
}

async fn collect_at_the_window(stack: &Stack, clerk: &mut crate::stack::Issuance, case_id: &str, batch_number: u32) {
    let [attorney, receipt] = window_scans(stack, case_id).await;
    let pickup = issuance::ConfirmPickupRequest {
        idempotency_key: format!("pickup-{case_id}"),
        case_id: case_id.to_owned(),
        expected_version: 0,
        batch_number,
        collector: Some(issuance::CollectorIdentity {
            kind: common::CollectorKind::Agent as i32,
            name: COLLECTOR.into(),
            id_number: yiciban_testkit::applications::FATHER_ID.into(),
            power_of_attorney: Some(attorney),
        }),
        receipt: Some(receipt),
    };
    assert!(clerk.confirm_pickup(pickup).await.unwrap().into_inner().case_closed);
}

/// Every row of every table of every schema, as text, with where it is.
pub(crate) async fn every_row(stack: &Stack) -> Vec<(String, String)> {
    let tables = sqlx::query(
        "SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&stack.db.pool)
    .await
    .unwrap();
    let mut rows = Vec::new();
    for table in tables {
        let (schema, name): (String, String) = (table.get(0), table.get(1));
        // Names from the catalog, checked as names before they reach SQL.
        let sql = yiciban_eventstore::sql::names_sql(
            "SELECT t::text FROM {schema}.{table} t",
            &[("schema", &schema), ("table", &name)],
        );
        for row in sqlx::query_scalar::<_, String>(sql).fetch_all(&stack.db.pool).await.unwrap() {
            rows.push((format!("table {schema}.{name}"), row));
        }
    }
    rows
}

/// Every message on the case stream, named by its subject's department,
/// source and type.
pub(crate) async fn every_message(stack: &Stack) -> Vec<(String, Vec<u8>)> {
    let name = |subject: &str| {
        // <prefix>.evt.<department>.<source>.<case>.<type>
        let tokens: Vec<&str> = subject.split('.').collect();
        match tokens.as_slice() {
            [_, "evt", department, source, _, kind, ..] => format!("nats evt.{department}.{source}.{kind}"),
            _ => format!("nats {subject}"),
        }
    };
    stack.messages().await.into_iter().map(|(subject, payload)| (name(&subject), payload)).collect()
}

#[tokio::test]
async fn marked_personal_values_are_found_only_where_they_are_kept_on_purpose() {
    let exporter = InMemorySpanExporter::default();
    let logs = Captured::default();
    let _telemetry = yiciban_platform::telemetry::init_capturing(
        "privacy-scan",
        exporter.clone(),
        "debug,h2=info,hyper=info,hyper_util=info,tower=info,tonic=info,rustls=info",
        logs.clone(),
    )
    .unwrap();
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id = run_case(&stack, "privacy-1", HandOut::Mail).await;
    // The applicant reads its own case in clear, recognised through the
    // issuer's userinfo; the token it presents is scanned below.
    let applicant_token =
        stack.token_with_identity(Role::Applicant, "mother", None, Some(yiciban_testkit::applications::MOTHER_ID));
    let mut applicant = yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient::with_interceptor(
        stack.channel(crate::stack::Service::Intake),
        yiciban_platform::grpc::ClientAuth::new(Some(&applicant_token)),
    );
    let own = applicant
        .get_case(intake::GetCaseRequest { case_id: case_id.clone(), ..Default::default() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(own.case.unwrap().applicant.unwrap().name, NAME, "the applicant reads its own case in clear");

    let mut hits: Vec<(String, Vec<String>)> = Vec::new();
    let mut look = |place: String, text: &str| {
        let found = found(text);
        if !found.is_empty() {
            hits.push((place, found));
        }
    };
    let log_text = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(log_text.contains(&case_id), "the logs were captured (they name the case)");
    for line in log_text.lines() {
        look(format!("log line {}", &line.chars().take(160).collect::<String>()), line);
    }
    let spans = exporter.get_finished_spans().unwrap();
    assert!(!spans.is_empty());
    for span in &spans {
        look(format!("span {}", span.name), &format!("{span:?}"));
    }
    look("metrics".into(), &yiciban_metrics::render());
    let messages = every_message(&stack).await;
    assert!(messages.len() > 20, "the case's events are on JetStream");
    for (place, payload) in &messages {
        let hex: String = payload.iter().map(|b| format!("{b:02x}")).collect();
        look(place.clone(), &format!("{} {hex}", String::from_utf8_lossy(payload)));
    }
    for (place, row) in every_row(&stack).await {
        look(place, &row);
    }
    look("the applicant's access token".into(), &applicant_token);
    look("the applicant's access token, decoded".into(), &decoded_payload(&applicant_token));

    let unexpected: Vec<&(String, Vec<String>)> =
        hits.iter().filter(|(place, _)| !ALLOWED.iter().any(|(allowed, _)| place == allowed)).collect();
    let mut report = Vec::new();
    for (place, found) in &unexpected {
        writeln!(report, "{place}: {}", found.join(", ")).unwrap();
    }
    assert!(unexpected.is_empty(), "personal data where it must not be:\n{}", String::from_utf8_lossy(&report));
    // The allowed places are still needed: an entry nothing hits any more is
    // stale and must go.
    for (allowed, why) in ALLOWED {
        assert!(hits.iter().any(|(place, _)| place == allowed), "{allowed} ({why}) holds no marked value any more");
    }
}
