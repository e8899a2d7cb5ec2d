//! Reference-data events: each catalog version and each calendar publication
//! is announced once on NATS (`<prefix>.ref.<EventType>`, stream
//! `<PREFIX>_REFERENCE`) after it is committed. A publication is marked
//! announced only once JetStream has acknowledged it; whatever is not (NATS
//! away, a crash in between) goes out on the next round, and the
//! `Nats-Msg-Id` (`catalog-<version>`, `calendar-<revision>`) drops a repeat
//! inside the duplicate window.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use prost::{Message as _, Name as _};
use sqlx::{PgPool, Row as _};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use yiciban_domain::catalog::{Catalog, SEED_JSON};
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{StreamSettings, Subjects};
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::events::v1::{CalendarPublished, CatalogVersionPublished};

/// Announces the publications of one intake schema.
pub struct Announcer {
    pool: PgPool,
    schema: String,
    js: async_nats::jetstream::Context,
    subjects: Subjects,
    settings: StreamSettings,
    wake: Notify,
}

impl std::fmt::Debug for Announcer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Announcer").field("schema", &self.schema).finish_non_exhaustive()
    }
}

impl Announcer {
    pub fn new(
        pool: PgPool,
        schema: String,
        js: async_nats::jetstream::Context,
        subjects: Subjects,
        settings: StreamSettings,
    ) -> Self {
        Announcer { pool, schema, js, subjects, settings, wake: Notify::new() }
    }

    /// Asks for a round now (a publication was just committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Announces what is unannounced at once, after each wake and every
    /// `every`, until `shutdown`.
    pub async fn run(self: Arc<Self>, every: Duration, shutdown: CancellationToken) {
        let mut failing = false;
        loop {
            match self.round().await {
                Ok(_) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "publications could not be announced on NATS; trying again"
                    );
                }
                Err(_) => {}
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Announces every unannounced publication, oldest first; how many.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let catalogs = self.unannounced_catalogs().await?;
        let calendars = self.unannounced_calendars().await?;
        if catalogs.is_empty() && calendars.is_empty() {
            return Ok(0);
        }
        self.js
            .get_or_create_stream(self.settings.reference_config(&self.subjects))
            .await
            .context("creating the reference-data stream")?;
        let count = catalogs.len() + calendars.len();
        for (seq, event) in catalogs {
            self.send(&format!("catalog-{}", event.version), CatalogVersionPublished::NAME, event.encode_to_vec())
                .await?;
            self.mark("UPDATE {schema}.catalog_versions SET announced_at = now() WHERE seq = $1", seq).await?;
        }
        for event in calendars {
            let revision = i64::try_from(event.revision).context("a calendar revision beyond i64")?;
            self.send(&format!("calendar-{}", event.revision), CalendarPublished::NAME, event.encode_to_vec()).await?;
            self.mark("UPDATE {schema}.calendar_publications SET announced_at = now() WHERE revision = $1", revision)
                .await?;
        }
        Ok(count)
    }

    async fn send(&self, id: &str, event_type: &str, payload: Vec<u8>) -> anyhow::Result<()> {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(async_nats::header::NATS_MESSAGE_ID, id);
        let subject = self.subjects.reference(event_type);
        self.js
            .publish_with_headers(subject.clone(), headers, payload.into())
            .await
            .with_context(|| format!("publishing {subject}"))?
            .await
            .with_context(|| format!("JetStream acknowledging {subject}"))?;
        Ok(())
    }

    async fn mark(&self, sql: &'static str, key: i64) -> anyhow::Result<()> {
        sqlx::query(schema_sql(&self.schema, sql)).bind(key).execute(&self.pool).await?;
        Ok(())
    }

    async fn unannounced_catalogs(&self) -> anyhow::Result<Vec<(i64, CatalogVersionPublished)>> {
        let rows = sqlx::query(schema_sql(
            &self.schema,
            "SELECT seq, file_json, note, published_by, published_at,
                    (SELECT p.file_json FROM {schema}.catalog_versions p WHERE p.seq < v.seq
                      ORDER BY p.seq DESC LIMIT 1) AS previous_json
               FROM {schema}.catalog_versions v WHERE announced_at IS NULL ORDER BY seq",
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let next = Catalog::from_json(row.try_get("file_json")?)?;
            let previous_json: Option<String> = row.try_get("previous_json")?;
            let previous = Catalog::from_json(previous_json.as_deref().unwrap_or(SEED_JSON))?;
            let published_at: DateTime<Utc> = row.try_get("published_at")?;
            let mut event = changes(&previous, &next);
            event.note = row.try_get("note")?;
            event.published_by = row.try_get("published_by")?;
            event.published_at = Some(timestamp(published_at));
            out.push((row.try_get("seq")?, event));
        }
        Ok(out)
    }

    async fn unannounced_calendars(&self) -> anyhow::Result<Vec<CalendarPublished>> {
        let rows = sqlx::query(schema_sql(
            &self.schema,
            "SELECT p.revision, p.source, p.published_by, p.published_at, array_agg(y.year ORDER BY y.year) AS years
               FROM {schema}.calendar_publications p JOIN {schema}.calendar_years y USING (revision)
              WHERE p.announced_at IS NULL
              GROUP BY p.revision ORDER BY p.revision",
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let published_at: DateTime<Utc> = row.try_get("published_at")?;
                Ok(CalendarPublished {
                    revision: u64::try_from(row.try_get::<i64, _>("revision")?)?,
                    years: row.try_get("years")?,
                    source: row.try_get("source")?,
                    published_by: row.try_get("published_by")?,
                    published_at: Some(timestamp(published_at)),
                })
            })
            .collect()
    }
}

/// What `next` changes against `previous`: packages added, changed and
/// retired, departments added and removed.
pub fn changes(previous: &Catalog, next: &Catalog) -> CatalogVersionPublished {
    let packages =
        |c: &Catalog| c.packages().iter().map(|p| (p.id.as_str().to_owned(), p.clone())).collect::<BTreeMap<_, _>>();
    let departments = |c: &Catalog| c.departments().iter().map(|d| d.code.as_str().to_owned()).collect::<BTreeSet<_>>();
    let (before, after) = (packages(previous), packages(next));
    let (had, has) = (departments(previous), departments(next));
    CatalogVersionPublished {
        version: next.version().to_owned(),
        previous_version: previous.version().to_owned(),
        added_packages: after.keys().filter(|id| !before.contains_key(*id)).cloned().collect(),
        changed_packages: after
            .iter()
            .filter(|(id, p)| before.get(*id).is_some_and(|b| b != *p))
            .map(|(id, _)| id.clone())
            .collect(),
        retired_packages: before.keys().filter(|id| !after.contains_key(*id)).cloned().collect(),
        added_departments: has.difference(&had).cloned().collect(),
        removed_departments: had.difference(&has).cloned().collect(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changes_name_added_changed_and_retired_packages() {
        let seed = Catalog::seed().unwrap();
        let mut file: serde_json::Value = serde_json::from_str(SEED_JSON).unwrap();
        file["version"] = "2026.2".into();
        let packages = file["packages"].as_array_mut().unwrap();
        let mut pilot = packages[0].clone();
        pilot["id"] = "pilot".into();
        let retired = packages.remove(1)["id"].as_str().unwrap().to_owned();
        packages[0]["name"] = "改名".into();
        let changed = packages[0]["id"].as_str().unwrap().to_owned();
        packages.push(pilot);
        let next = Catalog::from_json(&file.to_string()).unwrap();
        let event = changes(&seed, &next);
        assert_eq!((event.version.as_str(), event.previous_version.as_str()), ("2026.2", "2026.1"));
        assert_eq!(event.added_packages, ["pilot"]);
        assert_eq!(event.changed_packages, [changed]);
        assert_eq!(event.retired_packages, [retired]);
        assert!(event.added_departments.is_empty() && event.removed_departments.is_empty());
    }
}
