//! Connection-pool gauges, `yiciban_db_pool_size`, `yiciban_db_pool_idle`
//! and `yiciban_db_pool_max`, labelled `pool`: read at each collection from
//! the pools a service shell hands over with [`observe_pool`], for as long
//! as it keeps the returned [`PoolObservation`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use opentelemetry::KeyValue;
use opentelemetry::metrics::{AsyncInstrument, Meter};

/// What a pool reports at one collection.
#[derive(Debug, Clone, Copy)]
struct PoolState {
    size: u64,
    idle: u64,
    max: u64,
}

type Probe = Box<dyn Fn() -> PoolState + Send + Sync>;

struct Observed {
    id: u64,
    label: [KeyValue; 1],
    probe: Probe,
}

/// The observed pools; locked only by a collection and by (de)registration.
static POOLS: Mutex<Vec<Observed>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Keeps a pool observed; dropping it stops the observation and releases
/// the pool handle the metrics held.
#[derive(Debug)]
#[must_use = "the pool is observed only while this is kept"]
pub struct PoolObservation {
    id: u64,
}

impl Drop for PoolObservation {
    fn drop(&mut self) {
        POOLS.lock().unwrap_or_else(PoisonError::into_inner).retain(|o| o.id != self.id);
    }
}

/// Reports `pool`'s connections (open, idle, maximum) labelled
/// `pool="{name}"` until the returned observation is dropped.
pub fn observe_pool<DB: sqlx::Database>(name: &str, pool: sqlx::Pool<DB>) -> PoolObservation {
    // The instruments are registered with the pipeline.
    let _ = crate::pipeline::instruments();
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let probe: Probe = Box::new(move || PoolState {
        size: u64::from(pool.size()),
        idle: pool.num_idle() as u64,
        max: u64::from(pool.options().get_max_connections()),
    });
    POOLS.lock().unwrap_or_else(PoisonError::into_inner).push(Observed {
        id,
        label: [KeyValue::new("pool", name.to_owned())],
        probe,
    });
    PoolObservation { id }
}

fn observe_each(observer: &dyn AsyncInstrument<u64>, field: fn(&PoolState) -> u64) {
    for pool in POOLS.lock().unwrap_or_else(PoisonError::into_inner).iter() {
        observer.observe(field(&(pool.probe)()), &pool.label);
    }
}

pub(crate) fn register(meter: &Meter) {
    meter
        .u64_observable_gauge("yiciban.db.pool.size")
        .with_description("Connections the pool holds open (in use or idle).")
        .with_unit("{connection}")
        .with_callback(|observer| observe_each(observer, |s| s.size))
        .build();
    meter
        .u64_observable_gauge("yiciban.db.pool.idle")
        .with_description("Open connections of the pool that are idle.")
        .with_unit("{connection}")
        .with_callback(|observer| observe_each(observer, |s| s.idle))
        .build();
    meter
        .u64_observable_gauge("yiciban.db.pool.max")
        .with_description("Connections the pool may open at most.")
        .with_unit("{connection}")
        .with_callback(|observer| observe_each(observer, |s| s.max))
        .build();
}
