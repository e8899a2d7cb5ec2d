//! The load during a scenario: `concurrency` clients, each driving one
//! complete case after another (retrying every call on the same idempotency
//! key), until told to stop starting new ones. Their starts are spread over
//! a few seconds, so that at any moment some submit, some approve and some
//! hand out — whatever breaks, some call is in flight through it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use yiciban_bench::driver::Driver;

/// The pause between two clients' starts.
const STAGGER: Duration = Duration::from_millis(100);

/// What the clients of one scenario saw.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    /// Cases driven to hand-out (closed).
    pub done: u64,
    /// Cases a client gave up on, with the first few reasons.
    pub failed: u64,
    pub errors: Vec<String>,
}

/// Clients driving cases until [`Load::stop_starting`].
#[derive(Debug)]
pub struct Load {
    stop: CancellationToken,
    outcome: Arc<Mutex<Outcome>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Starts `concurrency` clients, one every [`STAGGER`]; case numbers
    /// come from `next`.
    pub fn start(driver: &Driver, next: &Arc<AtomicU64>, concurrency: usize) -> Load {
        let stop = CancellationToken::new();
        let outcome = Arc::new(Mutex::new(Outcome::default()));
        let workers = (0..concurrency)
            .map(|i| {
                let (driver, next, stop, outcome) = (driver.clone(), next.clone(), stop.clone(), outcome.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(STAGGER * i as u32).await;
                    while !stop.is_cancelled() {
                        let n = next.fetch_add(1, Ordering::SeqCst);
                        let result = driver.run_case(n).await;
                        let mut o = outcome.lock().expect("outcome lock");
                        match result {
                            Ok(_) => o.done += 1,
                            Err(e) => {
                                o.failed += 1;
                                if o.errors.len() < 5 {
                                    o.errors.push(format!("case {n}: {e:#}"));
                                }
                            }
                        }
                    }
                })
            })
            .collect();
        Load { stop, outcome, workers }
    }

    /// Cases closed so far.
    pub fn done(&self) -> u64 {
        self.outcome.lock().expect("outcome lock").done
    }

    /// The clients finish the case they are driving and start no other.
    pub fn stop_starting(&self) {
        self.stop.cancel();
    }

    /// Waits until every client has finished its last case.
    pub async fn finish(self) -> Outcome {
        self.stop.cancel();
        futures::future::join_all(self.workers).await;
        self.outcome.lock().expect("outcome lock").clone()
    }
}
