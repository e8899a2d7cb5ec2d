//! The one place where the workspace builds SQL from a string that is not a
//! literal.
//!
//! sqlx runs a `&'static str` as it is and refuses any other string unless it
//! is wrapped in [`AssertSqlSafe`], a promise that it holds no injection. Our
//! statements are literals but for one thing: identifiers cannot be bind
//! parameters, and each service keeps its tables in a Postgres schema named
//! by its configuration (`YICIBAN_<SERVICE>_SCHEMA`, tracking's rebuilds
//! add `<schema>_rebuild_<n>`; the tests and `make run` create databases by
//! name). [`schema_sql`] and [`names_sql`] write those names into a literal
//! statement; they are the only users of `AssertSqlSafe`, so the promise is
//! made, and checked, here alone.
//!
//! # Why it is safe
//! - The statement is a `&'static str`: SQL written in our source, never
//!   text from a request or a stored row.
//! - Every name is checked here by [`validate_schema_name`]: lower-case ASCII
//!   letters, digits and `_`, starting with a letter, at most 48 bytes. Such a
//!   name holds no quote, space, dot, semicolon or comment, so Postgres can
//!   only read it as one identifier. A name that fails the check panics: the
//!   names are validated where they enter (the services' configuration, whose
//!   error stops the start; [`crate::EventStore::new`], the consumer, and
//!   [`crate::migrate()`], which every shadow schema passes before it is
//!   recorded), so reaching this check with a bad one is a bug, and it
//!   fails loudly instead of running.
//! - None of these names comes from a caller of the API: they come from the
//!   process's configuration, from names the service makes itself, or from
//!   rows the service wrote with such names.

use std::sync::Arc;

use sqlx::{AssertSqlSafe, SqlSafeStr as _, SqlStr};

use crate::migrate::validate_schema_name;

/// `statement` with every `{schema}` replaced by `schema`, ready for
/// `sqlx::query` and its kin. Panics if `schema` is not a valid schema name
/// (see the module docs).
///
/// ```
/// let sql = yiciban_eventstore::sql::schema_sql("intake", "SELECT count(*) FROM {schema}.events");
/// assert_eq!(sql.as_str(), "SELECT count(*) FROM intake.events");
/// ```
pub fn schema_sql(schema: &str, statement: &'static str) -> SqlStr {
    names_sql(statement, &[("schema", schema)])
}

/// `statement` with every `{placeholder}` replaced by its name, for the few
/// statements that name two schemas or a database. Panics if a name is not a
/// valid schema name (see the module docs).
pub fn names_sql(statement: &'static str, names: &[(&str, &str)]) -> SqlStr {
    let mut sql = statement.to_owned();
    for (placeholder, name) in names {
        if let Err(e) = validate_schema_name(name) {
            panic!("{e}: an unchecked name reached SQL (a bug: names are validated where they enter)");
        }
        sql = sql.replace(&format!("{{{placeholder}}}"), name);
    }
    // An Arc: the store keeps its statements and clones them for each call.
    AssertSqlSafe(Arc::<str>::from(sql)).into_sql_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_placeholder_is_replaced_and_the_rest_is_kept() {
        let sql = schema_sql("tasks", "INSERT INTO {schema}.t (doc) SELECT '{}'::jsonb FROM {schema}.u");
        assert_eq!(sql.as_str(), "INSERT INTO tasks.t (doc) SELECT '{}'::jsonb FROM tasks.u");
        let sql = names_sql(
            "SELECT 1 FROM {control}.c LEFT JOIN {target}.c USING (id)",
            &[("control", "tracking"), ("target", "tracking_rebuild_2")],
        );
        assert_eq!(sql.as_str(), "SELECT 1 FROM tracking.c LEFT JOIN tracking_rebuild_2.c USING (id)");
    }

    #[test]
    #[should_panic(expected = "an unchecked name reached SQL")]
    fn a_name_that_could_end_the_identifier_never_reaches_sql() {
        schema_sql("intake.events; DROP TABLE x; --", "SELECT 1 FROM {schema}.events");
    }

    #[test]
    #[should_panic(expected = "an unchecked name reached SQL")]
    fn a_quoted_name_never_reaches_sql() {
        names_sql("CREATE DATABASE {database}", &[("database", "\"x\"")]);
    }
}
