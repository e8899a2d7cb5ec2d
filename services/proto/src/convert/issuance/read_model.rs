//! The `Issuance` message of GetIssuance, and its parts.

#[allow(clippy::wildcard_imports)]
use super::*;

// ---------------------------------------------------------------------------
// Read model
// ---------------------------------------------------------------------------

/// A batch on the wire.
impl From<&Batch> for api::Batch {
    fn from(b: &Batch) -> Self {
        api::Batch {
            batch_number: b.number,
            state: api::BatchState::from(b.state) as i32,
            method: pb::DeliveryMethod::from(b.method) as i32,
            documents: b.documents.iter().map(Into::into).collect(),
            early: b.early,
            final_batch: b.final_batch,
            issue_by: b.issue_by.map(pb::Date::from),
            courier: b.courier.clone(),
            tracking_number: b.tracking_number.clone(),
            failed_attempts: b.failed_attempts,
            collector_kind: pb::CollectorKind::from(b.collector_kind) as i32,
            delivered_at: b.delivered_at.map(timestamp),
        }
    }
}

/// A rating on the wire.
impl From<&Rating> for api::Rating {
    fn from(r: &Rating) -> Self {
        let e = &r.received;
        api::Rating {
            rating_id: e.rating_id.to_string(),
            score: e.score,
            comment: e.comment.clone(),
            indicators: e.indicators.iter().map(Into::into).collect(),
            real_name: e.real_name,
            department: e.department.as_ref().map(ToString::to_string).unwrap_or_default(),
            channel: pb::Channel::from(e.channel) as i32,
            rated_at: Some(timestamp(e.at)),
            invalid: r.invalid.is_some(),
            invalid_reason: pb::InvalidRatingReason::from(r.invalid) as i32,
        }
    }
}

/// A rectification on the wire.
impl From<&Rectification> for api::Rectification {
    fn from(r: &Rectification) -> Self {
        api::Rectification {
            rectification_id: r.id.to_string(),
            source: pb::RectificationSource::from(r.source) as i32,
            rating_id: r.rating_id.map(|id| id.to_string()).unwrap_or_default(),
            responsible_department: r.responsible_department.to_string(),
            state: api::RectificationState::from(r.state) as i32,
            finding: pb::RectificationFinding::from(r.finding) as i32,
            due_by: Some(r.due_by.into()),
            outcome_text: r.outcome_text.clone(),
            applicant_satisfied: r.applicant_satisfied,
        }
    }
}

/// A return visit on the wire.
impl From<&ReturnVisit> for api::ReturnVisit {
    fn from(v: &ReturnVisit) -> Self {
        let (method, reached, score, note) = match &v.result {
            Some((method, reached, score, note)) => (Some(*method), *reached, *score, note.clone()),
            None => (None, false, 0, String::new()),
        };
        api::ReturnVisit {
            visit_id: v.id.to_string(),
            reason: pb::ReturnVisitSampleReason::from(v.reason) as i32,
            period: v.period.clone(),
            recorded: v.result.is_some(),
            method: pb::ReturnVisitMethod::from(method) as i32,
            reached,
            score,
            note,
        }
    }
}

/// The `Issuance` message of a case's state.
pub fn issuance_to_pb(case_id: Uuid, s: &CaseIssuance) -> api::Issuance {
    api::Issuance {
        case_id: case_id.to_string(),
        case_number: s.case_number.map(|n| n.to_string()).unwrap_or_default(),
        outcome: pb::CaseOutcome::from(s.outcome) as i32,
        batches: s.batches.iter().map(Into::into).collect(),
        closed: s.closed(),
        closed_on: s.closed_on.map(pb::Date::from),
        ratings: s.ratings.iter().map(Into::into).collect(),
        rectifications: s.rectifications.iter().map(Into::into).collect(),
        return_visits: s.return_visits.iter().map(Into::into).collect(),
        version: s.version,
    }
}
