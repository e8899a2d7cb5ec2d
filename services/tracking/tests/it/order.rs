//! A property of the projection as it really runs (JetStream, the durable
//! consumer's chunks, Postgres): whatever order and repetition the events of
//! cases reach it in — the streams of a case interleaved any way, an event
//! ahead of its predecessors (they are filled in from the owning store and
//! then arrive late), events delivered again later — the read models end
//! equal to a replay of the stores (a rebuild), row by row.
//!
//! The delivery plan is random; the seed is printed, and
//! `YICIBAN_ORDER_SEED=<seed>` repeats a run's plan.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use prost::Message as _;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use yiciban_eventstore::{Relay, RelaySettings};
use yiciban_proto::events::v1::EventEnvelope;
use yiciban_proto::tracking::v1 as pb;
use yiciban_testkit::eventually;

use crate::helpers::{Case, cst, spawn_app};
use crate::rebuild::{active, assert_same_rows, progress, start};

/// Cases per run, each cut at a random point of its life.
const CASES: usize = 24;

/// A delivery plan of one case's events (indices into its events): each
/// stream's events in order, except that an event may overtake the one
/// before it (one in four), and any event delivered may be delivered again
/// later (one in five); the streams interleaved at random.
fn delivery_plan(rng: &mut StdRng, events: &[EventEnvelope]) -> Vec<usize> {
    let mut queues: BTreeMap<&str, VecDeque<usize>> = BTreeMap::new();
    for (i, e) in events.iter().enumerate() {
        queues.entry(e.stream_id.as_str()).or_default().push_back(i);
    }
    let mut plan: Vec<usize> = Vec::new();
    loop {
        let open: Vec<&str> = queues.iter().filter(|(_, q)| !q.is_empty()).map(|(s, _)| *s).collect();
        if open.is_empty() {
            break;
        }
        let queue = queues.get_mut(open[rng.random_range(0..open.len())]).expect("an open stream");
        let next = if queue.len() > 1 && rng.random_ratio(1, 4) { queue.remove(1) } else { queue.pop_front() };
        plan.push(next.expect("a non-empty queue"));
        if rng.random_ratio(1, 5) {
            plan.push(plan[rng.random_range(0..plan.len())]);
        }
    }
    plan
}

#[tokio::test]
async fn any_delivery_order_with_repeats_ends_in_the_read_models_of_a_replay() {
    let seed: u64 = std::env::var("YICIBAN_ORDER_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(rand::random);
    eprintln!("delivery plan seed {seed} (YICIBAN_ORDER_SEED={seed} repeats it)");
    let mut rng = StdRng::seed_from_u64(seed);
    let app = spawn_app(false).await;
    app.clock.set(cst("2026-01-21T10:00"));
    let subjects = app.nats.subjects.clone();
    Relay::new(app.stores["intake"].clone(), app.nats.js.clone(), subjects.clone(), RelaySettings::default())
        .ensure_stream()
        .await
        .unwrap();

    // Every case's events stored first, in recorded order; then the plans.
    let mut plans: Vec<(Vec<EventEnvelope>, VecDeque<usize>)> = Vec::new();
    let mut stored = 0;
    for n in 0..CASES {
        let number: &'static str = Box::leak(format!("YCB-20260105-{:06}", 500 + n).into_boxed_str());
        let case = Case::new(number);
        let life = case.life();
        let steps = rng.random_range(1..=life.len());
        let mut events = Vec::with_capacity(steps);
        for planned in &life[..steps] {
            events.push(app.append_planned(case.id, planned).await);
        }
        stored += events.len();
        let plan = delivery_plan(&mut rng, &events);
        eprintln!("{number}: {steps} events, delivered as {plan:?}");
        plans.push((events, plan.into()));
    }

    // The cases' deliveries merged at random and published as a relay would,
    // but without `Nats-Msg-Id`: JetStream keeps every repeat, and the
    // consumer takes them in its chunks, mixed across cases.
    let mut published = 0;
    loop {
        let open: Vec<usize> = (0..plans.len()).filter(|&i| !plans[i].1.is_empty()).collect();
        if open.is_empty() {
            break;
        }
        let (events, plan) = &mut plans[open[rng.random_range(0..open.len())]];
        let e = &events[plan.pop_front().expect("a non-empty plan")];
        let department = (!e.department.is_empty()).then_some(e.department.as_str());
        let subject = subjects.event(department, &e.source, &e.case_id.parse().unwrap(), &e.event_type);
        app.nats.js.publish(subject, e.encode_to_vec().into()).await.unwrap().await.unwrap();
        published += 1;
    }
    eprintln!("{stored} events stored, {published} messages delivered");

    let pool = app.db.pool.clone();
    eventually("every message consumed and every event projected once", Duration::from_secs(60), || async {
        let projected: i64 =
            sqlx::query_scalar("SELECT count(*) FROM tracking.timeline").fetch_one(&pool).await.ok()?;
        let pending = app.consumer.pending().await.ok()?;
        (projected as usize == stored && pending == 0).then_some(())
    })
    .await;
    let poison: i64 =
        sqlx::query_scalar("SELECT count(*) FROM tracking.poison_messages").fetch_one(&pool).await.unwrap();
    assert_eq!(poison, 0, "no event was set aside");

    // The replay: a rebuild from the stores, compared row by row.
    let id = start(&app, "order-replay").await.unwrap();
    let done = eventually("the replay", Duration::from_secs(60), || async {
        let p = progress(&app, &id).await;
        assert_ne!(p.state, pb::RebuildState::Failed as i32, "{p:?}");
        (p.state == pb::RebuildState::Completed as i32).then_some(p)
    })
    .await;
    assert_eq!(done.events_applied as usize, stored);
    assert_eq!(active(&pool).await, "tracking_rebuild_1");
    assert_same_rows(&pool, "tracking", "tracking_rebuild_1").await;
}
