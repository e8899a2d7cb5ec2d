//! Catalog drafts in intake's schema: each draft of a package change or
//! retirement with its status and a history row per action (who, when, what,
//! the note), and the publication of approved drafts as a new catalog version
//! in one transaction with the version itself (ADR 0017). The rules are the
//! domain's (`yiciban_domain::catalog::drafts`); this module stores them.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool, Row as _};
use uuid::Uuid;
use yiciban_domain::catalog::drafts::{self, DraftAction, DraftChange, DraftError, DraftStatus};
use yiciban_eventstore::sql::schema_sql;

use crate::catalogs::{self, ImportError, Imported};

/// A stored draft.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub draft_id: Uuid,
    pub package_id: String,
    pub change: DraftChange,
    /// The department that reviews it: the drafted package's lead department
    /// (for a retirement, the lead department in the version in force).
    pub lead_department: String,
    /// The department it was drafted by (`None`: an administrator).
    pub drafting_department: Option<String>,
    pub drafted_by: String,
    pub status: DraftStatus,
    /// Bumped by every action (optimistic concurrency).
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    /// The catalog version it was published in.
    pub published_in: Option<String>,
    pub history: Vec<HistoryEntry>,
}

/// One action on a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub action: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: String,
}

/// Why a draft action was not stored.
#[derive(Debug, thiserror::Error)]
pub enum DraftStoreError {
    #[error(transparent)]
    Rule(#[from] DraftError),
    #[error("draft {0} does not exist")]
    NotFound(Uuid),
    #[error("the draft changed meanwhile (it is at version {current}); read it again")]
    Conflict { current: i64 },
    #[error("draft {0} is not an approved draft (only approved drafts are published)")]
    NotApproved(Uuid),
    #[error("no draft is approved: nothing to publish")]
    NothingApproved,
    #[error("package {package_id:?} has an open draft already ({draft_id}); continue that one or withdraw it")]
    OpenDraftExists { package_id: String, draft_id: Uuid },
    #[error("{0}")]
    Import(#[from] ImportError),
    #[error("the drafts could not be stored")]
    Database(#[from] sqlx::Error),
}

fn change_of(retire: bool, package_json: Option<String>) -> Result<DraftChange, sqlx::Error> {
    if retire {
        return Ok(DraftChange::Retire);
    }
    let text = package_json.unwrap_or_default();
    serde_json::from_str(&text).map(DraftChange::Package).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The draft columns' SELECT followed by `$tail`, as one `'static` text.
macro_rules! select {
    ($tail:literal) => {
        concat!(
            "SELECT draft_id, package_id, retire, package_json, lead_department, drafting_department,
                    drafted_by, status, version, updated_at, published_in FROM {schema}.catalog_drafts",
            $tail
        )
    };
}

fn decode(row: &sqlx::postgres::PgRow) -> Result<Draft, sqlx::Error> {
    let status: String = row.try_get("status")?;
    Ok(Draft {
        draft_id: row.try_get("draft_id")?,
        package_id: row.try_get("package_id")?,
        change: change_of(row.try_get("retire")?, row.try_get("package_json")?)?,
        lead_department: row.try_get("lead_department")?,
        drafting_department: row.try_get("drafting_department")?,
        drafted_by: row.try_get("drafted_by")?,
        status: DraftStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("draft status {status:?}").into()))?,
        version: row.try_get("version")?,
        updated_at: row.try_get("updated_at")?,
        published_in: row.try_get("published_in")?,
        history: Vec::new(),
    })
}

async fn history(conn: &mut PgConnection, schema: &str, draft_id: Uuid) -> sqlx::Result<Vec<HistoryEntry>> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT action, actor, at, note FROM {schema}.catalog_draft_history WHERE draft_id = $1 ORDER BY seq",
    ))
    .bind(draft_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(HistoryEntry {
                action: r.try_get("action")?,
                actor: r.try_get("actor")?,
                at: r.try_get("at")?,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// One draft with its history.
pub async fn get(pool: &PgPool, schema: &str, draft_id: Uuid) -> Result<Option<Draft>, DraftStoreError> {
    let mut conn = pool.acquire().await?;
    let row = sqlx::query(schema_sql(schema, select!(" WHERE draft_id = $1")))
        .bind(draft_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let mut draft = decode(&row)?;
    draft.history = history(&mut conn, schema, draft_id).await?;
    Ok(Some(draft))
}

/// Drafts with `status` (`None`: every open one), newest first, at most 500.
pub async fn list(pool: &PgPool, schema: &str, status: Option<DraftStatus>) -> Result<Vec<Draft>, DraftStoreError> {
    let rows = match status {
        Some(status) => {
            sqlx::query(schema_sql(schema, select!(" WHERE status = $1 ORDER BY updated_at DESC LIMIT 500")))
                .bind(status.as_str())
                .fetch_all(pool)
                .await?
        }
        None => {
            sqlx::query(schema_sql(
                schema,
                select!(" WHERE status NOT IN ('published', 'withdrawn') ORDER BY updated_at DESC LIMIT 500"),
            ))
            .fetch_all(pool)
            .await?
        }
    };
    Ok(rows.iter().map(decode).collect::<Result<_, _>>()?)
}

async fn record(
    conn: &mut PgConnection,
    schema: &str,
    draft_id: Uuid,
    action: &str,
    actor: &str,
    note: &str,
) -> sqlx::Result<()> {
    sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.catalog_draft_history (draft_id, seq, action, actor, note)
         SELECT $1, COALESCE(max(seq), 0) + 1, $2, $3, $4 FROM {schema}.catalog_draft_history WHERE draft_id = $1",
    ))
    .bind(draft_id)
    .bind(action)
    .bind(actor)
    .bind(note)
    .execute(conn)
    .await?;
    Ok(())
}

/// A new draft; refused while the package has another open draft.
pub async fn create(pool: &PgPool, schema: &str, draft: &Draft) -> Result<(), DraftStoreError> {
    let mut tx = pool.begin().await?;
    let open: Option<Uuid> = sqlx::query_scalar(schema_sql(
        schema,
        "SELECT draft_id FROM {schema}.catalog_drafts
          WHERE package_id = $1 AND status NOT IN ('published', 'withdrawn') FOR UPDATE",
    ))
    .bind(&draft.package_id)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(draft_id) = open {
        return Err(DraftStoreError::OpenDraftExists { package_id: draft.package_id.clone(), draft_id });
    }
    let (retire, package_json) = match &draft.change {
        DraftChange::Retire => (true, None),
        DraftChange::Package(p) => (false, Some(p.to_string())),
    };
    let inserted = sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.catalog_drafts (draft_id, package_id, retire, package_json, lead_department,
             drafting_department, drafted_by, status, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'draft', 1)",
    ))
    .bind(draft.draft_id)
    .bind(&draft.package_id)
    .bind(retire)
    .bind(package_json)
    .bind(&draft.lead_department)
    .bind(&draft.drafting_department)
    .bind(&draft.drafted_by)
    .execute(&mut *tx)
    .await;
    if let Err(sqlx::Error::Database(e)) = &inserted
        && e.is_unique_violation()
    {
        // Another draft of the package was opened at the same moment.
        return Err(DraftStoreError::OpenDraftExists {
            package_id: draft.package_id.clone(),
            draft_id: draft.draft_id,
        });
    }
    inserted?;
    record(&mut tx, schema, draft.draft_id, "save", &draft.drafted_by, "").await?;
    tx.commit().await?;
    Ok(())
}

/// One action on a draft, by whom, with the review note, and for a save
/// the new content and its lead department.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub action: DraftAction,
    pub actor: &'a str,
    pub note: &'a str,
    pub content: Option<(DraftChange, String)>,
}

/// Applies `step` to the draft at `expected` version (0: any); returns the
/// draft after it.
pub async fn act(
    pool: &PgPool,
    schema: &str,
    draft_id: Uuid,
    expected: i64,
    step: Step<'_>,
) -> Result<Draft, DraftStoreError> {
    let Step { action, actor, note, content } = step;
    let mut tx = pool.begin().await?;
    let row = sqlx::query(schema_sql(schema, select!(" WHERE draft_id = $1 FOR UPDATE")))
        .bind(draft_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(DraftStoreError::NotFound(draft_id))?;
    let draft = decode(&row)?;
    if expected != 0 && expected != draft.version {
        return Err(DraftStoreError::Conflict { current: draft.version });
    }
    if action == DraftAction::Approve || action == DraftAction::Reject {
        drafts::check_reviewer(&draft.drafted_by, actor)?;
    }
    let status = drafts::next_status(draft.status, action)?;
    let (retire, package_json, lead) = match &content {
        Some((DraftChange::Retire, lead)) => (Some(true), None, Some(lead.clone())),
        Some((DraftChange::Package(p), lead)) => (Some(false), Some(p.to_string()), Some(lead.clone())),
        None => (None, None, None),
    };
    sqlx::query(schema_sql(
        schema,
        "UPDATE {schema}.catalog_drafts SET status = $2, version = version + 1, updated_at = now(),
                retire = COALESCE($3, retire),
                package_json = CASE WHEN $3 IS NULL THEN package_json ELSE $4 END,
                lead_department = COALESCE($5, lead_department)
          WHERE draft_id = $1",
    ))
    .bind(draft_id)
    .bind(status.as_str())
    .bind(retire)
    .bind(package_json)
    .bind(lead)
    .execute(&mut *tx)
    .await?;
    let name = match action {
        DraftAction::Save => "save",
        DraftAction::Submit => "submit",
        DraftAction::Approve => "approve",
        DraftAction::Reject => "reject",
        DraftAction::Withdraw => "withdraw",
        DraftAction::Publish => "publish",
    };
    record(&mut tx, schema, draft_id, name, actor, note).await?;
    tx.commit().await?;
    get(pool, schema, draft_id).await?.ok_or(DraftStoreError::NotFound(draft_id))
}

/// The problems the catalog in force would have with `change` of
/// `package_id` applied (empty: none).
pub async fn problems_of(
    pool: &PgPool,
    schema: &str,
    package_id: &str,
    change: &DraftChange,
) -> Result<Vec<String>, DraftStoreError> {
    let mut conn = pool.acquire().await?;
    let (in_force, _) = catalogs::in_force_on(&mut conn, schema).await?;
    let base = catalogs::file_on(&mut conn, schema, &in_force.version).await?;
    Ok(match drafts::apply(&base, &[(package_id.to_owned(), change.clone())], &in_force.version) {
        Ok(_) => Vec::new(),
        Err(yiciban_domain::catalog::CatalogError::Invalid(problems)) => {
            problems.iter().map(ToString::to_string).collect()
        }
        Err(e) => vec![e.to_string()],
    })
}

/// Publishes the approved drafts `ids` (empty: every approved draft) as the
/// catalog version `version`, all in one transaction: the version is stored
/// and put in force, and each draft marked published in it.
pub async fn publish(
    pool: &PgPool,
    schema: &str,
    version: &str,
    ids: &[Uuid],
    note: &str,
    actor: &str,
) -> Result<(Imported, Vec<Uuid>), DraftStoreError> {
    let mut tx = pool.begin().await?;
    catalogs::lock(&mut tx, schema).await?;
    let rows = sqlx::query(schema_sql(
        schema,
        select!(
            " WHERE status = 'approved' AND (cardinality($1::uuid[]) = 0 OR draft_id = ANY($1))
              ORDER BY updated_at FOR UPDATE"
        ),
    ))
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    let chosen = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    if let Some(missing) = ids.iter().find(|id| !chosen.iter().any(|d| d.draft_id == **id)) {
        return Err(DraftStoreError::NotApproved(*missing));
    }
    if chosen.is_empty() {
        return Err(DraftStoreError::NothingApproved);
    }
    let (in_force, _) = catalogs::in_force_on(&mut tx, schema).await?;
    let base = catalogs::file_on(&mut tx, schema, &in_force.version).await?;
    let changes: Vec<(String, DraftChange)> = chosen.iter().map(|d| (d.package_id.clone(), d.change.clone())).collect();
    let (file, _) = drafts::apply(&base, &changes, version).map_err(ImportError::Invalid)?;
    let imported = catalogs::import_on(&mut tx, schema, &file, note, actor).await?;
    let published: Vec<Uuid> = chosen.iter().map(|d| d.draft_id).collect();
    sqlx::query(schema_sql(
        schema,
        "UPDATE {schema}.catalog_drafts SET status = 'published', version = version + 1, updated_at = now(),
                published_in = $2
          WHERE draft_id = ANY($1)",
    ))
    .bind(&published)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    for id in &published {
        record(&mut tx, schema, *id, "publish", actor, version).await?;
    }
    tx.commit().await?;
    Ok((imported, published))
}
