//! The one shape of every aggregate: the aggregate type is its state, folded
//! from its stream's events by [`Aggregate::evolve`]; [`Aggregate::decide`]
//! turns a command into the events to append, or refuses it. Both are pure
//! and synchronous: every fact from outside (the time, the calendar's
//! answers, fresh ids, the catalog) is looked up by the service and put in
//! the command.

use uuid::Uuid;

use crate::refusal::Refusal;

/// An event-sourced aggregate. The type is the state of one stream
/// (`<STREAM>-<id>`); the empty stream is [`Default`].
pub trait Aggregate: Default + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// What it can be asked to do.
    type Command;
    /// What it records.
    type Event: Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static;
    /// Why it refuses a command (nothing is recorded then).
    type Error: Refusal;

    /// The prefix of its stream names: streams are `<STREAM>-<uuid>`. Stored
    /// data depends on it: never change it.
    const STREAM: &'static str;

    /// The events `command` records against this state, in order (none when
    /// it would change nothing, e.g. a redelivery), or why it is refused.
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;

    /// The state after `event`. Total: events are facts, so an event that
    /// does not fit is applied as far as it goes, never refused. Advances
    /// [`Aggregate::version`] by exactly one.
    fn evolve(self, event: &Self::Event) -> Self;

    /// The number of events folded in so far: the stream's version.
    fn version(&self) -> u64;

    /// The name of the stream of aggregate `id`.
    fn stream_id(id: Uuid) -> String {
        format!("{}-{id}", Self::STREAM)
    }

    /// Folds a whole stream, oldest event first, into its state.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self
    where
        Self::Event: 'a,
    {
        events.into_iter().fold(Self::default(), Self::evolve)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::CaseApplication;
    use crate::issuance::CaseIssuance;
    use crate::routing::CasePlan;
    use crate::tasks::Task;

    #[test]
    fn stream_names_keep_the_prefixes_stored_data_depends_on() {
        let id = Uuid::from_u128(0x0191_d2c4);
        let tail = format!("-{id}");
        assert_eq!(CaseApplication::stream_id(id), format!("case{tail}"));
        assert_eq!(CasePlan::stream_id(id), format!("plan{tail}"));
        assert_eq!(Task::stream_id(id), format!("task{tail}"));
        assert_eq!(CaseIssuance::stream_id(id), format!("issuance{tail}"));
    }
}
