//! Reproducible sampling (抽样) for return visits (回访), of cases and of
//! opinions alike: each record is ranked by SHA-256 of the seed and its id
//! and the lowest ranks are taken, so the same seed over the same records
//! picks the same ones whatever their order; ids derived from a run's key
//! let a retried run find what it picked before.

use sha2::{Digest as _, Sha256};
use uuid::Uuid;

/// The rank of a record in a seeded draw.
pub fn rank(seed: &str, id: Uuid) -> [u8; 32] {
    Sha256::new().chain_update(seed.as_bytes()).chain_update(b"/").chain_update(id.as_bytes()).finalize().into()
}

/// How many of `population` records a share of `percent` takes: rounded
/// up, so any share of a non-empty month picks at least one.
pub fn sample_size(population: usize, percent: u32) -> usize {
    (population * percent as usize).div_ceil(100)
}

/// The `size` records of `population` with the lowest seeded ranks, in
/// rank order.
pub fn draw(population: &[Uuid], seed: &str, size: usize) -> Vec<Uuid> {
    let mut ranked: Vec<([u8; 32], Uuid)> = population.iter().map(|c| (rank(seed, *c), *c)).collect();
    ranked.sort();
    ranked.into_iter().take(size).map(|(_, c)| c).collect()
}

/// A UUID derived from `parts` (stable across retries).
pub fn derived_id(parts: &[&[u8]]) -> Uuid {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p);
    }
    let digest = h.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_records_and_another_seed_others() {
        let population: Vec<Uuid> = (1..=100u128).map(Uuid::from_u128).collect();
        let a = draw(&population, "2026-10", 10);
        assert_eq!(a.len(), 10);
        let mut shuffled = population.clone();
        shuffled.reverse();
        assert_eq!(draw(&shuffled, "2026-10", 10), a, "the order of the population does not matter");
        assert_ne!(draw(&population, "another seed", 10), a);
    }

    #[test]
    fn a_share_rounds_up() {
        assert_eq!((sample_size(10, 10), sample_size(11, 10), sample_size(0, 10), sample_size(3, 100)), (1, 2, 0, 3));
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        assert_eq!(derived_id(&[b"k", b"1"]), derived_id(&[b"k", b"1"]));
        assert_ne!(derived_id(&[b"k1", b""]), derived_id(&[b"k", b"1"]));
    }
}
