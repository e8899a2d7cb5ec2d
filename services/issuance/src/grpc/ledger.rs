//! The lists across cases: ListRectifications (整改台账; an agent its own
//! department's, with one case's history on request) and ListRatings (the
//! ratings queue, supervisors). Pages are offsets into the query's order,
//! carried as an opaque decimal token.

use tonic::{Response, Status};
use uuid::Uuid;
use yiciban_domain::issuance::Event;
use yiciban_domain::values::DepartmentCode;
use yiciban_platform::status::internal;
use yiciban_platform::{Caller, Role};
use yiciban_proto::common::v1 as common;
use yiciban_proto::convert::issuance::decode_event;
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::issuance::v1 as pb;

use super::{IssuanceApi, RequestChecks as _, Violations};
use crate::ledger::{self, RectificationFilter};

/// Entries per page unless asked otherwise.
const DEFAULT_PAGE: u32 = 50;
/// The most entries a page holds.
const MAX_PAGE: u32 = 200;

/// The page size and offset of a request, checked into `v`.
pub(crate) fn page(v: &mut Violations, size: u32, token: &str) -> (i64, i64) {
    let size = match size {
        0 => DEFAULT_PAGE,
        n if n > MAX_PAGE => {
            v.add("page_size", format!("至多 {MAX_PAGE}"));
            DEFAULT_PAGE
        }
        n => n,
    };
    let offset = match token.trim() {
        "" => 0,
        t => t.parse::<u32>().unwrap_or_else(|_| {
            v.add("page_token", "不是本列表的翻页标记");
            0
        }),
    };
    (i64::from(size), i64::from(offset))
}

/// The token of the page after `offset` when `found` filled this one.
fn next_token(offset: i64, size: i64, more: bool) -> String {
    if more { (offset + size).to_string() } else { String::new() }
}

fn department(v: &mut Violations, raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    DepartmentCode::parse(raw).map(|d| d.as_str().to_owned()).map_err(|e| v.add("department", e.to_string())).ok()
}

/// The states asked for; every state but CLOSED when none.
fn states(v: &mut Violations, asked: &[i32]) -> Vec<i32> {
    if asked.is_empty() {
        use pb::RectificationState as S;
        return [S::Opened, S::Verified, S::Rectified, S::Explained].map(|s| s as i32).to_vec();
    }
    for s in asked {
        if matches!(pb::RectificationState::try_from(*s), Err(_) | Ok(pb::RectificationState::Unspecified)) {
            v.add("states", format!("未知的整改状态 {s}"));
        }
    }
    asked.to_vec()
}

/// ListRectifications. Callers: supervisor, agent (its own department's).
pub async fn list_rectifications(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::ListRectificationsRequest,
) -> Result<Response<pb::ListRectificationsResponse>, Status> {
    caller.require(&[Role::Agent, Role::Supervisor], "list rectifications")?;
    let mut v = Violations::default();
    let (size, offset) = page(&mut v, req.page_size, &req.page_token);
    let mut department = department(&mut v, &req.department);
    let states = states(&mut v, &req.states);
    let case_id = if req.case_id.trim().is_empty() { None } else { v.uuid("case_id", &req.case_id) };
    v.done()?;
    if caller.role == Role::Agent {
        let own = caller.department.clone().unwrap_or_default();
        if department.as_ref().is_some_and(|d| *d != own) {
            return Err(Status::permission_denied("an agent reads only its own department's rectifications"));
        }
        department = Some(own);
    }
    let iss = &api.issuance;
    let filter = RectificationFilter {
        states,
        department,
        overdue_only: req.overdue_only,
        case_id,
        today: iss.today(),
        limit: size + 1,
        offset,
    };
    let mut found = ledger::rectifications(iss.pool(), iss.schema(), &filter)
        .await
        .map_err(|e| internal("listing rectifications", &e))?;
    let more = found.len() as i64 > size;
    found.truncate(usize::try_from(size).unwrap_or(0));
    let history = match case_id {
        Some(case_id) if !found.is_empty() => history(api, case_id).await?,
        _ => Vec::new(),
    };
    let rectifications = found
        .into_iter()
        .map(|l| pb::RectificationEntry {
            case_id: l.case_id.to_string(),
            case_number: l.case_number,
            late: l.late,
            version: l.version,
            history: history
                .iter()
                .filter(|(id, _)| *id == l.entry.rectification_id)
                .map(|(_, step)| step.clone())
                .collect(),
            rectification: Some(l.entry),
        })
        .collect();
    Ok(Response::new(pb::ListRectificationsResponse {
        rectifications,
        next_page_token: next_token(offset, size, more),
    }))
}

/// The steps of a case's rectifications, oldest first, by rectification id.
async fn history(api: &IssuanceApi, case_id: Uuid) -> Result<Vec<(String, pb::RectificationStep)>, Status> {
    let stored = api.issuance.runner.store().read_case(case_id).await.map_err(|e| internal("reading the case", &e))?;
    let mut steps = Vec::new();
    for e in &stored {
        let event = decode_event(&e.event_type, &e.payload, e.metadata.occurred_at)
            .map_err(|err| internal("decoding the case's events", &err))?;
        let Some((id, state, text)) = step_of(&event) else { continue };
        let m = &e.metadata;
        let actor = common::Actor {
            subject: m.actor.clone(),
            role: common::Role::from_str_name(&m.role).unwrap_or(common::Role::Unspecified) as i32,
            department: m.actor_department.clone(),
        };
        let at = timestamp(m.occurred_at);
        steps.push((
            id.to_string(),
            pb::RectificationStep { at: Some(at), actor: Some(actor), state: state as i32, text },
        ));
    }
    Ok(steps)
}

/// The rectification an event is a step of, the state it led to and what
/// it recorded.
fn step_of(event: &Event) -> Option<(Uuid, pb::RectificationState, String)> {
    use pb::RectificationState as S;
    Some(match event {
        Event::RectificationOpened(e) => (e.rectification_id, S::Opened, e.complaint.clone()),
        Event::RectificationVerified(e) => (e.rectification_id, S::Verified, e.note.clone()),
        Event::RectificationRectified(e) => (e.rectification_id, S::Rectified, e.measures.clone()),
        Event::RectificationExplained(e) => {
            (e.rectification_id, S::Explained, format!("{}（依据：{}）", e.explanation, e.legal_basis))
        }
        Event::RectificationClosed(e) => (e.rectification_id, S::Closed, e.note.clone()),
        _ => return None,
    })
}

/// ListRatings. Caller: supervisor.
pub async fn list_ratings(
    api: &IssuanceApi,
    caller: &Caller,
    req: pb::ListRatingsRequest,
) -> Result<Response<pb::ListRatingsResponse>, Status> {
    caller.require(&[Role::Supervisor], "list ratings")?;
    let mut v = Violations::default();
    let (size, offset) = page(&mut v, req.page_size, &req.page_token);
    let department = department(&mut v, &req.department);
    v.done()?;
    let iss = &api.issuance;
    let mut found = ledger::ratings(iss.pool(), iss.schema(), req.bad_only, department.as_deref(), (size + 1, offset))
        .await
        .map_err(|e| internal("listing ratings", &e))?;
    let more = found.len() as i64 > size;
    found.truncate(usize::try_from(size).unwrap_or(0));
    let ratings = found
        .into_iter()
        .map(|l| pb::RatingEntry {
            case_id: l.case_id.to_string(),
            case_number: l.case_number,
            version: l.version,
            rating: Some(l.entry),
        })
        .collect();
    Ok(Response::new(pb::ListRatingsResponse { ratings, next_page_token: next_token(offset, size, more) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_bounded_and_its_token_is_an_offset() {
        let mut v = Violations::default();
        assert_eq!(page(&mut v, 0, ""), (50, 0));
        assert_eq!(page(&mut v, 200, "400"), (200, 400));
        assert!(v.is_empty());
        page(&mut v, 201, "x");
        let fields: Vec<_> = v.into_vec().into_iter().map(|f| f.field).collect();
        assert_eq!(fields, ["page_size", "page_token"]);
        assert_eq!(next_token(50, 50, true), "100");
        assert_eq!(next_token(50, 50, false), "");
    }

    #[test]
    fn no_state_asked_means_every_open_state_and_an_unknown_one_is_refused() {
        let mut v = Violations::default();
        assert_eq!(states(&mut v, &[]).len(), 4);
        assert!(!states(&mut v, &[]).contains(&(pb::RectificationState::Closed as i32)));
        states(&mut v, &[0, 99]);
        assert_eq!(v.into_vec().len(), 2);
    }
}
