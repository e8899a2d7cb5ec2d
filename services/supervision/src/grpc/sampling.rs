//! Return-visit draws of opinions (回访抽样, SampleOpinionReturnVisits): every
//! answered complaint of the month when asked, plus a seeded share of the
//! month's other answered opinions not visited or drawn yet — drawn as
//! cases are ([`yiciban_domain::sampling`]). Each pick is an
//! `OpinionReturnVisitSampled` on the opinion's own stream (recorded once,
//! whichever run asks); the run's id derives from its key, and its response
//! is kept as the store's idempotency record of a command without events of
//! its own ([`EventStore::remember_in`]), so a retry answers the first run.
//!
//! [`EventStore::remember_in`]: yiciban_eventstore::EventStore::remember_in

use prost::Message as _;
use tonic::{Request, Status};
use yiciban_commands::{Idempotency, Invocation, Target};
use yiciban_domain::sampling;
use yiciban_domain::supervision::{OpinionCommand, OpinionSampleReason};
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role};
use yiciban_proto::convert::supervision::opinion_to_pb;
use yiciban_proto::supervision::v1 as pb;

use super::{optional_department, refused, violation};
use crate::{Supervision, repo};

/// The share drawn when the request gives none, in percent.
pub const DEFAULT_SHARE_PERCENT: u32 = 10;

pub(super) async fn sample(
    state: &Supervision,
    request: Request<pb::SampleOpinionReturnVisitsRequest>,
) -> Result<pb::SampleOpinionReturnVisitsResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor], "draw opinions for return visits")?;
    let req = request.into_inner();
    let idempotency = Idempotency::of_request(&req.idempotency_key, &req, &caller.subject)?;
    let mut violations = Vec::new();
    let period = req.period.trim().to_owned();
    let bounds = super::queries::month(&period);
    match bounds {
        None => violations.push(violation("period", "抽样月份应写作 YYYY-MM")),
        Some((first, _)) if first > state.today() => violations.push(violation("period", "不能抽样未来的月份")),
        Some(_) => {}
    }
    if req.sample_percent > 100 {
        violations.push(violation("sample_percent", "抽样比例须为1至100（0为默认10%）"));
    }
    let department = optional_department("department", &req.department, &mut violations);
    if req.seed.chars().count() > 128 {
        violations.push(violation("seed", "随机种子不能超过128个字符"));
    }
    let Some((first, last)) = bounds.filter(|_| violations.is_empty()) else {
        return Err(refused(&violations));
    };
    let (pool, schema, store) = (state.pool(), state.schema(), state.opinions.store());
    let db = |e: sqlx::Error| internal("reading the return-visit draws", &e);
    if let Some(answer) = idempotency.replayed(store).await? {
        return Ok(answer);
    }
    let rows = repo::answered_unvisited(pool, schema, first, last, department.as_deref()).await.map_err(db)?;
    let mut population = Vec::new();
    let mut complaints = Vec::new();
    for (id, complaint, message) in rows {
        let o = pb::Opinion::decode(message.as_slice()).map_err(|e| internal("reading an opinion row", &e))?;
        if o.answer.is_empty() || o.return_visit != 0 || o.return_visit_sampled != 0 {
            continue;
        }
        if complaint && req.include_complaints {
            complaints.push(id);
        } else {
            population.push(id);
        }
    }
    let percent = if req.sample_percent == 0 { DEFAULT_SHARE_PERCENT } else { req.sample_percent };
    let seed = if req.seed.is_empty() { period.clone() } else { req.seed.clone() };
    let drawn = sampling::draw(&population, &seed, sampling::sample_size(population.len(), percent));
    let picks = complaints
        .iter()
        .map(|id| (*id, OpinionSampleReason::Complaint))
        .chain(drawn.into_iter().map(|id| (id, OpinionSampleReason::Random)));
    let sample_id = sampling::derived_id(&[b"opinion-sample", idempotency.stored_key().as_bytes()]);
    let today = state.today();
    let mut opinions = Vec::new();
    for (id, reason) in picks {
        // Keyed by nothing: the aggregate records an opinion's draw once.
        let invocation = Invocation::of(&caller, None, 0);
        let command = OpinionCommand::SampleForReturnVisit { sample_id, period: period.clone(), reason };
        let opinion = state
            .opinions
            .run(
                Target::Existing(id),
                &invocation,
                |_| Ok(command.clone()),
                |after, _| {
                    let ours = after.state.sampled.as_ref().is_some_and(|s| s.sample_id == sample_id);
                    // another run's draw: an empty message, left out below
                    ours.then(|| opinion_to_pb(&after.state, today, "")).flatten().unwrap_or_default()
                },
            )
            .await?
            .into_inner();
        if !opinion.opinion_id.is_empty() {
            opinions.push(opinion);
        }
    }
    let answer = pb::SampleOpinionReturnVisitsResponse {
        sample_id: sample_id.to_string(),
        opinions,
        population: u32::try_from(population.len() + complaints.len()).unwrap_or(u32::MAX),
    };
    let mut tx = pool.begin().await.map_err(db)?;
    if !store.remember_in(&mut tx, &idempotency.record(answer.encode_to_vec())).await.map_err(db)? {
        // A concurrent run of the same key won: answer what it stored.
        drop(tx);
        return idempotency
            .replayed(store)
            .await?
            .ok_or_else(|| Status::aborted("the draw was retried at once; retry"));
    }
    tx.commit().await.map_err(db)?;
    Ok(answer)
}
