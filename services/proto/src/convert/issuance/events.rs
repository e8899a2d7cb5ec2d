//! Every issuance event and its `yiciban.events.v1` message.

#[allow(clippy::wildcard_imports)]
use super::*;

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

impl From<&IssuancePrepared> for ev::IssuancePrepared {
    fn from(e: &IssuancePrepared) -> Self {
        ev::IssuancePrepared {
            case_number: e.case_number.to_string(),
            batch_number: e.batch_number,
            outcome: pb::CaseOutcome::from(e.outcome) as i32,
            documents: e.documents.iter().map(Into::into).collect(),
            method: pb::DeliveryMethod::from(e.method) as i32,
            issue_by: e.issue_by.map(pb::Date::from),
            early: e.early,
            early_reason: e.early_reason.clone(),
            final_batch: e.final_batch,
            promised_working_days: e.promised_working_days,
            working_days_used: e.working_days_used,
            decided_on_time: e.decided_on_time,
            lead_department: e.lead_department.as_ref().map(ToString::to_string).unwrap_or_default(),
        }
    }
}

impl TryFrom<&ev::IssuancePrepared> for IssuancePrepared {
    type Error = ConvertError;

    fn try_from(e: &ev::IssuancePrepared) -> Result<Self, ConvertError> {
        Ok(IssuancePrepared {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            batch_number: e.batch_number,
            // unset for an early batch, before the case is decided
            outcome: CaseOutcome::try_from(e.outcome()).ok(),
            documents: each(&e.documents, ResultDocument::try_from).at("documents")?,
            method: DeliveryMethod::try_from(e.method()).at("method")?,
            issue_by: optional_date(e.issue_by.as_ref()).at("issue_by")?,
            early: e.early,
            early_reason: e.early_reason.clone(),
            final_batch: e.final_batch,
            promised_working_days: e.promised_working_days,
            working_days_used: e.working_days_used,
            decided_on_time: e.decided_on_time,
            lead_department: optional_department(&e.lead_department).at("lead_department")?,
        })
    }
}

impl From<&PickupNotified> for ev::PickupNotified {
    fn from(e: &PickupNotified) -> Self {
        ev::PickupNotified {
            batch_number: e.batch_number,
            channel: pb::NotificationChannel::from(e.channel) as i32,
            pickup_location: e.pickup_location.clone(),
            pickup_by: e.pickup_by.map(pb::Date::from),
        }
    }
}

impl TryFrom<&ev::PickupNotified> for PickupNotified {
    type Error = ConvertError;

    fn try_from(e: &ev::PickupNotified) -> Result<Self, ConvertError> {
        Ok(PickupNotified {
            batch_number: e.batch_number,
            channel: NotificationChannel::try_from(e.channel()).at("channel")?,
            pickup_location: e.pickup_location.clone(),
            pickup_by: optional_date(e.pickup_by.as_ref()).at("pickup_by")?,
        })
    }
}

impl From<&PickedUp> for ev::PickedUp {
    fn from(e: &PickedUp) -> Self {
        ev::PickedUp {
            batch_number: e.batch_number,
            collector: Some((&e.collector).into()),
            document_numbers: e.document_numbers.clone(),
            receipt: e.receipt.as_ref().map(Into::into),
        }
    }
}

impl TryFrom<&ev::PickedUp> for PickedUp {
    type Error = ConvertError;

    fn try_from(e: &ev::PickedUp) -> Result<Self, ConvertError> {
        Ok(PickedUp {
            batch_number: e.batch_number,
            collector: required(e.collector.as_ref()).and_then(Collector::try_from).at("collector")?,
            document_numbers: e.document_numbers.clone(),
            receipt: e.receipt.as_ref().map(Into::into),
        })
    }
}

/// The collector on the wire, its masked identity in clear: what
/// [`super::encode_event`] then seals (or drops).
impl From<&Collector> for ev::Collector {
    fn from(c: &Collector) -> Self {
        ev::Collector {
            kind: pb::CollectorKind::from(c.kind) as i32,
            name_masked: c.name_masked.clone(),
            id_number_masked: c.id_number_masked.clone(),
            id_number_hmac: c.id_number_hmac.clone(),
            power_of_attorney: c.power_of_attorney.as_ref().map(Into::into),
            sealed_identity: Vec::new(),
            data_subject: c.data_subject.clone(),
            data_key_generation: 0,
        }
    }
}

/// The collector as the fold needs it: a sealed identity stays sealed (its
/// masked fields read empty, ADR 0031); one written in clear before sealing
/// reads as it was.
impl TryFrom<&ev::Collector> for Collector {
    type Error = ConvertError;

    fn try_from(c: &ev::Collector) -> Result<Self, ConvertError> {
        Ok(Collector {
            kind: CollectorKind::try_from(c.kind()).at("kind")?,
            name_masked: c.name_masked.clone(),
            id_number_masked: c.id_number_masked.clone(),
            id_number_hmac: c.id_number_hmac.clone(),
            data_subject: c.data_subject.clone(),
            power_of_attorney: c.power_of_attorney.as_ref().map(Into::into),
        })
    }
}

impl From<&Mailed> for ev::Mailed {
    fn from(e: &Mailed) -> Self {
        ev::Mailed {
            batch_number: e.batch_number,
            courier: e.courier.clone(),
            tracking_number: e.tracking_number.clone(),
            document_numbers: e.document_numbers.clone(),
        }
    }
}

impl From<&ev::Mailed> for Mailed {
    fn from(e: &ev::Mailed) -> Self {
        Mailed {
            batch_number: e.batch_number,
            courier: e.courier.clone(),
            tracking_number: e.tracking_number.clone(),
            document_numbers: e.document_numbers.clone(),
        }
    }
}

impl From<&DeliveryFailed> for ev::DeliveryFailed {
    fn from(e: &DeliveryFailed) -> Self {
        ev::DeliveryFailed {
            batch_number: e.batch_number,
            tracking_number: e.tracking_number.clone(),
            reason: pb::DeliveryFailureReason::from(e.reason) as i32,
            detail: e.detail.clone(),
            attempt: e.attempt,
        }
    }
}

impl TryFrom<&ev::DeliveryFailed> for DeliveryFailed {
    type Error = ConvertError;

    fn try_from(e: &ev::DeliveryFailed) -> Result<Self, ConvertError> {
        Ok(DeliveryFailed {
            batch_number: e.batch_number,
            tracking_number: e.tracking_number.clone(),
            reason: DeliveryFailureReason::try_from(e.reason()).at("reason")?,
            detail: e.detail.clone(),
            attempt: e.attempt,
        })
    }
}

impl From<&Delivered> for ev::Delivered {
    fn from(e: &Delivered) -> Self {
        ev::Delivered {
            batch_number: e.batch_number,
            method: pb::DeliveryMethod::from(e.method) as i32,
            tracking_number: e.tracking_number.clone(),
            delivered_at: Some(timestamp(e.delivered_at)),
            receipt: e.receipt.as_ref().map(Into::into),
        }
    }
}

impl TryFrom<&ev::Delivered> for Delivered {
    type Error = ConvertError;

    fn try_from(e: &ev::Delivered) -> Result<Self, ConvertError> {
        Ok(Delivered {
            batch_number: e.batch_number,
            method: DeliveryMethod::try_from(e.method()).at("method")?,
            tracking_number: e.tracking_number.clone(),
            delivered_at: required(e.delivered_at.as_ref()).and_then(instant).at("delivered_at")?,
            receipt: e.receipt.as_ref().map(Into::into),
        })
    }
}

impl From<&CaseClosed> for ev::CaseClosed {
    fn from(e: &CaseClosed) -> Self {
        ev::CaseClosed {
            case_number: e.case_number.to_string(),
            outcome: pb::CaseOutcome::from(e.outcome) as i32,
            closed_on: Some(e.closed_on.into()),
            working_days_used: e.working_days_used,
            promised_working_days: e.promised_working_days,
            on_time: e.on_time,
        }
    }
}

impl TryFrom<&ev::CaseClosed> for CaseClosed {
    type Error = ConvertError;

    fn try_from(e: &ev::CaseClosed) -> Result<Self, ConvertError> {
        Ok(CaseClosed {
            case_number: CaseNumber::parse(&e.case_number).at("case_number")?,
            outcome: CaseOutcome::try_from(e.outcome()).at("outcome")?,
            closed_on: date(e.closed_on.as_ref()).at("closed_on")?,
            working_days_used: e.working_days_used,
            promised_working_days: e.promised_working_days,
            on_time: e.on_time,
        })
    }
}

impl From<&RatingReceived> for ev::RatingReceived {
    fn from(e: &RatingReceived) -> Self {
        ev::RatingReceived {
            rating_id: e.rating_id.to_string(),
            score: e.score,
            comment: e.comment.clone(),
            indicators: e.indicators.iter().map(Into::into).collect(),
            real_name: e.real_name,
            department: e.department.as_ref().map(ToString::to_string).unwrap_or_default(),
            channel: pb::Channel::from(e.channel) as i32,
        }
    }
}

impl TryFrom<Recorded<'_, ev::RatingReceived>> for RatingReceived {
    type Error = ConvertError;

    fn try_from(Recorded { message: e, at }: Recorded<'_, ev::RatingReceived>) -> Result<Self, ConvertError> {
        Ok(RatingReceived {
            rating_id: uuid(&e.rating_id).at("rating_id")?,
            score: e.score,
            comment: e.comment.clone(),
            indicators: e.indicators.iter().map(Into::into).collect(),
            real_name: e.real_name,
            department: optional_department(&e.department).at("department")?,
            // Ratings stored before the channel was recorded came online.
            channel: Channel::try_from(e.channel()).unwrap_or(Channel::Online),
            at,
        })
    }
}

fn optional_department(value: &str) -> Result<Option<DepartmentCode>, ConvertError> {
    if value.is_empty() { Ok(None) } else { Ok(Some(DepartmentCode::parse(value)?)) }
}

impl From<&RectificationOpened> for ev::RectificationOpened {
    fn from(e: &RectificationOpened) -> Self {
        ev::RectificationOpened {
            rectification_id: e.rectification_id.to_string(),
            source: pb::RectificationSource::from(e.source) as i32,
            rating_id: e.rating_id.map(|r| r.to_string()).unwrap_or_default(),
            complaint: e.complaint.clone(),
            responsible_department: e.responsible_department.to_string(),
            due_by: Some(e.due_by.into()),
        }
    }
}

impl TryFrom<&ev::RectificationOpened> for RectificationOpened {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationOpened) -> Result<Self, ConvertError> {
        Ok(RectificationOpened {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            source: RectificationSource::try_from(e.source()).at("source")?,
            rating_id: optional_uuid(&e.rating_id).at("rating_id")?,
            complaint: e.complaint.clone(),
            responsible_department: DepartmentCode::parse(&e.responsible_department).at("responsible_department")?,
            due_by: date(e.due_by.as_ref()).at("due_by")?,
        })
    }
}

impl From<&RectificationVerified> for ev::RectificationVerified {
    fn from(e: &RectificationVerified) -> Self {
        ev::RectificationVerified {
            rectification_id: e.rectification_id.to_string(),
            finding: pb::RectificationFinding::from(e.finding) as i32,
            note: e.note.clone(),
            due_by: Some(e.due_by.into()),
        }
    }
}

impl TryFrom<&ev::RectificationVerified> for RectificationVerified {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationVerified) -> Result<Self, ConvertError> {
        Ok(RectificationVerified {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            finding: RectificationFinding::try_from(e.finding()).at("finding")?,
            note: e.note.clone(),
            due_by: date(e.due_by.as_ref()).at("due_by")?,
        })
    }
}

impl From<&RectificationRectified> for ev::RectificationRectified {
    fn from(e: &RectificationRectified) -> Self {
        ev::RectificationRectified {
            rectification_id: e.rectification_id.to_string(),
            measures: e.measures.clone(),
            evidence: e.evidence.iter().map(Into::into).collect(),
        }
    }
}

impl TryFrom<&ev::RectificationRectified> for RectificationRectified {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationRectified) -> Result<Self, ConvertError> {
        Ok(RectificationRectified {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            measures: e.measures.clone(),
            evidence: e.evidence.iter().map(Into::into).collect(),
        })
    }
}

impl From<&RectificationExplained> for ev::RectificationExplained {
    fn from(e: &RectificationExplained) -> Self {
        ev::RectificationExplained {
            rectification_id: e.rectification_id.to_string(),
            explanation: e.explanation.clone(),
            legal_basis: e.legal_basis.clone(),
        }
    }
}

impl TryFrom<&ev::RectificationExplained> for RectificationExplained {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationExplained) -> Result<Self, ConvertError> {
        Ok(RectificationExplained {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            explanation: e.explanation.clone(),
            legal_basis: e.legal_basis.clone(),
        })
    }
}

impl From<&RectificationClosed> for ev::RectificationClosed {
    fn from(e: &RectificationClosed) -> Self {
        ev::RectificationClosed {
            rectification_id: e.rectification_id.to_string(),
            applicant_satisfied: e.applicant_satisfied,
            note: e.note.clone(),
            on_time: e.on_time,
        }
    }
}

impl TryFrom<&ev::RectificationClosed> for RectificationClosed {
    type Error = ConvertError;

    fn try_from(e: &ev::RectificationClosed) -> Result<Self, ConvertError> {
        Ok(RectificationClosed {
            rectification_id: uuid(&e.rectification_id).at("rectification_id")?,
            applicant_satisfied: e.applicant_satisfied,
            note: e.note.clone(),
            on_time: e.on_time,
        })
    }
}

impl From<&RatingMarkedInvalid> for ev::RatingMarkedInvalid {
    fn from(e: &RatingMarkedInvalid) -> Self {
        ev::RatingMarkedInvalid {
            rating_id: e.rating_id.to_string(),
            reason: pb::InvalidRatingReason::from(e.reason) as i32,
            note: e.note.clone(),
        }
    }
}

impl TryFrom<&ev::RatingMarkedInvalid> for RatingMarkedInvalid {
    type Error = ConvertError;

    fn try_from(e: &ev::RatingMarkedInvalid) -> Result<Self, ConvertError> {
        Ok(RatingMarkedInvalid {
            rating_id: uuid(&e.rating_id).at("rating_id")?,
            reason: InvalidRatingReason::try_from(e.reason()).at("reason")?,
            note: e.note.clone(),
        })
    }
}

impl From<&ReturnVisitSampled> for ev::ReturnVisitSampled {
    fn from(e: &ReturnVisitSampled) -> Self {
        ev::ReturnVisitSampled {
            visit_id: e.visit_id.to_string(),
            sample_id: e.sample_id.to_string(),
            period: e.period.clone(),
            reason: pb::ReturnVisitSampleReason::from(e.reason) as i32,
        }
    }
}

impl TryFrom<&ev::ReturnVisitSampled> for ReturnVisitSampled {
    type Error = ConvertError;

    fn try_from(e: &ev::ReturnVisitSampled) -> Result<Self, ConvertError> {
        Ok(ReturnVisitSampled {
            visit_id: uuid(&e.visit_id).at("visit_id")?,
            sample_id: uuid(&e.sample_id).at("sample_id")?,
            period: e.period.clone(),
            reason: ReturnVisitSampleReason::try_from(e.reason()).at("reason")?,
        })
    }
}

impl From<&ReturnVisitRecorded> for ev::ReturnVisitRecorded {
    fn from(e: &ReturnVisitRecorded) -> Self {
        ev::ReturnVisitRecorded {
            visit_id: e.visit_id.to_string(),
            method: pb::ReturnVisitMethod::from(e.method) as i32,
            reached: e.reached,
            score: e.score,
            note: e.note.clone(),
            visited_at: Some(timestamp(e.visited_at)),
        }
    }
}

impl TryFrom<&ev::ReturnVisitRecorded> for ReturnVisitRecorded {
    type Error = ConvertError;

    fn try_from(e: &ev::ReturnVisitRecorded) -> Result<Self, ConvertError> {
        Ok(ReturnVisitRecorded {
            visit_id: uuid(&e.visit_id).at("visit_id")?,
            method: ReturnVisitMethod::try_from(e.method()).at("method")?,
            reached: e.reached,
            score: e.score,
            note: e.note.clone(),
            visited_at: required(e.visited_at.as_ref()).and_then(instant).at("visited_at")?,
        })
    }
}
