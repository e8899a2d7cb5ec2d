//! `casectl case material <case> <material-id> --out FILE`: one material's
//! file, downloaded in chunks (MaterialService.DownloadMaterial, recorded
//! in intake's read log with the purpose), written beside FILE first and
//! put in place only when its size and SHA-256 are what the case refers to.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Args;
use sha2::Digest as _;
use yiciban_proto::intake::v1 as pb;
use yiciban_proto::intake::v1::material_service_client::MaterialServiceClient;

use crate::connect::{Connection, explain};

#[derive(Debug, Args)]
pub struct MaterialArgs {
    /// The case id.
    case_id: String,
    /// The catalog material id, e.g. m_birth_cert_form (the document handed in last for it).
    material_id: String,
    /// Where to write the file; it must not exist yet.
    #[arg(long)]
    out: PathBuf,
    /// A particular document by its SHA-256 (e.g. one a supplement replaced).
    #[arg(long)]
    sha256: Option<String>,
    /// Why you read it (recorded with the download in the personal-data read log).
    #[arg(long)]
    purpose: Option<String>,
}

/// The part file a download is written to before it is checked.
fn part_of(out: &Path) -> PathBuf {
    let mut name = out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    out.with_file_name(name)
}

/// What was received, checked against the reference the server sent.
#[derive(Debug, Default)]
struct Received {
    bytes: u64,
    hasher: sha2::Sha256,
}

impl Received {
    fn check(self, material: &yiciban_proto::common::v1::MaterialRef) -> anyhow::Result<()> {
        if self.bytes != material.size_bytes {
            bail!(
                "received {} bytes, the material has {}; the download was cut short, try again",
                self.bytes,
                material.size_bytes
            );
        }
        let got = hex::encode(self.hasher.finalize());
        if !got.eq_ignore_ascii_case(&material.sha256_hex) {
            bail!("the received file hashes to {got}, not the material's SHA-256 {}; not kept", material.sha256_hex);
        }
        Ok(())
    }
}

pub async fn download(conn: &Connection, args: MaterialArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!("{} exists already; choose another --out", args.out.display());
    }
    let request = pb::DownloadMaterialRequest {
        case_id: args.case_id.clone(),
        material_id: args.material_id.clone(),
        sha256_hex: args.sha256.clone().unwrap_or_default(),
    };
    let request = match args.purpose.as_deref() {
        Some(purpose) => yiciban_platform::read_log::purpose(request, purpose),
        None => tonic::Request::new(request),
    };
    let mut stream = MaterialServiceClient::new(conn.channel().await?)
        .download_material(request)
        .await
        .map_err(explain)?
        .into_inner();
    let part = part_of(&args.out);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&part)
        .with_context(|| format!("creating {}", part.display()))?;
    let written = async {
        let mut material = None;
        let mut received = Received::default();
        while let Some(message) = stream.message().await.map_err(explain)? {
            if let Some(m) = message.material {
                material.get_or_insert(m);
            }
            received.bytes += message.content.len() as u64;
            received.hasher.update(&message.content);
            file.write_all(&message.content).with_context(|| format!("writing {}", part.display()))?;
        }
        let material = material.context("the server sent no reference")?;
        received.check(&material)?;
        file.sync_all().with_context(|| format!("writing {}", part.display()))?;
        Ok::<_, anyhow::Error>(material)
    }
    .await;
    let material = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            return Err(e);
        }
    };
    std::fs::rename(&part, &args.out).with_context(|| format!("moving the file to {}", args.out.display()))?;
    println!("material     {} of case {}", material.material_id, args.case_id);
    println!("file name    {}", material.file_name);
    println!("type         {}", material.content_type);
    println!("size         {} bytes", material.size_bytes);
    println!("sha256       {} (checked)", material.sha256_hex);
    println!("written to   {}", args.out.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(content: &[u8]) -> yiciban_proto::common::v1::MaterialRef {
        yiciban_proto::common::v1::MaterialRef {
            sha256_hex: hex::encode(sha2::Sha256::digest(content)),
            size_bytes: content.len() as u64,
            ..Default::default()
        }
    }

    fn received(content: &[u8]) -> Received {
        let mut r = Received { bytes: content.len() as u64, ..Received::default() };
        r.hasher.update(content);
        r
    }

    #[test]
    fn a_file_is_kept_only_with_the_referenced_size_and_hash() {
        assert!(received(b"abc").check(&reference(b"abc")).is_ok());
        let short = received(b"ab").check(&reference(b"abc")).unwrap_err();
        assert!(short.to_string().contains("cut short"), "{short}");
        let other = received(b"abd").check(&reference(b"abc")).unwrap_err();
        assert!(other.to_string().contains("not kept"), "{other}");
    }

    #[test]
    fn the_part_file_sits_beside_the_target() {
        assert_eq!(part_of(Path::new("/tmp/x/出生证明.pdf")), PathBuf::from("/tmp/x/出生证明.pdf.part"));
    }
}
