//! `casectl catalog`: the published catalog versions (事项目录) — list them,
//! export one as a file, and publish a whole catalog file as the version new
//! cases are accepted under (admin). Running cases keep their version.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use yiciban_proto::catalog::v1 as pb;
use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;

use crate::connect::{Connection, explain};
use crate::text::{table, timestamp};

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Every published version, newest first; `*` marks the one in force.
    Versions,
    /// Print a version's catalog file (default: the one in force).
    Export {
        /// The version, e.g. 2026.1.
        #[arg(long)]
        version: Option<String>,
    },
    /// Drafts: a department drafts, the lead department reviews, the office publishes.
    Draft {
        #[command(subcommand)]
        command: crate::drafts::DraftCommand,
    },
    /// Publish a whole catalog file as the version in force (admin), all or nothing.
    Import {
        /// A file in the format of services/domain/data/packages.json, with a new "version".
        file: PathBuf,
        /// Why it is published, for the record.
        #[arg(long, default_value = "")]
        note: String,
    },
}

pub async fn run(conn: &Connection, command: CatalogCommand) -> anyhow::Result<()> {
    let mut client = CatalogPublishingServiceClient::new(conn.channel().await?).max_decoding_message_size(8 << 20);
    match command {
        CatalogCommand::Draft { command } => return crate::drafts::run(conn, command).await,
        CatalogCommand::Versions => {
            let listed = client.list_catalog_versions(pb::ListCatalogVersionsRequest {}).await.map_err(explain)?;
            print!("{}", versions(&listed.into_inner().versions));
        }
        CatalogCommand::Export { version } => {
            let request = pb::GetCatalogVersionRequest { version: version.unwrap_or_default() };
            let got = client.get_catalog_version(request).await.map_err(explain)?.into_inner();
            println!("{}", got.file_json.trim_end());
        }
        CatalogCommand::Import { file, note } => {
            let file_json = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let published = client
                .import_catalog(pb::ImportCatalogRequest { file_json, note })
                .await
                .map_err(explain)?
                .into_inner();
            let what = format!("{} packages, {} departments", published.packages, published.departments);
            if published.changed {
                println!("published catalog version {} ({what}): new cases are accepted under it", published.version);
            } else {
                println!("catalog version {} ({what}) is in force already: nothing changed", published.version);
            }
        }
    }
    Ok(())
}

/// The table of `casectl catalog versions`; `*` marks the one in force.
pub fn versions(versions: &[pb::CatalogVersion]) -> String {
    let rows: Vec<Vec<String>> = versions
        .iter()
        .map(|v| {
            let at = if v.published_at.is_some() { timestamp(v.published_at.as_ref()) } else { "(shipped)".into() };
            vec![
                if v.in_force { "*".into() } else { String::new() },
                v.version.clone(),
                v.packages.to_string(),
                v.departments.to_string(),
                at,
                v.published_by.clone(),
                v.note.clone(),
            ]
        })
        .collect();
    table(&["", "VERSION", "PACKAGES", "DEPARTMENTS", "PUBLISHED", "BY", "NOTE"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_in_force_is_starred() {
        let text = versions(&[
            pb::CatalogVersion { version: "2026.2".into(), in_force: true, packages: 9, ..Default::default() },
            pb::CatalogVersion {
                version: "2026.1".into(),
                published_by: "seed".into(),
                packages: 8,
                ..Default::default()
            },
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[1].starts_with("*  2026.2"), "{text}");
        assert!(lines[2].starts_with("   2026.1") && lines[2].contains("(shipped)"), "{text}");
    }
}
