//! The supervision records (ADR 0037): their enums both ways, their events
//! stored as (type, bytes) by [`encode_consultation_event`] /
//! [`decode_consultation_event`] and [`encode_opinion_event`] /
//! [`decode_opinion_event`] (messages of `yiciban.supervision.v1`, not case
//! events: [`crate::events::EventPayload`] does not name them), and the read
//! models [`consultation_to_pb`] and [`opinion_to_pb`].

use chrono::{DateTime, NaiveDate, Utc};
use prost::{Message, Name};
use yiciban_domain::supervision::{
    Consultation, ConsultationChannel, ConsultationEvent, ConsultationLinkedToCase, ConsultationRecorded, Opinion,
    OpinionAnswered, OpinionAssigned, OpinionChannel, OpinionClosed, OpinionEscalated, OpinionEvent, OpinionKind,
    OpinionReceived, OpinionRectificationOpened, OpinionReturnVisitRecorded, OpinionReturnVisitSampled,
    OpinionSampleReason, OpinionState,
};

use crate::convert::wire::{At, ConvertError, date, enum_pair, optional_uuid, timestamp, uuid};
use crate::supervision::v1 as pb;

enum_pair!(ConsultationChannel, pb::ConsultationChannel {
    Window <=> Window,
    Phone <=> Phone,
    Hotline12345 <=> Hotline12345,
    Online <=> Online,
});

enum_pair!(OpinionKind, pb::OpinionKind {
    Opinion <=> Opinion,
    Suggestion <=> Suggestion,
    Complaint <=> Complaint,
});

enum_pair!(OpinionChannel, pb::OpinionChannel {
    Rating <=> Rating,
    SuggestionBox <=> SuggestionBox,
    Email <=> Email,
    Hotline12345 <=> Hotline12345,
    ServiceHotline <=> ServiceHotline,
    ComplaintPlatform <=> ComplaintPlatform,
});

enum_pair!(OpinionSampleReason, pb::OpinionSampleReason {
    Complaint <=> Complaint,
    Random <=> Random,
});

enum_pair!(OpinionState, pb::OpinionState {
    Received <=> Received,
    Assigned <=> Assigned,
    Answered <=> Answered,
    Closed <=> Closed,
});

fn text(value: &Option<String>) -> String {
    value.clone().unwrap_or_default()
}

fn optional(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn uuid_text(value: Option<uuid::Uuid>) -> String {
    value.map(|u| u.to_string()).unwrap_or_default()
}

fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
    M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
}

fn encoded<M: Message + Name>(m: M) -> (&'static str, Vec<u8>) {
    (M::NAME, m.encode_to_vec())
}

/// A consultation event as stored: its type (the message name) and bytes.
pub fn encode_consultation_event(event: &ConsultationEvent) -> (&'static str, Vec<u8>) {
    match event {
        ConsultationEvent::Recorded(e) => encoded(pb::ConsultationRecorded {
            consultation_id: e.consultation_id.to_string(),
            channel: pb::ConsultationChannel::from(e.channel) as i32,
            package_id: text(&e.package_id),
            department: e.department.clone(),
            recorder: e.recorder.clone(),
            question: e.question.clone(),
            answer: e.answer.clone(),
            became_application: e.became_application,
            case_id: uuid_text(e.case_id),
            contact_kept: e.contact_kept,
            recorded_on: Some(e.recorded_on.into()),
        }),
        ConsultationEvent::LinkedToCase(e) => encoded(pb::ConsultationLinkedToCase {
            consultation_id: e.consultation_id.to_string(),
            case_id: e.case_id.to_string(),
        }),
    }
}

/// The consultation event of a stored type and payload, validated again.
pub fn decode_consultation_event(event_type: &str, payload: &[u8]) -> Result<ConsultationEvent, ConvertError> {
    Ok(match event_type {
        pb::ConsultationRecorded::NAME => {
            let m: pb::ConsultationRecorded = message(payload)?;
            let at = |e: ConvertError| e.at(pb::ConsultationRecorded::NAME);
            ConsultationEvent::Recorded(ConsultationRecorded {
                consultation_id: uuid(&m.consultation_id).at("consultation_id").map_err(at)?,
                channel: ConsultationChannel::try_from(m.channel()).at("channel").map_err(at)?,
                package_id: optional(&m.package_id),
                department: m.department,
                recorder: m.recorder,
                question: m.question,
                answer: m.answer,
                became_application: m.became_application,
                case_id: optional_uuid(&m.case_id).at("case_id").map_err(at)?,
                contact_kept: m.contact_kept,
                recorded_on: date(m.recorded_on.as_ref()).at("recorded_on").map_err(at)?,
            })
        }
        pb::ConsultationLinkedToCase::NAME => {
            let m: pb::ConsultationLinkedToCase = message(payload)?;
            let at = |e: ConvertError| e.at(pb::ConsultationLinkedToCase::NAME);
            ConsultationEvent::LinkedToCase(ConsultationLinkedToCase {
                consultation_id: uuid(&m.consultation_id).at("consultation_id").map_err(at)?,
                case_id: uuid(&m.case_id).at("case_id").map_err(at)?,
            })
        }
        other => return Err(ConvertError::UnknownEventType(other.to_owned())),
    })
}

/// An opinion event as stored: its type (the message name) and bytes.
pub fn encode_opinion_event(event: &OpinionEvent) -> (&'static str, Vec<u8>) {
    match event {
        OpinionEvent::Received(e) => encoded(pb::OpinionReceived {
            opinion_id: e.opinion_id.to_string(),
            kind: pb::OpinionKind::from(e.kind) as i32,
            channel: pb::OpinionChannel::from(e.channel) as i32,
            summary: e.summary.clone(),
            case_id: uuid_text(e.case_id),
            department: text(&e.department),
            person: text(&e.person),
            received_on: Some(e.received_on.into()),
            due_on: Some(e.due_on.into()),
            limit_working_days: e.limit_working_days,
            contact_kept: e.contact_kept,
        }),
        OpinionEvent::Assigned(e) => encoded(pb::OpinionAssigned {
            opinion_id: e.opinion_id.to_string(),
            department: text(&e.department),
            person: text(&e.person),
            note: e.note.clone(),
        }),
        OpinionEvent::Answered(e) => {
            encoded(pb::OpinionAnswered { opinion_id: e.opinion_id.to_string(), answer: e.answer.clone() })
        }
        OpinionEvent::Closed(e) => encoded(pb::OpinionClosed {
            opinion_id: e.opinion_id.to_string(),
            unfounded: e.unfounded,
            note: e.note.clone(),
        }),
        OpinionEvent::Escalated(e) => encoded(pb::OpinionEscalated {
            opinion_id: e.opinion_id.to_string(),
            due_on: Some(e.due_on.into()),
            escalated_on: Some(e.escalated_on.into()),
            department: text(&e.department),
        }),
        OpinionEvent::ReturnVisitRecorded(e) => encoded(pb::OpinionReturnVisitRecorded {
            opinion_id: e.opinion_id.to_string(),
            satisfied: e.satisfied,
            note: e.note.clone(),
        }),
        OpinionEvent::ReturnVisitSampled(e) => encoded(pb::OpinionReturnVisitSampled {
            opinion_id: e.opinion_id.to_string(),
            sample_id: e.sample_id.to_string(),
            period: e.period.clone(),
            reason: pb::OpinionSampleReason::from(e.reason) as i32,
        }),
        OpinionEvent::RectificationOpened(e) => encoded(pb::OpinionRectificationOpened {
            opinion_id: e.opinion_id.to_string(),
            rectification_id: e.rectification_id.to_string(),
            case_id: e.case_id.to_string(),
            department: e.department.clone(),
        }),
    }
}

/// The opinion event of a stored type and payload, validated again.
pub fn decode_opinion_event(event_type: &str, payload: &[u8]) -> Result<OpinionEvent, ConvertError> {
    fn id(raw: &str, name: &str) -> Result<uuid::Uuid, ConvertError> {
        uuid(raw).at("opinion_id").map_err(|e| e.at(name))
    }
    Ok(match event_type {
        pb::OpinionReceived::NAME => {
            let m: pb::OpinionReceived = message(payload)?;
            let at = |e: ConvertError| e.at(pb::OpinionReceived::NAME);
            OpinionEvent::Received(OpinionReceived {
                opinion_id: id(&m.opinion_id, pb::OpinionReceived::NAME)?,
                kind: OpinionKind::try_from(m.kind()).at("kind").map_err(at)?,
                channel: OpinionChannel::try_from(m.channel()).at("channel").map_err(at)?,
                case_id: optional_uuid(&m.case_id).at("case_id").map_err(at)?,
                received_on: date(m.received_on.as_ref()).at("received_on").map_err(at)?,
                due_on: date(m.due_on.as_ref()).at("due_on").map_err(at)?,
                department: optional(&m.department),
                person: optional(&m.person),
                summary: m.summary,
                limit_working_days: m.limit_working_days,
                contact_kept: m.contact_kept,
            })
        }
        pb::OpinionAssigned::NAME => {
            let m: pb::OpinionAssigned = message(payload)?;
            OpinionEvent::Assigned(OpinionAssigned {
                opinion_id: id(&m.opinion_id, pb::OpinionAssigned::NAME)?,
                department: optional(&m.department),
                person: optional(&m.person),
                note: m.note,
            })
        }
        pb::OpinionAnswered::NAME => {
            let m: pb::OpinionAnswered = message(payload)?;
            OpinionEvent::Answered(OpinionAnswered {
                opinion_id: id(&m.opinion_id, pb::OpinionAnswered::NAME)?,
                answer: m.answer,
            })
        }
        pb::OpinionClosed::NAME => {
            let m: pb::OpinionClosed = message(payload)?;
            OpinionEvent::Closed(OpinionClosed {
                opinion_id: id(&m.opinion_id, pb::OpinionClosed::NAME)?,
                unfounded: m.unfounded,
                note: m.note,
            })
        }
        pb::OpinionEscalated::NAME => {
            let m: pb::OpinionEscalated = message(payload)?;
            let at = |e: ConvertError| e.at(pb::OpinionEscalated::NAME);
            OpinionEvent::Escalated(OpinionEscalated {
                opinion_id: id(&m.opinion_id, pb::OpinionEscalated::NAME)?,
                due_on: date(m.due_on.as_ref()).at("due_on").map_err(at)?,
                escalated_on: date(m.escalated_on.as_ref()).at("escalated_on").map_err(at)?,
                department: optional(&m.department),
            })
        }
        pb::OpinionReturnVisitRecorded::NAME => {
            let m: pb::OpinionReturnVisitRecorded = message(payload)?;
            OpinionEvent::ReturnVisitRecorded(OpinionReturnVisitRecorded {
                opinion_id: id(&m.opinion_id, pb::OpinionReturnVisitRecorded::NAME)?,
                satisfied: m.satisfied,
                note: m.note,
            })
        }
        pb::OpinionReturnVisitSampled::NAME => {
            let m: pb::OpinionReturnVisitSampled = message(payload)?;
            let at = |e: ConvertError| e.at(pb::OpinionReturnVisitSampled::NAME);
            OpinionEvent::ReturnVisitSampled(OpinionReturnVisitSampled {
                opinion_id: id(&m.opinion_id, pb::OpinionReturnVisitSampled::NAME)?,
                sample_id: uuid(&m.sample_id).at("sample_id").map_err(at)?,
                reason: OpinionSampleReason::try_from(m.reason()).at("reason").map_err(at)?,
                period: m.period,
            })
        }
        pb::OpinionRectificationOpened::NAME => {
            let m: pb::OpinionRectificationOpened = message(payload)?;
            let at = |e: ConvertError| e.at(pb::OpinionRectificationOpened::NAME);
            OpinionEvent::RectificationOpened(OpinionRectificationOpened {
                opinion_id: id(&m.opinion_id, pb::OpinionRectificationOpened::NAME)?,
                rectification_id: uuid(&m.rectification_id).at("rectification_id").map_err(at)?,
                case_id: uuid(&m.case_id).at("case_id").map_err(at)?,
                department: m.department,
            })
        }
        other => return Err(ConvertError::UnknownEventType(other.to_owned())),
    })
}

/// A consultation's read model; `recorded_at` is its first event's time.
/// `None` for the empty stream.
pub fn consultation_to_pb(state: &Consultation, recorded_at: DateTime<Utc>) -> Option<pb::Consultation> {
    let r = state.recorded.as_ref()?;
    Some(pb::Consultation {
        consultation_id: r.consultation_id.to_string(),
        channel: pb::ConsultationChannel::from(r.channel) as i32,
        package_id: text(&r.package_id),
        department: r.department.clone(),
        recorder: r.recorder.clone(),
        question: r.question.clone(),
        answer: r.answer.clone(),
        became_application: state.became_application(),
        case_id: uuid_text(state.case_id),
        contact_kept: r.contact_kept,
        recorded_at: Some(timestamp(recorded_at)),
        recorded_on: Some(r.recorded_on.into()),
    })
}

/// An opinion's read model as of `today` (whether it is overdue), with who
/// recorded it. `None` for the empty stream.
pub fn opinion_to_pb(state: &Opinion, today: NaiveDate, recorder: &str) -> Option<pb::Opinion> {
    let r = state.received.as_ref()?;
    Some(pb::Opinion {
        opinion_id: r.opinion_id.to_string(),
        kind: pb::OpinionKind::from(r.kind) as i32,
        channel: pb::OpinionChannel::from(r.channel) as i32,
        summary: r.summary.clone(),
        case_id: uuid_text(r.case_id),
        department: text(&state.department),
        person: text(&state.person),
        state: pb::OpinionState::from(state.state) as i32,
        received_on: Some(r.received_on.into()),
        due_on: Some(r.due_on.into()),
        overdue: state.overdue_on(today),
        escalated: state.escalated,
        answer: text(&state.answer),
        unfounded: state.unfounded,
        return_visit: match state.return_visit {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        },
        contact_kept: r.contact_kept,
        version: state.version,
        recorder: recorder.to_owned(),
        rectification_id: uuid_text(state.rectification_id),
        return_visit_sampled: state
            .sampled
            .as_ref()
            .map_or(pb::OpinionSampleReason::Unspecified, |s| pb::OpinionSampleReason::from(s.reason))
            as i32,
    })
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;
    use yiciban_domain::Aggregate;

    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 10, d).unwrap()
    }

    #[test]
    fn every_supervision_event_reads_back_as_it_was_stored() {
        let id = Uuid::from_u128(9);
        let consultation = [
            ConsultationEvent::Recorded(ConsultationRecorded {
                consultation_id: id,
                channel: ConsultationChannel::Online,
                package_id: Some("newborn".into()),
                department: "health".into(),
                recorder: "clerk-001".into(),
                question: "问".into(),
                answer: "答".into(),
                became_application: true,
                case_id: Some(Uuid::from_u128(3)),
                contact_kept: true,
                recorded_on: day(15),
            }),
            ConsultationEvent::LinkedToCase(ConsultationLinkedToCase { consultation_id: id, case_id: id }),
        ];
        for e in &consultation {
            let (t, bytes) = encode_consultation_event(e);
            assert_eq!(&decode_consultation_event(t, &bytes).unwrap(), e);
        }
        let opinion = [
            OpinionEvent::Received(OpinionReceived {
                opinion_id: id,
                kind: OpinionKind::Complaint,
                channel: OpinionChannel::ComplaintPlatform,
                summary: "投诉".into(),
                case_id: None,
                department: Some("samr".into()),
                person: None,
                received_on: day(15),
                due_on: day(22),
                limit_working_days: 5,
                contact_kept: false,
            }),
            OpinionEvent::Assigned(OpinionAssigned {
                opinion_id: id,
                department: None,
                person: Some("a".into()),
                note: String::new(),
            }),
            OpinionEvent::Answered(OpinionAnswered { opinion_id: id, answer: "答".into() }),
            OpinionEvent::Closed(OpinionClosed { opinion_id: id, unfounded: true, note: "n".into() }),
            OpinionEvent::Escalated(OpinionEscalated {
                opinion_id: id,
                due_on: day(22),
                escalated_on: day(23),
                department: None,
            }),
            OpinionEvent::ReturnVisitRecorded(OpinionReturnVisitRecorded {
                opinion_id: id,
                satisfied: false,
                note: String::new(),
            }),
            OpinionEvent::ReturnVisitSampled(OpinionReturnVisitSampled {
                opinion_id: id,
                sample_id: Uuid::from_u128(8),
                period: "2026-10".into(),
                reason: OpinionSampleReason::Complaint,
            }),
            OpinionEvent::RectificationOpened(OpinionRectificationOpened {
                opinion_id: id,
                rectification_id: Uuid::from_u128(9),
                case_id: Uuid::from_u128(3),
                department: "samr".into(),
            }),
        ];
        for e in &opinion {
            let (t, bytes) = encode_opinion_event(e);
            assert_eq!(&decode_opinion_event(t, &bytes).unwrap(), e);
        }
        let state = Opinion::replay(&opinion[..2]);
        let pb = opinion_to_pb(&state, day(23), "supervisor-001").unwrap();
        assert!(pb.overdue && pb.state == pb::OpinionState::Assigned as i32);
    }

    #[test]
    fn a_stored_opinion_without_its_kind_does_not_read_and_names_the_field() {
        let bytes = pb::OpinionReceived { opinion_id: Uuid::nil().to_string(), ..Default::default() }.encode_to_vec();
        let err = decode_opinion_event(pb::OpinionReceived::NAME, &bytes).unwrap_err();
        assert!(err.to_string().contains("OpinionReceived.kind"), "{err}");
        assert!(matches!(decode_opinion_event("TaskCreated", &[]), Err(ConvertError::UnknownEventType(_))));
    }
}
