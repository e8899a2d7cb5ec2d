//! A counter aggregate, its codec and its rows: the smallest thing the
//! runner can run.

use async_trait::async_trait;
use prost::Message as _;
use sqlx::PgConnection;
use tonic::Status;
use yiciban_commands::{Change, EventCodec, Rows};
use yiciban_domain::Aggregate;
use yiciban_domain::refusal::{ErrorKind, FieldViolation, Refusal};
use yiciban_eventstore::sql::schema_sql;
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_platform::status::internal;
use yiciban_proto::common::v1::Date;
use yiciban_proto::convert::ConvertError;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counter {
    pub total: i64,
    pub version: u64,
}

#[derive(Debug, Clone)]
pub enum Command {
    Add(i64),
    Nothing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Added(pub i64);

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CounterError {
    #[error("the amount is not allowed")]
    Malformed(Vec<FieldViolation>),
    #[error("the counter is full")]
    Full,
}

impl Refusal for CounterError {
    fn kind(&self) -> ErrorKind {
        match self {
            CounterError::Malformed(_) => ErrorKind::InvalidArgument,
            CounterError::Full => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            CounterError::Malformed(v) => v,
            CounterError::Full => &[],
        }
    }
}

impl Aggregate for Counter {
    type Command = Command;
    type Event = Added;
    type Error = CounterError;
    const STREAM: &'static str = "counter";

    fn decide(&self, command: Command) -> Result<Vec<Added>, CounterError> {
        match command {
            Command::Nothing => Ok(vec![]),
            Command::Add(n) if n <= 0 => Err(CounterError::Malformed(vec![FieldViolation::new("amount", "须为正数")])),
            Command::Add(_) if self.total >= 1000 => Err(CounterError::Full),
            Command::Add(n) => Ok(vec![Added(n)]),
        }
    }

    fn evolve(self, event: &Added) -> Self {
        Counter { total: self.total + event.0, version: self.version + 1 }
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// Stores `Added(n)` as a `Date` message whose day is `n` (any prost
/// message does); an amount of 7 goes to department "seven".
pub struct CounterCodec;

impl EventCodec for CounterCodec {
    type Aggregate = Counter;
    const NOUN: &'static str = "counter";

    fn encode(&self, _after: &Counter, event: &Added) -> NewEvent {
        let e = NewEvent::new("Added", Date { year: 0, month: 0, day: event.0 as i32 }.encode_to_vec());
        if event.0 == 7 { e.for_department("seven") } else { e }
    }

    fn decode(&self, stored: &StoredEvent) -> Result<Added, ConvertError> {
        let date = Date::decode(stored.payload.as_slice())
            .map_err(|source| ConvertError::Decode { event_type: "Added", source })?;
        Ok(Added(date.day as i64))
    }
}

/// Keeps `totals(id, total, note)` beside the streams; refuses totals over
/// 500 with `INTERNAL` (so the whole command rolls back).
pub struct Totals {
    pub schema: String,
}

#[async_trait]
impl Rows<Counter> for Totals {
    type Facts = Option<String>;

    async fn write(
        &self,
        tx: &mut PgConnection,
        change: &Change<'_, Counter>,
        note: &Option<String>,
    ) -> Result<(), Status> {
        if change.after.total > 500 {
            return Err(Status::internal("the totals table takes no more than 500"));
        }
        sqlx::query(schema_sql(
            &self.schema,
            "INSERT INTO {schema}.totals (id, total, note) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET total = excluded.total, note = coalesce(excluded.note, {schema}.totals.note)",
        ))
        .bind(change.id)
        .bind(change.after.total)
        .bind(note.as_deref())
        .execute(&mut *tx)
        .await
        .map_err(|e| internal("writing the total", &e))?;
        Ok(())
    }
}
