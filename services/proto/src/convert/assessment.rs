//! The assessment (ADR 0040): its enums both ways, the scoring rules and
//! scores between the domain and `yiciban.supervision.v1`, and the events of
//! the rule book and of an assessment stored as (type, bytes) by
//! [`encode_rules_event`] / [`decode_rules_event`] and
//! [`encode_assessment_event`] / [`decode_assessment_event`].

use prost::{Message, Name};
use yiciban_domain::refusal::FieldViolation;
use yiciban_domain::reporting::ReportPeriod;
use yiciban_domain::reporting::assessment::{
    AccountabilityMeasure, Assessment, AssessmentEvent, AssessmentFinalized, AssessmentKind, AssessmentRecorded,
    Evidence, FindingRecorded, Indicator, Measured, Rule, RulesEvent, RulesSet, ScoreLine, Scoring, ScoringRules,
    SubjectScore,
};

use crate::convert::wire::{At, ConvertError, enum_pair, uuid};
use crate::supervision::v1 as pb;

enum_pair!(Indicator, pb::AssessmentIndicator {
    OnTimeRate <=> OnTimeRate,
    BadRatingRate <=> BadRatingRate,
    Rectifications <=> Rectifications,
    ReportPunctuality <=> ReportPunctuality,
    OpinionsUpheld <=> OpinionsUpheld,
});

enum_pair!(AssessmentKind, pb::AssessmentKind {
    Departments <=> Departments,
    Persons <=> Persons,
});

enum_pair!(AccountabilityMeasure, pb::AccountabilityMeasure {
    None <=> Unspecified,
    Talk <=> Talk,
    CirculatedCriticism <=> CirculatedCriticism,
    OrderedRectification <=> OrderedRectification,
    Admonition <=> Admonition,
});

impl From<&ScoringRules> for pb::ScoringRules {
    fn from(rules: &ScoringRules) -> Self {
        pb::ScoringRules {
            rules: rules
                .rules
                .iter()
                .map(|r| {
                    let (method, points_each) = match r.scoring {
                        Scoring::Rate => (pb::ScoringMethod::Rate, 0.0),
                        Scoring::InverseRate => (pb::ScoringMethod::InverseRate, 0.0),
                        Scoring::Deduction { points_each } => (pb::ScoringMethod::Deduction, points_each),
                    };
                    pb::ScoringRule {
                        indicator: pb::AssessmentIndicator::from(r.indicator) as i32,
                        weight: r.weight,
                        method: method as i32,
                        points_each,
                    }
                })
                .collect(),
        }
    }
}

/// The rules of a request: every line with an indicator and a method, else
/// a violation for each that lacks one (the rest is the domain's check).
pub fn rules_from_request(rules: &pb::ScoringRules) -> Result<ScoringRules, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let mut lines = Vec::new();
    for (i, r) in rules.rules.iter().enumerate() {
        let indicator = Indicator::try_from(r.indicator());
        if indicator.is_err() {
            violations.push(FieldViolation::new(format!("rules[{i}].indicator"), "请选择考核指标"));
        }
        let scoring = match r.method() {
            pb::ScoringMethod::Rate => Some(Scoring::Rate),
            pb::ScoringMethod::InverseRate => Some(Scoring::InverseRate),
            pb::ScoringMethod::Deduction => Some(Scoring::Deduction { points_each: r.points_each }),
            pb::ScoringMethod::Unspecified => {
                violations.push(FieldViolation::new(format!("rules[{i}].method"), "请选择计分方法"));
                None
            }
        };
        if let (Ok(indicator), Some(scoring)) = (indicator, scoring) {
            lines.push(Rule { indicator, weight: r.weight, scoring });
        }
    }
    if violations.is_empty() { Ok(ScoringRules { rules: lines }) } else { Err(violations) }
}

fn rules_from_stored(rules: Option<&pb::ScoringRules>) -> Result<ScoringRules, ConvertError> {
    let rules = rules.ok_or_else(|| ConvertError::invalid("missing"))?;
    rules_from_request(rules).map_err(|v| ConvertError::invalid(format!("{} invalid", v[0].field)))
}

impl From<&SubjectScore> for pb::SubjectScore {
    fn from(s: &SubjectScore) -> Self {
        pb::SubjectScore {
            subject: s.subject.clone(),
            total: s.assessment.total,
            lines: s
                .assessment
                .lines
                .iter()
                .map(|l| pb::ScoreLine {
                    indicator: pb::AssessmentIndicator::from(l.indicator) as i32,
                    weight: l.weight,
                    points: l.points,
                    count: l.measured.count,
                    out_of: l.measured.out_of,
                    evidence: l
                        .measured
                        .evidence
                        .iter()
                        .map(|e| pb::Evidence {
                            kind: e.kind.clone(),
                            id: e.id.clone(),
                            case_id: e.case_id.clone().unwrap_or_default(),
                            counts: e.counts,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

fn subject_from_stored(s: &pb::SubjectScore) -> Result<SubjectScore, ConvertError> {
    let lines = s
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let indicator =
                Indicator::try_from(l.indicator()).at("indicator").map_err(|e| e.at(&format!("lines[{i}]")))?;
            Ok(ScoreLine {
                indicator,
                weight: l.weight,
                points: l.points,
                measured: Measured {
                    indicator,
                    count: l.count,
                    out_of: l.out_of,
                    evidence: l
                        .evidence
                        .iter()
                        .map(|e| Evidence {
                            kind: e.kind.clone(),
                            id: e.id.clone(),
                            case_id: (!e.case_id.is_empty()).then(|| e.case_id.clone()),
                            counts: e.counts,
                        })
                        .collect(),
                },
            })
        })
        .collect::<Result<Vec<_>, ConvertError>>()?;
    Ok(SubjectScore { subject: s.subject.clone(), assessment: Assessment { total: s.total, lines } })
}

fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
    M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
}

fn encoded<M: Message + Name>(m: M) -> (&'static str, Vec<u8>) {
    (M::NAME, m.encode_to_vec())
}

fn month(text: &str) -> Result<ReportPeriod, ConvertError> {
    ReportPeriod::parse(text).map_err(ConvertError::invalid)
}

/// A rule book event as stored.
pub fn encode_rules_event(event: &RulesEvent) -> (&'static str, Vec<u8>) {
    let RulesEvent::Set(set) = event;
    encoded(pb::ScoringRulesSet { version: set.version, rules: Some((&set.rules).into()) })
}

/// The rule book event of a stored type and payload.
pub fn decode_rules_event(event_type: &str, payload: &[u8]) -> Result<RulesEvent, ConvertError> {
    match event_type {
        pb::ScoringRulesSet::NAME => {
            let m: pb::ScoringRulesSet = message(payload)?;
            let rules = rules_from_stored(m.rules.as_ref()).at("rules").map_err(|e| e.at(pb::ScoringRulesSet::NAME))?;
            Ok(RulesEvent::Set(RulesSet { version: m.version, rules }))
        }
        other => Err(ConvertError::UnknownEventType(other.to_owned())),
    }
}

/// An assessment event as stored.
pub fn encode_assessment_event(event: &AssessmentEvent) -> (&'static str, Vec<u8>) {
    match event {
        AssessmentEvent::Recorded(r) => encoded(pb::AssessmentRecorded {
            assessment_id: r.assessment_id.to_string(),
            name: r.name.clone(),
            kind: pb::AssessmentKind::from(r.kind) as i32,
            from_month: r.from.to_string(),
            to_month: r.to.to_string(),
            rules_version: r.rules_version,
            rules: Some((&r.rules).into()),
            subjects: r.subjects.iter().map(Into::into).collect(),
        }),
        AssessmentEvent::FindingRecorded(f) => encoded(pb::AssessmentFindingRecorded {
            assessment_id: f.assessment_id.to_string(),
            finding_id: f.finding_id.to_string(),
            subject: f.subject.clone(),
            measure: pb::AccountabilityMeasure::from(f.measure) as i32,
            text: f.text.clone(),
        }),
        AssessmentEvent::Finalized(f) => {
            encoded(pb::AssessmentFinalized { assessment_id: f.assessment_id.to_string() })
        }
    }
}

/// The assessment event of a stored type and payload, validated again.
pub fn decode_assessment_event(event_type: &str, payload: &[u8]) -> Result<AssessmentEvent, ConvertError> {
    Ok(match event_type {
        pb::AssessmentRecorded::NAME => {
            let m: pb::AssessmentRecorded = message(payload)?;
            let at = |e: ConvertError| e.at(pb::AssessmentRecorded::NAME);
            AssessmentEvent::Recorded(AssessmentRecorded {
                assessment_id: uuid(&m.assessment_id).at("assessment_id").map_err(at)?,
                name: m.name.clone(),
                kind: AssessmentKind::try_from(m.kind()).at("kind").map_err(at)?,
                from: month(&m.from_month).at("from_month").map_err(at)?,
                to: month(&m.to_month).at("to_month").map_err(at)?,
                rules_version: m.rules_version,
                rules: rules_from_stored(m.rules.as_ref()).at("rules").map_err(at)?,
                subjects: m
                    .subjects
                    .iter()
                    .enumerate()
                    .map(|(i, s)| subject_from_stored(s).map_err(|e| at(e.at(&format!("subjects[{i}]")))))
                    .collect::<Result<_, _>>()?,
            })
        }
        pb::AssessmentFindingRecorded::NAME => {
            let m: pb::AssessmentFindingRecorded = message(payload)?;
            let at = |e: ConvertError| e.at(pb::AssessmentFindingRecorded::NAME);
            AssessmentEvent::FindingRecorded(FindingRecorded {
                assessment_id: uuid(&m.assessment_id).at("assessment_id").map_err(at)?,
                finding_id: uuid(&m.finding_id).at("finding_id").map_err(at)?,
                subject: m.subject.clone(),
                measure: AccountabilityMeasure::try_from(m.measure()).at("measure").map_err(at)?,
                text: m.text,
            })
        }
        pb::AssessmentFinalized::NAME => {
            let m: pb::AssessmentFinalized = message(payload)?;
            let at = |e: ConvertError| e.at(pb::AssessmentFinalized::NAME);
            AssessmentEvent::Finalized(AssessmentFinalized {
                assessment_id: uuid(&m.assessment_id).at("assessment_id").map_err(at)?,
            })
        }
        other => return Err(ConvertError::UnknownEventType(other.to_owned())),
    })
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn an_assessment_and_its_rules_read_back_as_they_were_stored() {
        let rules = ScoringRules::default();
        let measured = Measured {
            indicator: Indicator::OnTimeRate,
            count: 1,
            out_of: 2,
            evidence: vec![
                Evidence { kind: "task".into(), id: "t1".into(), case_id: Some("c1".into()), counts: true },
                Evidence { kind: "task".into(), id: "t2".into(), case_id: Some("c2".into()), counts: false },
            ],
        };
        let events = [
            AssessmentEvent::Recorded(AssessmentRecorded {
                assessment_id: Uuid::from_u128(1),
                name: "上半年".into(),
                kind: AssessmentKind::Persons,
                from: ReportPeriod::parse("2026-01").unwrap(),
                to: ReportPeriod::parse("2026-06").unwrap(),
                rules_version: 3,
                rules: rules.clone(),
                subjects: vec![SubjectScore { subject: "agent-samr-1".into(), assessment: rules.score(&[measured]) }],
            }),
            AssessmentEvent::FindingRecorded(FindingRecorded {
                assessment_id: Uuid::from_u128(1),
                finding_id: Uuid::from_u128(2),
                subject: "agent-samr-1".into(),
                measure: AccountabilityMeasure::Admonition,
                text: "超期".into(),
            }),
            AssessmentEvent::Finalized(AssessmentFinalized { assessment_id: Uuid::from_u128(1) }),
        ];
        for event in events {
            let (kind, payload) = encode_assessment_event(&event);
            assert_eq!(decode_assessment_event(kind, &payload).unwrap(), event);
        }
        let set = RulesEvent::Set(RulesSet { version: 2, rules });
        let (kind, payload) = encode_rules_event(&set);
        assert_eq!(decode_rules_event(kind, &payload).unwrap(), set);
    }

    #[test]
    fn a_rule_without_an_indicator_or_method_is_named_in_the_request() {
        let request = pb::ScoringRules {
            rules: vec![
                pb::ScoringRule { weight: 50.0, method: pb::ScoringMethod::Rate as i32, ..Default::default() },
                pb::ScoringRule {
                    indicator: pb::AssessmentIndicator::OnTimeRate as i32,
                    weight: 50.0,
                    ..Default::default()
                },
            ],
        };
        let fields: Vec<String> = rules_from_request(&request).unwrap_err().into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["rules[0].indicator", "rules[1].method"]);
    }
}
