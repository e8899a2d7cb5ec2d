//! PROVISIONAL (replaced by the domain branch): the one aggregate trait.

use crate::refusal::Refusal;

/// An event-sourced aggregate: its type is its state.
pub trait Aggregate: Default + Clone + std::fmt::Debug + Send + Sync + 'static {
    type Command;
    type Event: Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static;
    type Error: Refusal;
    const STREAM: &'static str;
    fn decide(&self, command: Self::Command) -> Result<Vec<Self::Event>, Self::Error>;
    fn evolve(self, event: &Self::Event) -> Self;
    fn version(&self) -> u64;
    fn stream_id(id: uuid::Uuid) -> String {
        format!("{}-{id}", Self::STREAM)
    }
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self
    where
        Self::Event: 'a,
    {
        events.into_iter().fold(Self::default(), Self::evolve)
    }
}
