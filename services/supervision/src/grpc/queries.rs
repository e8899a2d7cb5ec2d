//! The lists, one opinion with its history, and the counts of a month.
//! Clerks and officers list their own consultations; agents see only the
//! opinions assigned to their department.

use chrono::{Datelike, NaiveDate};
use prost::Message;
use tonic::{Request, Status};
use yiciban_domain::Aggregate as _;
use yiciban_domain::supervision::{Opinion, OpinionEvent, OpinionSampleReason};
use yiciban_platform::read_log::{Purpose, Read};
use yiciban_platform::status::{from_store, internal};
use yiciban_platform::{Caller, FieldViolation, Role};
use yiciban_proto::convert::supervision::{decode_opinion_event, opinion_to_pb};
use yiciban_proto::convert::wire::{optional_date, timestamp};
use yiciban_proto::supervision::v1 as pb;

use super::{next_token, optional_department, page, refused, required_id, violation};
use crate::Supervision;
use crate::repo::{self, ConsultationFilter, CountRow, OpinionFilter};

/// The read log's name of the RPC that answers contact data in clear.
const GET_OPINION: &str = "/yiciban.supervision.v1.SupervisionService/GetOpinion";

/// The purpose of a read of a complainant's contact when the caller states
/// none.
const RETURN_VISIT: &str = "回访：联系投诉人";

fn enum_filter<E: TryFrom<i32> + Default + PartialEq + Copy + Into<i32>>(
    field: &str,
    raw: i32,
    violations: &mut Vec<FieldViolation>,
) -> Option<i32> {
    match E::try_from(raw) {
        Ok(e) if e == E::default() => None,
        Ok(e) => Some(e.into()),
        Err(_) => {
            violations.push(violation(field, "unknown value"));
            None
        }
    }
}

fn date_filter(
    field: &str,
    value: Option<&yiciban_proto::common::v1::Date>,
    v: &mut Vec<FieldViolation>,
) -> Option<NaiveDate> {
    optional_date(value).map_err(|_| v.push(violation(field, "不是有效的日期"))).ok().flatten()
}

pub(super) async fn consultations(
    state: &Supervision,
    request: Request<pb::ListConsultationsRequest>,
) -> Result<pb::ListConsultationsResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Clerk, Role::Officer, Role::Supervisor, Role::Admin], "list consultations")?;
    let req = request.into_inner();
    let mut v = Vec::new();
    let channel = enum_filter::<pb::ConsultationChannel>("channel", req.channel, &mut v);
    let department = optional_department("department", &req.department, &mut v);
    let (from, to) = (date_filter("from", req.from.as_ref(), &mut v), date_filter("to", req.to.as_ref(), &mut v));
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        v.push(violation("from", "开始日期不能晚于结束日期"));
    }
    let (offset, size) = page(req.page_size, &req.page_token, &mut v);
    if !v.is_empty() {
        return Err(refused(&v));
    }
    let (from, to) = if req.today { (Some(state.today()), Some(state.today())) } else { (from, to) };
    let recorder = match caller.role {
        Role::Clerk | Role::Officer => Some(caller.subject.clone()),
        _ => Some(req.recorder.trim().to_owned()).filter(|r| !r.is_empty()),
    };
    let filter = ConsultationFilter {
        channel,
        department,
        recorder,
        package_id: Some(req.package_id.trim().to_owned()).filter(|p| !p.is_empty()),
        from,
        to,
        offset,
        limit: size,
    };
    let (rows, total) = repo::list_consultations(state.pool(), state.schema(), &filter)
        .await
        .map_err(|e| internal("listing consultations", &e))?;
    let consultations = rows
        .iter()
        .map(|bytes| pb::Consultation::decode(bytes.as_slice()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| internal("reading a consultation row", &e))?;
    Ok(pb::ListConsultationsResponse {
        consultations,
        next_page_token: next_token(offset, size, total),
        total: u64::try_from(total).unwrap_or_default(),
    })
}

pub(super) async fn opinions(
    state: &Supervision,
    request: Request<pb::ListOpinionsRequest>,
) -> Result<pb::ListOpinionsResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor, Role::Admin, Role::Agent], "list opinions")?;
    let req = request.into_inner();
    let mut v = Vec::new();
    let kind = enum_filter::<pb::OpinionKind>("kind", req.kind, &mut v);
    let channel = enum_filter::<pb::OpinionChannel>("channel", req.channel, &mut v);
    let opinion_state = enum_filter::<pb::OpinionState>("state", req.state, &mut v);
    let mut department = optional_department("department", &req.department, &mut v);
    let (offset, size) = page(req.page_size, &req.page_token, &mut v);
    if !v.is_empty() {
        return Err(refused(&v));
    }
    if caller.role == Role::Agent {
        department = Some(caller.department.clone().unwrap_or_default());
    }
    let today = state.today();
    let filter = OpinionFilter {
        kind,
        channel,
        state: opinion_state,
        department,
        overdue_only: req.overdue_only,
        visit_due_only: req.return_visit_due,
        today: Some(today),
        offset,
        limit: size,
    };
    let (rows, total) = repo::list_opinions(state.pool(), state.schema(), &filter)
        .await
        .map_err(|e| internal("listing opinions", &e))?;
    let mut opinions = Vec::with_capacity(rows.len());
    for row in rows {
        let mut opinion =
            pb::Opinion::decode(row.opinion.as_slice()).map_err(|e| internal("reading an opinion row", &e))?;
        opinion.overdue = row.overdue;
        opinion.recorder = row.recorder;
        opinions.push(opinion);
    }
    Ok(pb::ListOpinionsResponse {
        opinions,
        next_page_token: next_token(offset, size, total),
        total: u64::try_from(total).unwrap_or_default(),
    })
}

pub(super) async fn opinion(
    state: &Supervision,
    request: Request<pb::GetOpinionRequest>,
) -> Result<pb::GetOpinionResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor, Role::Admin, Role::Agent], "read an opinion")?;
    let id = required_id("opinion_id", &request.get_ref().opinion_id)?;
    let reveal = request.get_ref().reveal_contact;
    if reveal {
        caller.require(&[Role::Supervisor], "read a complainant's contact in clear")?;
    }
    let purpose = Purpose::of(&request, RETURN_VISIT)?;
    let missing = || Status::not_found(format!("no opinion {id}"));
    let stored = state.opinions.store().read_stream(&Opinion::stream_id(id), 1).await.map_err(from_store)?;
    let mut opinion = Opinion::default();
    let mut history = Vec::with_capacity(stored.len());
    for e in &stored {
        let event =
            decode_opinion_event(&e.event_type, &e.payload).map_err(|err| internal("reading the opinion", &err))?;
        opinion = opinion.evolve(&event);
        history.push(pb::OpinionStep {
            event_type: e.event_type.clone(),
            text: describe(&event),
            actor: e.metadata.actor.clone(),
            at: Some(timestamp(e.metadata.occurred_at)),
        });
    }
    if caller.role == Role::Agent && opinion.department.as_deref() != caller.department.as_deref() {
        return Err(missing());
    }
    let recorder = stored.first().map(|e| e.metadata.actor.clone()).unwrap_or_default();
    let opinion = opinion_to_pb(&opinion, state.today(), &recorder).ok_or_else(missing)?;
    // Opened once: masked for the page, in clear only when asked (and the
    // read recorded); an agent gets neither.
    let opened = if caller.role == Role::Agent {
        None
    } else {
        crate::contacts::opened_of(state.pool(), state.schema(), &state.keys, id)
            .await
            .map_err(|e| internal("opening the contact data", &*e))?
    };
    let contact_masked = opened.as_ref().map(crate::contacts::masked);
    let contact = if reveal && opened.is_some() {
        let case = id.to_string();
        let read = Read { method: GET_OPINION, case: &case, fields: &["contact"], purpose: &purpose };
        state.read_log.record(&caller, read).await?;
        opened
    } else {
        None
    };
    Ok(pb::GetOpinionResponse { opinion: Some(opinion), history, contact_masked, contact })
}

/// One step of an opinion's history, in Chinese.
fn describe(event: &OpinionEvent) -> String {
    match event {
        OpinionEvent::Received(e) => format!("登记，答复期限 {}（{} 个工作日）", e.due_on, e.limit_working_days),
        OpinionEvent::Assigned(e) => format!(
            "交办给 {}{}",
            e.department.as_deref().unwrap_or("—"),
            e.person.as_deref().map(|p| format!("（{p}）")).unwrap_or_default()
        ),
        OpinionEvent::Answered(_) => "已答复".to_owned(),
        OpinionEvent::Closed(e) if e.unfounded => format!("以不属实办结：{}", e.note),
        OpinionEvent::Closed(_) => "已办结".to_owned(),
        OpinionEvent::Escalated(e) => format!("超过答复期限 {}，已升级督办", e.due_on),
        OpinionEvent::ReturnVisitRecorded(e) => {
            format!("回访：{}", if e.satisfied { "满意" } else { "不满意" })
        }
        OpinionEvent::RectificationOpened(e) => format!("转整改，责任部门 {}", e.department),
        OpinionEvent::ReturnVisitSampled(e) => format!(
            "抽中回访（{}，{}）",
            e.period,
            match e.reason {
                OpinionSampleReason::Complaint => "投诉全部回访",
                OpinionSampleReason::Random => "随机抽样",
            }
        ),
    }
}

/// `YYYY-MM` as its first and last day.
pub(super) fn month(raw: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (y, m) = raw.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    Some((first, next.pred_opt()?))
}

fn count(row: CountRow) -> pb::SupervisionCount {
    let n = |v: i64| u64::try_from(v).unwrap_or_default();
    pb::SupervisionCount {
        key: row.key,
        consultations: n(row.consultations),
        became_applications: n(row.became_applications),
        opinions: n(row.opinions),
        complaints: n(row.complaints),
        escalated: n(row.escalated),
        closed: n(row.closed),
    }
}

pub(super) async fn counts(
    state: &Supervision,
    request: Request<pb::CountSupervisionRequest>,
) -> Result<pb::CountSupervisionResponse, Status> {
    let caller = Caller::of(&request)?;
    caller.require(&[Role::Supervisor, Role::Admin], "count consultations and opinions")?;
    let raw = request.get_ref().month.clone();
    let (from, to) = month(&raw).ok_or_else(|| refused(&[violation("month", "应为 YYYY-MM 格式的月份")]))?;
    let mut answer =
        pb::CountSupervisionResponse { month: format!("{:04}-{:02}", from.year(), from.month()), ..Default::default() };
    for (by, into) in [
        ("department", &mut answer.by_department),
        ("package", &mut answer.by_package),
        ("person", &mut answer.by_person),
    ] {
        let rows = repo::counts(state.pool(), state.schema(), by, from, to)
            .await
            .map_err(|e| internal("counting consultations and opinions", &e))?;
        *into = rows.into_iter().map(count).collect();
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_is_its_first_to_its_last_day() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(month("2026-02"), Some((d(2026, 2, 1), d(2026, 2, 28))));
        assert_eq!(month("2026-12"), Some((d(2026, 12, 1), d(2026, 12, 31))));
        for bad in ["2026-13", "2026-1", "26-01", "2026/01", ""] {
            assert_eq!(month(bad), None, "{bad}");
        }
    }
}
