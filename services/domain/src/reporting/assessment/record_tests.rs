//! Given / when / then: the rule book's versions and an assessment's run,
//! findings and finalisation.

use uuid::Uuid;

use super::*;
use crate::refusal::ErrorKind;
use crate::reporting::ReportPeriod;
use crate::testing::{given, given_commands};

fn id() -> Uuid {
    Uuid::from_u128(0xa5)
}

fn month(text: &str) -> ReportPeriod {
    ReportPeriod::parse(text).unwrap()
}

fn run() -> AssessmentRecorded {
    let measured = Measured { indicator: Indicator::OnTimeRate, count: 1, out_of: 2, evidence: Vec::new() };
    AssessmentRecorded {
        assessment_id: id(),
        name: "  2026年上半年部门考核 ".into(),
        kind: AssessmentKind::Departments,
        from: month("2026-01"),
        to: month("2026-06"),
        rules_version: 0,
        rules: ScoringRules::default(),
        subjects: vec![SubjectScore { subject: "samr".into(), assessment: ScoringRules::default().score(&[measured]) }],
    }
}

fn finding(n: u128, subject: &str) -> FindingRecorded {
    FindingRecorded {
        assessment_id: id(),
        finding_id: Uuid::from_u128(n),
        subject: subject.into(),
        measure: AccountabilityMeasure::Talk,
        text: " 超期办结两件 ".into(),
    }
}

#[test]
fn each_change_of_the_rules_is_a_new_version_and_the_defaults_are_version_zero() {
    assert_eq!(RulesBook::default().in_force(), (0, ScoringRules::default()));
    let mut rules = ScoringRules::default();
    rules.rules[0].weight = 30.0;
    rules.rules[1].weight = 30.0;
    let book = given::<RulesBook>([])
        .when(RulesCommand::Set(rules.clone()))
        .then(vec![RulesEvent::Set(RulesSet { version: 1, rules: rules.clone() })]);
    assert_eq!(book.in_force(), (1, rules.clone()));
    given::<RulesBook>([RulesEvent::Set(RulesSet { version: 1, rules: rules.clone() })])
        .when(RulesCommand::Set(rules))
        .then_nothing();
    // Weights of 60 in all: refused, the version in force stays.
    given_commands::<RulesBook>([RulesCommand::Set(ScoringRules::default())])
        .when(RulesCommand::Set(ScoringRules { rules: ScoringRules::default().rules[..2].to_vec() }))
        .then_rejected(&["rules"]);
}

#[test]
fn rules_that_do_not_weigh_100_or_repeat_an_indicator_are_refused_with_every_field() {
    let mut rules = ScoringRules::default();
    rules.rules[1].indicator = Indicator::OnTimeRate;
    let rejection = given::<RulesBook>([]).when(RulesCommand::Set(rules)).then_rejected(&["rules[1].indicator"]);
    assert_eq!(rejection.violations[0].description, "考核指标重复");
    let mut rules = ScoringRules::default();
    rules.rules[0].weight = 10.0;
    given::<RulesBook>([]).when(RulesCommand::Set(rules)).then_rejected(&["rules"]);
}

#[test]
fn an_assessment_is_recorded_once_with_its_name_trimmed() {
    let recorded = AssessmentRecorded { name: "2026年上半年部门考核".into(), ..run() };
    let state = given::<AssessmentRecord>([])
        .when(AssessmentCommand::Record(run()))
        .then(vec![AssessmentEvent::Recorded(recorded)]);
    assert!(!state.finalized && state.findings.is_empty());
    let kind = given_commands::<AssessmentRecord>([AssessmentCommand::Record(run())])
        .when(AssessmentCommand::Record(run()))
        .then_error(AssessmentError::AlreadyRecorded);
    assert_eq!(kind, ErrorKind::AlreadyExists);
    given::<AssessmentRecord>([])
        .when(AssessmentCommand::Record(AssessmentRecorded { name: " ".into(), from: month("2026-07"), ..run() }))
        .then_rejected(&["name", "to_month"]);
}

#[test]
fn findings_concern_a_subject_of_the_assessment_and_stop_when_it_is_finalised() {
    let recorded = [AssessmentCommand::Record(run())];
    let state = given_commands::<AssessmentRecord>(recorded.clone())
        .when(AssessmentCommand::RecordFinding(finding(1, "samr")))
        .then(vec![AssessmentEvent::FindingRecorded(FindingRecorded {
            text: "超期办结两件".into(),
            ..finding(1, "samr")
        })]);
    assert_eq!(state.findings.len(), 1);
    given_commands::<AssessmentRecord>([recorded[0].clone(), AssessmentCommand::RecordFinding(finding(1, "samr"))])
        .when(AssessmentCommand::RecordFinding(finding(1, "samr")))
        .then_nothing();
    given_commands::<AssessmentRecord>(recorded.clone())
        .when(AssessmentCommand::RecordFinding(FindingRecorded { text: String::new(), ..finding(2, "tax") }))
        .then_rejected(&["subject", "text"]);
    let finalized = [recorded[0].clone(), AssessmentCommand::Finalize];
    given_commands::<AssessmentRecord>(finalized.clone()).when(AssessmentCommand::Finalize).then_nothing();
    let kind = given_commands::<AssessmentRecord>(finalized)
        .when(AssessmentCommand::RecordFinding(finding(3, "samr")))
        .then_error(AssessmentError::Finalized);
    assert_eq!(kind, ErrorKind::FailedPrecondition);
    let kind = given::<AssessmentRecord>([]).when(AssessmentCommand::Finalize).then_error(AssessmentError::NotRecorded);
    assert_eq!(kind, ErrorKind::NotFound);
}
