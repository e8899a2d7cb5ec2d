//! Upcasting: old schema versions of an event are rewritten to the current
//! one when read, so an old event stays readable forever. The upcasters
//! themselves live next to the event they upgrade (in the service that owns
//! it) and are registered here.

use std::collections::HashMap;

/// An upcaster failed to read the old payload.
#[derive(Debug, thiserror::Error)]
#[error("upcasting failed: {0}")]
pub struct UpcastError(pub String);

/// Rewrites a payload of one schema version into the next.
pub type UpcastFn = fn(&[u8]) -> Result<Vec<u8>, UpcastError>;

/// A registry of upcasters, keyed by event type and the version they read.
#[derive(Debug, Default, Clone)]
pub struct Upcasters {
    steps: HashMap<(String, u32), (u32, UpcastFn)>,
}

impl Upcasters {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers `f`, which turns `event_type` of `from` into version `to`.
    pub fn register(mut self, event_type: &str, from: u32, to: u32, f: UpcastFn) -> Self {
        assert!(to > from, "an upcaster must move forward ({event_type} v{from} -> v{to})");
        self.steps.insert((event_type.to_owned(), from), (to, f));
        self
    }

    /// Applies every registered step from `version` on; returns the final
    /// version and payload (unchanged when nothing is registered).
    pub fn upcast(&self, event_type: &str, mut version: u32, payload: Vec<u8>) -> Result<(u32, Vec<u8>), UpcastError> {
        let mut payload = payload;
        while let Some((to, f)) = self.steps.get(&(event_type.to_owned(), version)) {
            payload = f(&payload)?;
            version = *to;
        }
        Ok((version, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v1_to_v2(p: &[u8]) -> Result<Vec<u8>, UpcastError> {
        let mut out = p.to_vec();
        out.push(2);
        Ok(out)
    }
    fn v2_to_v3(p: &[u8]) -> Result<Vec<u8>, UpcastError> {
        let mut out = p.to_vec();
        out.push(3);
        Ok(out)
    }

    #[test]
    fn upcasters_chain_from_the_stored_version_to_the_newest() {
        let u = Upcasters::new().register("E", 1, 2, v1_to_v2).register("E", 2, 3, v2_to_v3);
        assert_eq!(u.upcast("E", 1, vec![1]).unwrap(), (3, vec![1, 2, 3]));
        assert_eq!(u.upcast("E", 2, vec![1]).unwrap(), (3, vec![1, 3]));
        assert_eq!(u.upcast("Other", 1, vec![1]).unwrap(), (1, vec![1]));
    }
}
