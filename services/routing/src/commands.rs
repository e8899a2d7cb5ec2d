//! Routing's command path: the plan streams (`plan-<case id>`) bound to the
//! shared [`CommandRunner`] by [`PlanCodec`], and the facts the pure
//! aggregate needs that only the service can make (fresh task ids). The plan
//! carries its case clock and version itself; routing keeps no rows beside
//! its streams (see [`crate::schema`]).

use tonic::Status;
use uuid::Uuid;
use yiciban_commands::{CommandRunner, EventCodec};
use yiciban_domain::routing::{CasePlan, Event, TaskIds};
use yiciban_eventstore::{NewEvent, StoredEvent};
use yiciban_proto::convert::ConvertError;
use yiciban_proto::convert::routing as convert;

/// How routing stores its plans: dispatches and cancellations go out on
/// their department's subject, everything else on the case's — the events
/// the lead department follows on its subject (`yiciban_proto::placement`).
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanCodec;

impl EventCodec for PlanCodec {
    type Aggregate = CasePlan;

    const NOUN: &'static str = "plan of case";

    fn encode(&self, after: &CasePlan, event: &Event) -> NewEvent {
        let (kind, payload) = convert::encode_event(event);
        let new = NewEvent::new(kind, payload);
        match event {
            Event::StepDispatched(d) => new.for_department(d.department.as_str()),
            Event::StepCancelled(c) => new.for_department(c.department.as_str()),
            _ => new.for_lead_of_case(after.lead_department.as_ref().map(|d| d.as_str())),
        }
    }

    /// The clock events (stops, resumptions) are timed by the metadata.
    fn decode(&self, stored: &StoredEvent) -> Result<Event, ConvertError> {
        convert::decode_event(&stored.event_type, &stored.payload, stored.metadata.occurred_at)
    }
}

/// The command runner over the plans.
pub type Plans = CommandRunner<PlanCodec>;

/// Fresh task ids for every step not dispatched yet.
pub fn fresh_task_ids<'a>(steps: impl Iterator<Item = &'a str>) -> TaskIds {
    steps.map(|s| (s.to_owned(), Uuid::now_v7())).collect()
}

/// `NOT_FOUND` of a case without a plan (never accepted, or not yet
/// planned): the same words as a plan hidden from a caller who may not see
/// it (`yiciban_platform::access::hidden(case, PLAN, …)`).
pub fn no_plan(case_id: Uuid) -> Status {
    Status::not_found(format!("{} {case_id} not found", PlanCodec::NOUN))
}

/// `NOT_FOUND` when the case was never planned.
pub fn planned(plan: &CasePlan, case_id: Uuid) -> Result<(), Status> {
    if plan.version == 0 { Err(no_plan(case_id)) } else { Ok(()) }
}

/// The plan of a case; `NOT_FOUND` when it was never planned.
pub async fn load_planned(plans: &Plans, case_id: Uuid) -> Result<CasePlan, Status> {
    let plan = plans.load(case_id).await?.map(|l| l.state).unwrap_or_default();
    planned(&plan, case_id)?;
    Ok(plan)
}
