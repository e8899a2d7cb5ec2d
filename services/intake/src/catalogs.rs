//! Published catalog versions in intake's schema (ADR 0017): each version is a
//! whole catalog file, checked by the domain's loader before it is stored,
//! never changed afterwards; the last one published is in force for new
//! cases, and the seed (shipped in the binary) is in force until another is
//! published. [`LiveCatalog`] is the version in force as this process sees it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row as _};
use yiciban_domain::catalog::{Catalog, CatalogError, SEED_JSON, SEED_VERSION};
use yiciban_eventstore::sql::schema_sql;

/// Who is named as the publisher of the seed.
pub const SEED_PUBLISHER: &str = "seed";

/// A published version's record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRecord {
    pub version: String,
    /// 0 for the seed; versions published later have higher numbers.
    pub seq: i64,
    pub note: String,
    pub published_by: String,
    /// `None` for the seed.
    pub published_at: Option<DateTime<Utc>>,
    pub packages: usize,
    pub departments: usize,
}

impl VersionRecord {
    fn of(catalog: &Catalog, seq: i64, note: String, published_by: String, at: Option<DateTime<Utc>>) -> Self {
        VersionRecord {
            version: catalog.version().to_owned(),
            seq,
            note,
            published_by,
            published_at: at,
            packages: catalog.packages().len(),
            departments: catalog.departments().len(),
        }
    }

    fn seed(catalog: &Catalog) -> Self {
        Self::of(catalog, 0, "shipped with yiciban".into(), SEED_PUBLISHER.into(), None)
    }
}

/// Why an import was not stored.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not a valid catalog; every problem is in the error.
    #[error(transparent)]
    Invalid(#[from] CatalogError),
    /// The file's version was published before.
    #[error(
        "catalog version {0:?} was published before (a version is published once); give the file a new \"version\""
    )]
    VersionTaken(String),
    #[error("the catalog could not be stored")]
    Database(#[from] sqlx::Error),
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub record: VersionRecord,
    pub changed: bool,
}

fn seed() -> Catalog {
    Catalog::seed().expect("the seed catalog is checked by its tests")
}

/// The version in force: the last published, or the seed.
pub async fn in_force(pool: &PgPool, schema: &str) -> Result<(VersionRecord, Catalog), ImportError> {
    let mut conn = pool.acquire().await?;
    in_force_on(&mut conn, schema).await
}

pub(crate) async fn in_force_on(
    conn: &mut sqlx::PgConnection,
    schema: &str,
) -> Result<(VersionRecord, Catalog), ImportError> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT seq, file_json, note, published_by, published_at FROM {schema}.catalog_versions
          ORDER BY seq DESC LIMIT 1",
    ))
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => {
            let catalog = seed();
            Ok((VersionRecord::seed(&catalog), catalog))
        }
        Some(row) => decode(&row),
    }
}

fn decode(row: &sqlx::postgres::PgRow) -> Result<(VersionRecord, Catalog), ImportError> {
    // Stored only after the same check: a failure here is a damaged row.
    let catalog = Catalog::from_json(row.try_get::<&str, _>("file_json")?)?;
    let record = VersionRecord::of(
        &catalog,
        row.try_get("seq")?,
        row.try_get("note")?,
        row.try_get("published_by")?,
        Some(row.try_get("published_at")?),
    );
    Ok((record, catalog))
}

/// The number of the last publication (0: none, the seed is in force).
async fn latest_seq(pool: &PgPool, schema: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(schema_sql(schema, "SELECT COALESCE(max(seq), 0) FROM {schema}.catalog_versions"))
        .fetch_one(pool)
        .await
}

/// One version and its file as published (`None` when never published).
pub async fn version(
    pool: &PgPool,
    schema: &str,
    version: &str,
) -> Result<Option<(VersionRecord, String)>, ImportError> {
    let row = sqlx::query(schema_sql(
        schema,
        "SELECT seq, file_json, note, published_by, published_at FROM {schema}.catalog_versions WHERE version = $1",
    ))
    .bind(version)
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => {
            let (record, _) = decode(&row)?;
            Ok(Some((record, row.try_get("file_json")?)))
        }
        None if version == SEED_VERSION => Ok(Some((VersionRecord::seed(&seed()), SEED_JSON.to_owned()))),
        None => Ok(None),
    }
}

/// Every published version, newest first, the seed last.
pub async fn list(pool: &PgPool, schema: &str) -> Result<Vec<VersionRecord>, ImportError> {
    let rows = sqlx::query(schema_sql(
        schema,
        "SELECT seq, file_json, note, published_by, published_at FROM {schema}.catalog_versions ORDER BY seq DESC",
    ))
    .fetch_all(pool)
    .await?;
    let mut records = rows.iter().map(|row| decode(row).map(|(record, _)| record)).collect::<Result<Vec<_>, _>>()?;
    records.push(VersionRecord::seed(&seed()));
    Ok(records)
}

/// Publishes `file_json` as the version in force; see the module docs.
pub async fn import(
    pool: &PgPool,
    schema: &str,
    file_json: &str,
    note: &str,
    published_by: &str,
) -> Result<Imported, ImportError> {
    let mut tx = pool.begin().await?;
    let imported = import_on(&mut tx, schema, file_json, note, published_by).await?;
    tx.commit().await?;
    Ok(imported)
}

/// Publishers queue here (inside their transaction); readers are not blocked.
pub(crate) async fn lock(conn: &mut sqlx::PgConnection, schema: &str) -> sqlx::Result<()> {
    sqlx::query(schema_sql(schema, "LOCK TABLE {schema}.catalog_versions IN EXCLUSIVE MODE")).execute(conn).await?;
    Ok(())
}

/// The file of `version` as published (the seed's for the seed version).
pub(crate) async fn file_on(conn: &mut sqlx::PgConnection, schema: &str, version: &str) -> Result<String, ImportError> {
    let file: Option<String> =
        sqlx::query_scalar(schema_sql(schema, "SELECT file_json FROM {schema}.catalog_versions WHERE version = $1"))
            .bind(version)
            .fetch_optional(&mut *conn)
            .await?;
    Ok(file.unwrap_or_else(|| SEED_JSON.to_owned()))
}

/// [`import`] inside the caller's transaction (which it locks).
pub(crate) async fn import_on(
    tx: &mut sqlx::PgConnection,
    schema: &str,
    file_json: &str,
    note: &str,
    published_by: &str,
) -> Result<Imported, ImportError> {
    let catalog = Catalog::from_json(file_json)?;
    lock(tx, schema).await?;
    let (current, current_catalog) = in_force_on(tx, schema).await?;
    if current.version == catalog.version() {
        if current_catalog == catalog {
            return Ok(Imported { record: current, changed: false });
        }
        return Err(ImportError::VersionTaken(catalog.version().to_owned()));
    }
    let taken: bool = sqlx::query_scalar(schema_sql(
        schema,
        "SELECT EXISTS (SELECT 1 FROM {schema}.catalog_versions WHERE version = $1)",
    ))
    .bind(catalog.version())
    .fetch_one(&mut *tx)
    .await?;
    if taken || catalog.version() == SEED_VERSION {
        return Err(ImportError::VersionTaken(catalog.version().to_owned()));
    }
    let row = sqlx::query(schema_sql(
        schema,
        "INSERT INTO {schema}.catalog_versions (seq, version, file_json, note, published_by)
         SELECT COALESCE(max(seq), 0) + 1, $1, $2, $3, $4 FROM {schema}.catalog_versions
         RETURNING seq, file_json, note, published_by, published_at",
    ))
    .bind(catalog.version())
    .bind(file_json)
    .bind(note)
    .bind(published_by)
    .fetch_one(&mut *tx)
    .await?;
    let (record, _) = decode(&row)?;
    Ok(Imported { record, changed: true })
}

/// The catalog version in force as this process sees it: swapped in whole
/// when another is published (here or at another intake replica).
#[derive(Debug)]
pub struct LiveCatalog {
    current: RwLock<(i64, Arc<Catalog>)>,
    /// Older versions read for the cases pinned to them (a published
    /// version never changes), at most [`PINNED_KEPT`].
    pinned: Mutex<HashMap<String, Arc<Catalog>>>,
}

/// How many older catalog versions a process keeps read.
const PINNED_KEPT: usize = 16;

impl LiveCatalog {
    /// Starts on `catalog`, published as number `seq` (0: the seed).
    pub fn new(seq: i64, catalog: Catalog) -> Self {
        LiveCatalog { current: RwLock::new((seq, Arc::new(catalog))), pinned: Mutex::new(HashMap::new()) }
    }

    /// Catalog version `version` (a case is pinned to the one it was
    /// accepted under, ADR 0017): the one in force, or an older one read
    /// once from `schema` and kept; `None` when it was never published.
    pub async fn pinned(
        &self,
        pool: &PgPool,
        schema: &str,
        version: &str,
    ) -> Result<Option<Arc<Catalog>>, ImportError> {
        let current = self.current();
        if current.version() == version {
            return Ok(Some(current));
        }
        if let Some(found) = self.pinned.lock().expect("catalog lock").get(version) {
            return Ok(Some(found.clone()));
        }
        let Some((_, file)) = self::version(pool, schema, version).await? else { return Ok(None) };
        let catalog = Arc::new(Catalog::from_json(&file)?);
        let mut pinned = self.pinned.lock().expect("catalog lock");
        if pinned.len() >= PINNED_KEPT
            && let Some(any) = pinned.keys().next().cloned()
        {
            pinned.remove(&any);
        }
        pinned.insert(version.to_owned(), catalog.clone());
        Ok(Some(catalog))
    }

    /// The publication number of the catalog in use (0: the seed).
    pub fn seq(&self) -> i64 {
        self.current.read().expect("catalog lock").0
    }

    /// The catalog in force now: a snapshot.
    pub fn current(&self) -> Arc<Catalog> {
        self.current.read().expect("catalog lock").1.clone()
    }

    /// Takes `catalog` when `seq` is newer than the one in use.
    pub fn install(&self, seq: i64, catalog: Catalog) -> bool {
        let mut current = self.current.write().expect("catalog lock");
        if seq <= current.0 {
            return false;
        }
        tracing::info!(version = catalog.version(), "catalog version in force");
        *current = (seq, Arc::new(catalog));
        true
    }

    /// Re-reads the version in force every `every` until `shutdown`.
    pub async fn follow(
        self: Arc<Self>,
        pool: PgPool,
        schema: String,
        every: std::time::Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut failing = false;
        loop {
            // The number is cheap to read; the file is read and checked only
            // when another replica published a newer version.
            let newer = match latest_seq(&pool, &schema).await {
                Ok(seq) if seq <= self.seq() => Ok(None),
                Ok(_) => in_force(&pool, &schema).await.map(Some),
                Err(e) => Err(e.into()),
            };
            match newer {
                Ok(Some((record, catalog))) => {
                    self.install(record.seq, catalog);
                    failing = false;
                }
                Ok(None) => failing = false,
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %yiciban_eventstore::error_chain(&e), "the catalog in force could not be read; keeping the one in use");
                }
                Err(_) => {}
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
        }
    }
}
