//! `casectl submit | supplement | withdraw | case`: the window's work.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use sha2::Digest as _;
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::MAX_CHUNK_BYTES;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::intake::v1::material_service_client::MaterialServiceClient;

use crate::connect::{AuthChannel, Connection, explain};
use crate::text::{date, or_dash};

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Person,
    Company,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ChannelArg {
    Window,
    Online,
    Hotline,
}

#[derive(Debug, Args)]
pub struct SubmitArgs {
    /// Package id, e.g. newborn-birth (see `casectl guide list`).
    #[arg(long)]
    package: String,
    /// Person (resident ID number) or company (unified social credit code).
    #[arg(long, value_enum, default_value = "person")]
    applicant: Kind,
    /// Applicant's name.
    #[arg(long)]
    name: String,
    /// Resident ID number or unified social credit code.
    #[arg(long)]
    id: String,
    /// Contact phone.
    #[arg(long)]
    phone: String,
    /// Contact person (companies).
    #[arg(long, default_value = "")]
    contact: String,
    /// The contact person's resident ID number, as on the ID card the window
    /// saw (companies): the contact may then collect the results in person;
    /// without it only an agent with the company's power of attorney may.
    #[arg(long, default_value = "")]
    contact_id: String,
    /// The filled form: a JSON object keyed by field (see `casectl guide form`).
    #[arg(long)]
    form: PathBuf,
    /// A material as id=FILE; the file is uploaded (stored once, by hash). Repeatable.
    #[arg(long = "material", value_name = "ID=FILE")]
    materials: Vec<String>,
    /// A material to hand in later (容缺). Repeatable.
    #[arg(long = "deficiency", value_name = "ID")]
    deficiencies: Vec<String>,
    /// A commitment (告知承诺) instead of a proof, as id=TEXT. Repeatable.
    #[arg(long = "commitment", value_name = "ID=TEXT")]
    commitments: Vec<String>,
    /// Optional items to include. Repeatable.
    #[arg(long = "optional-item", value_name = "CODE")]
    optional_items: Vec<String>,
    /// Mail the results: "recipient,phone,province,city,district,address". Default: window pick-up.
    #[arg(long)]
    mail: Option<String>,
    #[arg(long, value_enum, default_value = "window")]
    channel: ChannelArg,
    /// The service site accepting it (受理点), a code of `casectl guide sites`.
    #[arg(long, default_value = "")]
    site: String,
    /// Idempotency key; repeat it to retry the same submission safely.
    #[arg(long)]
    key: Option<String>,
}

/// Uploads a material's file through the chunked upload (its content is
/// stored once, by hash; the hash is computed here and checked there) and
/// returns the reference to submit.
pub async fn material_ref(channel: &AuthChannel, spec: &str) -> anyhow::Result<common::MaterialRef> {
    let (id, path) = spec.split_once('=').context("--material takes ID=FILE")?;
    let bytes = std::fs::read(path).with_context(|| format!("reading material file {path}"))?;
    let file_name =
        std::path::Path::new(path).file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let content_type = match path.rsplit('.').next() {
        Some("pdf") => "application/pdf",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let metadata = pb::MaterialUploadMetadata {
        file_name,
        content_type: content_type.into(),
        size_bytes: bytes.len() as u64,
        sha256_hex: hex::encode(sha2::Sha256::digest(&bytes)),
    };
    let stored = MaterialServiceClient::new(channel.clone())
        .upload_material(chunks(metadata, bytes))
        .await
        .map_err(explain)
        .with_context(|| format!("uploading {path}"))?
        .into_inner()
        .material
        .context("the server returned no reference")?;
    Ok(common::MaterialRef { material_id: id.to_owned(), ..stored })
}

/// The messages of a chunked upload: the metadata with the first chunk,
/// then the rest, [`MAX_CHUNK_BYTES`] at a time (one message for an empty
/// file, which the server refuses with its reason).
fn chunks(
    metadata: pb::MaterialUploadMetadata,
    bytes: Vec<u8>,
) -> impl futures::Stream<Item = pb::UploadMaterialChunk> + Send + 'static {
    let count = bytes.len().div_ceil(MAX_CHUNK_BYTES).max(1);
    let mut metadata = Some(metadata);
    futures::stream::iter((0..count).map(move |i| {
        let from = (i * MAX_CHUNK_BYTES).min(bytes.len());
        let to = (from + MAX_CHUNK_BYTES).min(bytes.len());
        pb::UploadMaterialChunk { metadata: metadata.take(), content: bytes[from..to].to_vec() }
    }))
}

async fn material_refs(channel: &AuthChannel, specs: &[String]) -> anyhow::Result<Vec<common::MaterialRef>> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        out.push(material_ref(channel, spec).await?);
    }
    Ok(out)
}

fn to_value(v: &serde_json::Value) -> prost_types::Value {
    use prost_types::value::Kind as K;
    let kind = match v {
        serde_json::Value::Null => K::NullValue(0),
        serde_json::Value::Bool(b) => K::BoolValue(*b),
        serde_json::Value::Number(n) => K::NumberValue(n.as_f64().unwrap_or_default()),
        serde_json::Value::String(s) => K::StringValue(s.clone()),
        serde_json::Value::Array(a) => {
            K::ListValue(prost_types::ListValue { values: a.iter().map(to_value).collect() })
        }
        serde_json::Value::Object(o) => {
            K::StructValue(prost_types::Struct { fields: o.iter().map(|(k, v)| (k.clone(), to_value(v))).collect() })
        }
    };
    prost_types::Value { kind: Some(kind) }
}

pub async fn submit(conn: &Connection, a: SubmitArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&a.form).with_context(|| format!("reading the form {}", a.form.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text).context("the form must be a JSON object")?;
    let serde_json::Value::Object(fields) = json else { anyhow::bail!("the form must be a JSON object") };
    let delivery = match &a.mail {
        None => {
            common::DeliveryPreference { method: common::DeliveryMethod::WindowPickup as i32, ..Default::default() }
        }
        Some(spec) => {
            let p: Vec<&str> = spec.splitn(6, ',').map(str::trim).collect();
            let [recipient, phone, province, city, district, line] = p[..] else {
                anyhow::bail!("--mail takes \"recipient,phone,province,city,district,address\"");
            };
            common::DeliveryPreference {
                method: common::DeliveryMethod::Mail as i32,
                mail_address: Some(common::PostalAddress {
                    recipient_name: recipient.into(),
                    recipient_phone: phone.into(),
                    province: province.into(),
                    city: city.into(),
                    district: district.into(),
                    address_line: line.into(),
                    postal_code: String::new(),
                }),
                pickup_hall: String::new(),
            }
        }
    };
    let key = a.key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let channel = conn.channel().await?;
    let materials = material_refs(&channel, &a.materials).await?;
    let mut client = IntakeServiceClient::new(channel);
    let request = pb::SubmitApplicationRequest {
        idempotency_key: key.clone(),
        package_id: a.package,
        applicant: Some(common::Applicant {
            kind: match a.applicant {
                Kind::Person => common::ApplicantKind::Person,
                Kind::Company => common::ApplicantKind::Company,
            } as i32,
            name: a.name,
            id_number: a.id,
            phone: a.phone,
            contact_name: a.contact,
            contact_id_number: a.contact_id,
        }),
        form_data: Some(prost_types::Struct { fields: fields.iter().map(|(k, v)| (k.clone(), to_value(v))).collect() }),
        materials,
        commitments: a
            .commitments
            .iter()
            .map(|c| {
                let (id, text) = c.split_once('=').context("--commitment takes ID=TEXT")?;
                Ok(pb::RequestedCommitment { material_id: id.into(), commitment_text: text.into(), signed_form: None })
            })
            .collect::<anyhow::Result<_>>()?,
        deficiencies: a
            .deficiencies
            .iter()
            .map(|id| pb::RequestedDeficiency { material_id: id.clone(), promised_by: None })
            .collect(),
        optional_item_codes: a.optional_items,
        delivery: Some(delivery),
        channel: match a.channel {
            ChannelArg::Window => common::Channel::Window,
            ChannelArg::Online => common::Channel::Online,
            ChannelArg::Hotline => common::Channel::Hotline,
        } as i32,
        site_code: a.site,
    };
    let r = client.submit_application(request).await.map_err(explain)?.into_inner();
    let decision = match r.decision() {
        pb::AcceptanceDecision::Accepted => "受理 accepted",
        pb::AcceptanceDecision::AcceptedWithDeficiency => "容缺受理 accepted with deficiency",
        pb::AcceptanceDecision::NotAccepted => "不予受理 not accepted",
        pb::AcceptanceDecision::Unspecified => "undecided",
    };
    println!("case number  {}", r.case_number);
    println!("case id      {}", r.case_id);
    println!("decision     {decision}  (notice {})", r.notice_number);
    if r.decision() != pb::AcceptanceDecision::NotAccepted {
        println!("promised     {} working days, by {}", r.promised_working_days, date(r.promised_by.as_ref()));
    }
    for d in &r.deficiencies {
        println!("owes         {} ({}) by {}", d.material_id, d.material_name, date(d.due_by.as_ref()));
    }
    for c in &r.commitments {
        println!("commitment   {} — post-check by {}", c.material_id, c.post_check_department);
    }
    for reason in &r.reasons {
        println!("reason       [{}] {}: {}", reason.code, reason.path, reason.message);
    }
    println!("(idempotency key {key}: repeat it with --key to retry safely)");
    Ok(())
}

#[derive(Debug, Args)]
pub struct SupplementArgs {
    case_id: String,
    /// A material as id=FILE. Repeatable.
    #[arg(long = "material", value_name = "ID=FILE", required = true)]
    materials: Vec<String>,
    /// The supplement request answered (from a task's return, 补正通知); the
    /// waiting task resumes and its clock runs again.
    #[arg(long, value_name = "REQUEST_ID")]
    request: Option<String>,
    #[arg(long)]
    key: Option<String>,
}

pub async fn supplement(conn: &Connection, a: SupplementArgs) -> anyhow::Result<()> {
    let channel = conn.channel().await?;
    let materials = material_refs(&channel, &a.materials).await?;
    let mut client = IntakeServiceClient::new(channel);
    let r = client
        .supplement_materials(pb::SupplementMaterialsRequest {
            idempotency_key: a.key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            case_id: a.case_id,
            materials,
            supplement_request_id: a.request.unwrap_or_default(),
            ..Default::default()
        })
        .await
        .map_err(explain)?
        .into_inner();
    let cleared = if r.cleared_material_ids.is_empty() { "-".to_owned() } else { r.cleared_material_ids.join(", ") };
    println!("cleared      {cleared}");
    for d in &r.remaining_deficiencies {
        println!("still owes   {} by {}", d.material_id, date(d.due_by.as_ref()));
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct WithdrawArgs {
    case_id: String,
    #[arg(long, default_value = "申请人主动撤回")]
    reason: String,
    #[arg(long)]
    key: Option<String>,
}

pub async fn withdraw(conn: &Connection, a: WithdrawArgs) -> anyhow::Result<()> {
    let mut client = IntakeServiceClient::new(conn.channel().await?);
    let r = client
        .withdraw_application(pb::WithdrawApplicationRequest {
            idempotency_key: a.key.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            case_id: a.case_id,
            reason: a.reason,
            ..Default::default()
        })
        .await
        .map_err(explain)?
        .into_inner();
    println!("withdrawn (version {})", r.version);
    Ok(())
}

pub async fn show(conn: &Connection, case_id: &str, purpose: Option<&str>) -> anyhow::Result<()> {
    let mut client = IntakeServiceClient::new(conn.channel().await?);
    let request = pb::GetCaseRequest { case_id: case_id.into(), without_personal_data: false };
    let request = match purpose {
        Some(purpose) => yiciban_platform::read_log::purpose(request, purpose),
        None => tonic::Request::new(request),
    };
    let c = client.get_case(request).await.map_err(explain)?.into_inner().case.context("the server sent no case")?;
    println!("case number  {}", c.case_number);
    println!("package      {}", c.package_id);
    println!("status       {:?}", c.status());
    if let Some(a) = &c.applicant {
        println!("applicant    {} ({})", a.name, a.id_number);
    } else if c.personal_data_erased {
        println!("applicant    (personal data erased)");
    }
    println!("officer      {}", or_dash(&c.officer_id));
    println!("promised     {} working days, by {}", c.promised_working_days, date(c.promised_by.as_ref()));
    println!("items        {}", c.item_codes.join(", "));
    for d in &c.deficiencies {
        let m = d.deficiency.as_ref();
        let state = if d.cleared { format!("cleared {}", date(d.cleared_on.as_ref())) } else { "open".into() };
        println!(
            "deficiency   {} due {} — {state}",
            m.map(|m| m.material_id.as_str()).unwrap_or(""),
            date(m.and_then(|m| m.due_by.as_ref()))
        );
    }
    for r in &c.reasons {
        println!("reason       [{}] {}: {}", r.code, r.path, r.message);
    }
    println!("version      {}", c.version);
    Ok(())
}

#[cfg(test)]
mod tests {
    use futures::StreamExt as _;

    use super::*;

    fn metadata(size: usize) -> pb::MaterialUploadMetadata {
        pb::MaterialUploadMetadata { file_name: "a.pdf".into(), size_bytes: size as u64, ..Default::default() }
    }

    #[tokio::test]
    async fn a_file_goes_in_chunks_of_the_maximum_with_the_metadata_in_the_first_only() {
        let file: Vec<u8> = (0..2 * MAX_CHUNK_BYTES + 5).map(|i| i as u8).collect();
        let messages: Vec<_> = chunks(metadata(file.len()), file.clone()).collect().await;
        let sizes: Vec<_> = messages.iter().map(|m| m.content.len()).collect();
        assert_eq!(sizes, [MAX_CHUNK_BYTES, MAX_CHUNK_BYTES, 5]);
        let with_metadata: Vec<_> = messages.iter().map(|m| m.metadata.is_some()).collect();
        assert_eq!(with_metadata, [true, false, false]);
        assert_eq!(messages.into_iter().flat_map(|m| m.content).collect::<Vec<_>>(), file);
    }

    #[tokio::test]
    async fn an_empty_file_is_one_message_for_the_server_to_refuse() {
        let messages: Vec<_> = chunks(metadata(0), Vec::new()).collect().await;
        assert_eq!(messages.len(), 1);
        assert!(messages[0].metadata.is_some() && messages[0].content.is_empty());
    }
}
