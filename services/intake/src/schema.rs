//! The intake schema's own tables, beside the event store's: the per-day case
//! number counter, an index of cases (for officer load, deficiency deadlines
//! and authorisation), the credit list, the officers' team, material content
//! the published working-day calendar, the published catalog versions, the
//! day each case ended (for the retention periods) and the erasures to make
//! again after a point-in-time restore.

use yiciban_eventstore::Migrations;

/// The steps as they shipped: never edit one (the migration runner refuses
/// to start on a changed step), add the next. The applicant and credit-list
/// keys are the identities' lookup values under `YICIBAN_IDENTITY_KEY`
/// ([`yiciban_platform::IdentityKey`]; step 1's comment predates it).
pub const INTAKE: Migrations = Migrations {
    component: "intake",
    steps: &[
        (
            1,
            r#"
-- gapless per day: the row is locked and bumped in the submission's transaction
CREATE TABLE {schema}.case_numbers (
    day   DATE PRIMARY KEY,
    last  INT NOT NULL
);

CREATE TABLE {schema}.case_index (
    case_id              UUID PRIMARY KEY,
    case_number          TEXT NOT NULL UNIQUE,
    package_id           TEXT NOT NULL,
    -- hex SHA-256 of the applicant's identity: applicants see their own cases
    applicant_key        TEXT NOT NULL,
    officer_id           TEXT,
    status               TEXT NOT NULL,
    open                 BOOLEAN NOT NULL,
    deficiency_deadline  DATE,
    version              BIGINT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_index_officer ON {schema}.case_index (officer_id) WHERE open;
CREATE INDEX case_index_deadline ON {schema}.case_index (deficiency_deadline) WHERE deficiency_deadline IS NOT NULL;
CREATE INDEX case_index_applicant ON {schema}.case_index (applicant_key);

-- 信用名单: applicants not listed are 'normal'
CREATE TABLE {schema}.credit_list (
    identity_key  TEXT PRIMARY KEY,
    status        TEXT NOT NULL CHECK (status IN ('good', 'normal', 'dishonest')),
    reason        TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- the case officers (专人); an empty package list means every package
CREATE TABLE {schema}.officers (
    officer_id  TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    packages    TEXT[] NOT NULL DEFAULT '{}'
);
"#,
        ),
        (
            2,
            r#"
-- material content, stored once per SHA-256; events carry only the reference
CREATE TABLE {schema}.material_blobs (
    sha256        TEXT PRIMARY KEY,
    size_bytes    BIGINT NOT NULL,
    content_type  TEXT NOT NULL,
    content       BYTEA NOT NULL,
    uploaded_by   TEXT NOT NULL,
    uploaded_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#,
        ),
        (
            3,
            r#"
-- 工作日历: each publication of one or more years, never updated or deleted;
-- a year's row of the highest revision is the one in force (ADR 0016)
CREATE TABLE {schema}.calendar_publications (
    revision      BIGINT PRIMARY KEY CHECK (revision > 0),
    source        TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE {schema}.calendar_years (
    year      INT NOT NULL,
    revision  BIGINT NOT NULL REFERENCES {schema}.calendar_publications (revision),
    holidays  DATE[] NOT NULL,
    workdays  DATE[] NOT NULL,
    PRIMARY KEY (year, revision)
);
"#,
        ),
        (
            4,
            r#"
-- 事项目录: each published catalog version, a whole catalog file checked
-- before it is stored, never updated or deleted; the highest seq is in force
-- for new cases, and a case keeps the version it was accepted under (ADR 0017)
CREATE TABLE {schema}.catalog_versions (
    seq           BIGINT PRIMARY KEY CHECK (seq > 0),
    version       TEXT NOT NULL UNIQUE,
    file_json     TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    published_by  TEXT NOT NULL,
    published_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
"#,
        ),
        (
            5,
            r#"
-- when each publication was announced on NATS (yiciban.events.v1
-- CatalogVersionPublished / CalendarPublished); NULL until JetStream acked it
ALTER TABLE {schema}.catalog_versions ADD COLUMN announced_at TIMESTAMPTZ;
ALTER TABLE {schema}.calendar_publications ADD COLUMN announced_at TIMESTAMPTZ;
"#,
        ),
        (
            6,
            r#"
-- catalog drafts: a department drafts, the lead department reviews, the
-- publishing office publishes approved drafts as a catalog version
CREATE TABLE {schema}.catalog_drafts (
    draft_id             UUID PRIMARY KEY,
    package_id           TEXT NOT NULL,
    retire               BOOLEAN NOT NULL,
    package_json         TEXT,
    lead_department      TEXT NOT NULL,
    drafting_department  TEXT,
    drafted_by           TEXT NOT NULL,
    status               TEXT NOT NULL
                         CHECK (status IN ('draft', 'submitted', 'approved', 'rejected', 'published', 'withdrawn')),
    version              BIGINT NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_in         TEXT,
    CHECK (retire = (package_json IS NULL))
);
-- at most one open draft per package
CREATE UNIQUE INDEX catalog_drafts_open ON {schema}.catalog_drafts (package_id)
    WHERE status NOT IN ('published', 'withdrawn');
CREATE TABLE {schema}.catalog_draft_history (
    draft_id  UUID NOT NULL REFERENCES {schema}.catalog_drafts (draft_id),
    seq       INT NOT NULL,
    action    TEXT NOT NULL,
    actor     TEXT NOT NULL,
    at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    note      TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (draft_id, seq)
);
"#,
        ),
        (
            7,
            r#"
-- the credit list's history: every change, never updated or deleted
CREATE TABLE {schema}.credit_changes (
    identity_key      TEXT NOT NULL,
    version           BIGINT NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('good', 'normal', 'dishonest')),
    -- 'unknown' for the entries listed before the history was kept
    previous_status   TEXT NOT NULL CHECK (previous_status IN ('good', 'normal', 'dishonest', 'unknown')),
    reason            TEXT NOT NULL,
    restricted_until  DATE,
    changed_by        TEXT NOT NULL,
    changed_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (identity_key, version)
);
CREATE FUNCTION {schema}.credit_changes_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credit_changes is the credit list''s history: rows are only ever added';
END $$;
CREATE TRIGGER credit_changes_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {schema}.credit_changes
    FOR EACH STATEMENT EXECUTE FUNCTION {schema}.credit_changes_append_only();
ALTER TABLE {schema}.credit_list ADD COLUMN restricted_until DATE;
INSERT INTO {schema}.credit_changes (identity_key, version, status, previous_status, reason, changed_by, changed_at)
    SELECT identity_key, version, status, 'unknown', reason, updated_by, updated_at FROM {schema}.credit_list;
"#,
        ),
        (
            8,
            r#"
-- 办结: the day each case ended, closed by the issuance service or ended in
-- intake (withdrawn, terminated, not accepted); a case without a row is
-- open. The retention period (years) is that of the case's package in the
-- case's catalog version; NULL until the retention job has looked it up.
CREATE TABLE {schema}.case_endings (
    case_id          UUID PRIMARY KEY REFERENCES {schema}.case_index (case_id),
    ended_on         DATE NOT NULL,
    how              TEXT NOT NULL CHECK (how IN ('closed', 'withdrawn', 'terminated', 'not_accepted')),
    catalog_version  TEXT NOT NULL,
    retention_years  INT CHECK (retention_years > 0),
    recorded_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX case_endings_unresolved ON {schema}.case_endings (case_id) WHERE retention_years IS NULL;

-- erasures a point-in-time restore undid: found by `casectl ops after-restore`
-- among the PersonalDataErased messages JetStream holds of events the restored
-- ledger lacks, and made again by intake at its next start, before it serves
CREATE TABLE {schema}.erasures_to_reapply (
    event_id      TEXT PRIMARY KEY,
    case_id       UUID NOT NULL,
    erased_at     TIMESTAMPTZ NOT NULL,
    basis         TEXT NOT NULL CHECK (basis IN ('request', 'retention')),
    found_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    reapplied_at  TIMESTAMPTZ
);
"#,
        ),
        (
            9,
            r#"
-- the scans the window took at hand-out (signed receipts, powers of
-- attorney), told by the issuance service with a case's closing: their
-- contents are deleted with the applicant's other materials at erasure
CREATE TABLE {schema}.window_materials (
    case_id  UUID NOT NULL REFERENCES {schema}.case_index (case_id),
    sha256   TEXT NOT NULL,
    PRIMARY KEY (case_id, sha256)
);
CREATE INDEX window_materials_sha256 ON {schema}.window_materials (sha256);
"#,
        ),
        (
            10,
            r#"
-- 办件备注 (ADR 0034): notes on a case, the text sealed under the
-- applicant's data key (unreadable once the applicant is erased); never
-- an event, never on NATS
CREATE TABLE {schema}.case_notes (
    note_id          UUID PRIMARY KEY,
    case_id          UUID NOT NULL REFERENCES {schema}.case_index (case_id),
    author           TEXT NOT NULL,
    -- the author's role: clerk, officer or supervisor
    author_role      TEXT NOT NULL,
    written_at       TIMESTAMPTZ NOT NULL,
    -- the data key's subject and generation the text is sealed under
    data_subject     TEXT NOT NULL,
    key_generation   INTEGER NOT NULL,
    sealed_text      BYTEA NOT NULL,
    -- the command's idempotency key (in its caller's namespace) and the
    -- request's fingerprint: a retry returns the note, another request
    -- with the same key is refused
    idempotency_key  TEXT NOT NULL UNIQUE,
    request_hash     TEXT NOT NULL
);
CREATE INDEX case_notes_case ON {schema}.case_notes (case_id, written_at);
"#,
        ),
    ],
};
