//! The workbench schema's tables: the sessions (the browser holds only an
//! unguessable id, the table its SHA-256; the person's tokens sealed) and
//! the sign-ins under way (state, nonce and PKCE verifier of one
//! authorization request, bound to the browser that started it); the
//! public progress page's tries (its rate limits, shared by every replica)
//! and the key its form tokens are signed with.

use yiciban_eventstore::Migrations;

/// Migrations of the workbench's tables.
pub const WORKBENCH: Migrations = Migrations {
    component: "workbench",
    steps: &[
        (
            1,
            r#"
CREATE TABLE {schema}.sessions (
    -- SHA-256 of the cookie's value: whoever reads the table cannot use it
    session_hash   BYTEA PRIMARY KEY,
    -- the form token every POST of this session must carry
    csrf_token     TEXT NOT NULL,
    -- who signed in, as the issuer's access token maps them (ADR 0015)
    subject        TEXT NOT NULL,
    role           TEXT NOT NULL,
    department     TEXT,
    display_name   TEXT NOT NULL,
    -- refresh token and access tokens per audience, sealed (AES-256-GCM or
    -- SM4-GCM) under the schema's data key `workbench-sessions`, bound to
    -- session_hash
    tokens         BYTEA NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_seen_at   TIMESTAMPTZ NOT NULL,
    -- absolute end: created_at + YICIBAN_WORKBENCH_SESSION_MAX
    expires_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry ON {schema}.sessions (expires_at);
CREATE INDEX sessions_last_seen ON {schema}.sessions (last_seen_at);

CREATE TABLE {schema}.sign_ins (
    -- SHA-256 of the `state` sent to the issuer
    state_hash     BYTEA PRIMARY KEY,
    -- SHA-256 of the sign-in cookie of the browser that started it
    browser_hash   BYTEA NOT NULL,
    nonce          TEXT NOT NULL,
    -- the PKCE code verifier, sealed like the sessions' tokens
    verifier       BYTEA NOT NULL,
    -- where to go after signing in (a path of the workbench)
    return_to      TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX sign_ins_created ON {schema}.sign_ins (created_at);
"#,
        ),
        (
            2,
            r#"
-- Every try of the public progress page (进度查询) that passed the form's
-- checks, kept one hour for the rate limits (ADR 0032): no case number, no
-- address and no ID tail in clear.
CREATE TABLE {schema}.progress_tries (
    id             BIGSERIAL PRIMARY KEY,
    -- SHA-256 of the client's address
    address_hash   BYTEA NOT NULL,
    -- SHA-256 of the case number asked about
    case_hash      BYTEA NOT NULL,
    -- pending (being checked), found, wrong (no such pair), failed (a
    -- service did not answer), refused (over a limit, not checked)
    outcome        TEXT NOT NULL
        CHECK (outcome IN ('pending', 'found', 'wrong', 'failed', 'refused')),
    tried_at       TIMESTAMPTZ NOT NULL
);
CREATE INDEX progress_tries_address ON {schema}.progress_tries (address_hash, tried_at);
CREATE INDEX progress_tries_case ON {schema}.progress_tries (case_hash, tried_at);
CREATE INDEX progress_tries_at ON {schema}.progress_tries (tried_at);

-- The key the progress form's tokens are signed with (one row, made by the
-- first replica to start; every replica signs and checks with it).
CREATE TABLE {schema}.progress_form_key (
    id             BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (id),
    key            BYTEA NOT NULL
);
"#,
        ),
    ],
};
