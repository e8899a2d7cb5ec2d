//! Given / when / then tests of any [`Aggregate`]: start from the events
//! already in the stream ([`given`]), from commands that must succeed
//! ([`given_commands`], [`history`]) or from a state ([`given_state`]);
//! decide one command ([`Given::when`]); assert what came ([`Then`]). Every
//! assertion panics with what was expected and what came. Fast and pure: no
//! database.
//!
//! ```ignore
//! given::<Task>(vec![]).when(create()).then(vec![Event::TaskCreated(created())]);
//! given_commands::<Task>(vec![create()]).when(create()).then_error(TaskError::AlreadyCreated);
//! ```
//!
//! Compiled for the crate's own tests and, with the `testing` feature, for
//! the services' tests.

use std::fmt::Debug;

use crate::aggregate::Aggregate;
use crate::refusal::{ErrorKind, Refusal, Rejection};

/// The state of a stream before the command under test.
#[derive(Debug, Clone)]
pub struct Given<A: Aggregate> {
    state: A,
}

/// A stream holding `events` (oldest first).
pub fn given<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> Given<A> {
    Given { state: events.into_iter().fold(A::default(), |state, event| state.evolve(&event)) }
}

/// A stream holding the events `commands` decide, one after the other from
/// the empty stream. Panics, naming the command, if one is refused.
#[track_caller]
pub fn given_commands<A: Aggregate>(commands: impl IntoIterator<Item = A::Command>) -> Given<A>
where
    A::Command: Debug,
{
    given(history::<A>(commands))
}

/// The events `commands` decide, one after the other from the empty stream,
/// all of them in order. Panics, naming the command, if one is refused.
#[track_caller]
pub fn history<A: Aggregate>(commands: impl IntoIterator<Item = A::Command>) -> Vec<A::Event>
where
    A::Command: Debug,
{
    let mut state = A::default();
    let mut all = Vec::new();
    for (i, command) in commands.into_iter().enumerate() {
        let shown = format!("{command:?}");
        match state.decide(command) {
            Ok(events) => {
                state = fold(state, &events);
                all.extend(events);
            }
            Err(error) => panic!("command #{i} should succeed, but it was refused: {error}\n{error:?}\n{shown}"),
        }
    }
    all
}

/// A stream in `state` (e.g. the state a previous `then` returned).
pub fn given_state<A: Aggregate>(state: A) -> Given<A> {
    Given { state }
}

impl<A: Aggregate> Given<A> {
    /// Decides `command` against the state.
    pub fn when(self, command: A::Command) -> Then<A> {
        let result = self.state.decide(command);
        Then { state: self.state, result }
    }

    /// The state before the command.
    pub fn state(&self) -> &A {
        &self.state
    }
}

/// What a command decided, ready to be asserted.
#[derive(Debug)]
pub struct Then<A: Aggregate> {
    state: A,
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Then<A> {
    /// Asserts exactly these events, in order; returns the state after them.
    #[track_caller]
    pub fn then(self, expected: Vec<A::Event>) -> A {
        let events = match self.result {
            Ok(events) => events,
            Err(error) => panic!("expected the events {expected:#?}\nbut the command was refused: {error}\n{error:?}"),
        };
        if events != expected {
            panic!("expected the events {expected:#?}\nbut came {events:#?}");
        }
        fold(self.state, &events)
    }

    /// Asserts success; returns the events and the state after them.
    #[track_caller]
    pub fn then_ok(self) -> (Vec<A::Event>, A) {
        match self.result {
            Ok(events) => {
                let state = fold(self.state, &events);
                (events, state)
            }
            Err(error) => panic!("expected the command to succeed, but it was refused: {error}\n{error:?}"),
        }
    }

    /// Asserts success with no events: nothing new to record.
    #[track_caller]
    pub fn then_nothing(self) {
        match self.result {
            Ok(events) if events.is_empty() => {}
            Ok(events) => panic!("expected no events, but came {events:#?}"),
            Err(error) => panic!("expected no events, but the command was refused: {error}\n{error:?}"),
        }
    }

    /// Asserts exactly this refusal; returns how the edge answers it.
    #[track_caller]
    pub fn then_error(self, expected: A::Error) -> ErrorKind
    where
        A::Error: PartialEq,
    {
        match self.result {
            Err(error) if error == expected => error.kind(),
            Err(error) => panic!("expected the refusal {expected:?}\nbut came the refusal {error:?}"),
            Ok(events) => panic!("expected the refusal {expected:?}\nbut the command decided {events:#?}"),
        }
    }

    /// Asserts a rejection of a malformed command (INVALID_ARGUMENT) naming
    /// exactly `fields`, in order; returns it to look at the descriptions.
    #[track_caller]
    pub fn then_rejected(self, fields: &[&str]) -> Rejection {
        let error = match self.result {
            Err(error) => error,
            Ok(events) => panic!("expected a rejection of the fields {fields:?}\nbut the command decided {events:#?}"),
        };
        let rejection = Rejection { violations: error.violations().to_vec() };
        if error.kind() != ErrorKind::InvalidArgument || rejection.violations.is_empty() {
            panic!(
                "expected a rejection of the fields {fields:?}\nbut came the refusal {error:?} ({:?})",
                error.kind()
            );
        }
        if rejection.fields() != fields {
            panic!(
                "expected a rejection of the fields {fields:?}\nbut came one of {:?}\n{rejection}",
                rejection.fields()
            );
        }
        rejection
    }
}

fn fold<A: Aggregate>(state: A, events: &[A::Event]) -> A {
    events.iter().fold(state, |s, e| s.evolve(e))
}

/// Asserts that replaying the first n of `events` gives version n, for every
/// n: [`Aggregate::evolve`] advances the version by exactly one per event.
#[track_caller]
pub fn assert_version_counts_events<A: Aggregate>(events: &[A::Event]) {
    let mut state = A::default();
    assert_eq!(state.version(), 0, "the empty stream is at version 0");
    for (n, event) in events.iter().enumerate() {
        state = state.evolve(event);
        let expected = n as u64 + 1;
        if state.version() != expected {
            panic!(
                "after {expected} events the version should be {expected}, but it is {}: {event:?}",
                state.version()
            );
        }
    }
    assert_eq!(A::replay(events).version(), events.len() as u64, "replay gives the same version");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counter that refuses to go below zero: the smallest aggregate.
    #[derive(Debug, Clone, Default, PartialEq)]
    struct Counter {
        value: i64,
        version: u64,
    }

    #[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
    #[error("the counter cannot go below zero")]
    struct BelowZero;

    impl Refusal for BelowZero {
        fn kind(&self) -> ErrorKind {
            ErrorKind::FailedPrecondition
        }
    }

    impl Aggregate for Counter {
        type Command = i64;
        type Event = i64;
        type Error = BelowZero;

        const STREAM: &'static str = "counter";

        fn decide(&self, by: i64) -> Result<Vec<i64>, BelowZero> {
            match self.value + by {
                n if n < 0 => Err(BelowZero),
                _ if by == 0 => Ok(vec![]),
                _ => Ok(vec![by]),
            }
        }

        fn evolve(self, by: &i64) -> Self {
            Counter { value: self.value + by, version: self.version + 1 }
        }

        fn version(&self) -> u64 {
            self.version
        }
    }

    #[test]
    fn a_decision_is_asserted_and_its_state_returned() {
        let state = given::<Counter>([2, 3]).when(-1).then(vec![-1]);
        assert_eq!(state, Counter { value: 4, version: 3 });
        let (events, state) = given_commands::<Counter>([5]).when(1).then_ok();
        assert_eq!((events, state.value), (vec![1], 6));
        given_state(state).when(0).then_nothing();
        assert_eq!(given::<Counter>([]).when(-1).then_error(BelowZero), ErrorKind::FailedPrecondition);
        assert_eq!(history::<Counter>([1, 0, 2]), [1, 2]);
        assert_version_counts_events::<Counter>(&[1, -1, 4]);
    }

    #[test]
    #[should_panic(expected = "expected the events [\n    2,\n]\nbut came [\n    1,\n]")]
    fn other_events_than_expected_show_both() {
        given::<Counter>([]).when(1).then(vec![2]);
    }

    #[test]
    #[should_panic(expected = "expected the refusal BelowZero\nbut the command decided [\n    1,\n]")]
    fn a_success_where_a_refusal_was_expected_shows_the_events() {
        given::<Counter>([]).when(1).then_error(BelowZero);
    }

    #[test]
    #[should_panic(expected = "expected a rejection of the fields [\"a\"]\nbut came the refusal BelowZero")]
    fn a_refusal_that_is_not_a_rejection_is_not_taken_for_one() {
        given::<Counter>([]).when(-1).then_rejected(&["a"]);
    }

    #[test]
    #[should_panic(expected = "command #1 should succeed, but it was refused: the counter cannot go below zero")]
    fn a_refused_given_command_names_itself() {
        given_commands::<Counter>([1, -2]);
    }
}
