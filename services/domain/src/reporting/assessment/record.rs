//! The two aggregates of the assessment. [`RulesBook`] (one stream,
//! `scoring-rules-<id>`) holds the office's scoring rules: each change is a
//! new version, validated, and every version stays readable. An
//! [`AssessmentRecord`] (`assessment-<id>`) is one run: the figures scored
//! for every department or person of a period, frozen with the rules
//! version they were scored by and the evidence behind each number, then
//! the findings and accountability measures recorded against its subjects
//! until it is finalised for the management committee.

use uuid::Uuid;

use super::{Assessment, ScoringRules};
use crate::Aggregate;
use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection, Violations};
use crate::reporting::ReportPeriod;

/// The longest name of an assessment, in characters.
pub const NAME_MAX_CHARS: usize = 100;
/// The longest text of a finding, in characters.
pub const FINDING_MAX_CHARS: usize = 2000;

/// Whom an assessment scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssessmentKind {
    /// Each department (部门考核).
    Departments,
    /// Each member of staff (个人考核).
    Persons,
}

/// An accountability measure (问责措施) recorded with a finding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountabilityMeasure {
    /// A finding only.
    #[default]
    None,
    /// 约谈: a talk with the person or the department's head.
    Talk,
    /// 通报批评: criticism circulated.
    CirculatedCriticism,
    /// 责令整改: ordered to rectify.
    OrderedRectification,
    /// 诫勉: an admonition.
    Admonition,
}

impl AccountabilityMeasure {
    /// Its name on the assessment; empty for none.
    pub fn label(self) -> &'static str {
        match self {
            AccountabilityMeasure::None => "",
            AccountabilityMeasure::Talk => "约谈",
            AccountabilityMeasure::CirculatedCriticism => "通报批评",
            AccountabilityMeasure::OrderedRectification => "责令整改",
            AccountabilityMeasure::Admonition => "诫勉",
        }
    }
}

/// One department's or person's score.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectScore {
    /// Department code or staff login.
    pub subject: String,
    /// Its total and lines, each with its evidence.
    pub assessment: Assessment,
}

/// A new version of the scoring rules.
#[derive(Debug, Clone, PartialEq)]
pub struct RulesSet {
    /// 1, 2, …: the stream's version after it.
    pub version: u32,
    /// The rules, valid.
    pub rules: ScoringRules,
}

/// What the rule book records.
#[derive(Debug, Clone, PartialEq)]
pub enum RulesEvent {
    /// A new version was set.
    Set(RulesSet),
}

/// What the rule book is asked.
#[derive(Debug, Clone, PartialEq)]
pub enum RulesCommand {
    /// Set these rules as the next version (nothing recorded when they are
    /// the version in force already).
    Set(ScoringRules),
}

/// Why the rule book refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RulesError {
    /// The rules are not valid (every problem listed).
    #[error(transparent)]
    Rejected(Rejection),
}

impl Refusal for RulesError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::InvalidArgument
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            RulesError::Rejected(r) => &r.violations,
        }
    }
}

/// The scoring rules as the office set them; before any version, the
/// defaults ([`ScoringRules::default`], version 0) are in force.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RulesBook {
    /// Events folded in.
    pub version: u64,
    /// The version in force; `None` before the first.
    pub current: Option<RulesSet>,
}

impl RulesBook {
    /// The rules in force and their version (0: the defaults).
    pub fn in_force(&self) -> (u32, ScoringRules) {
        self.current.as_ref().map_or_else(|| (0, ScoringRules::default()), |c| (c.version, c.rules.clone()))
    }
}

impl Aggregate for RulesBook {
    type Command = RulesCommand;
    type Event = RulesEvent;
    type Error = RulesError;

    const STREAM: &'static str = "scoring-rules";

    fn decide(&self, command: RulesCommand) -> Result<Vec<RulesEvent>, RulesError> {
        let RulesCommand::Set(rules) = command;
        rules.validate().map_err(RulesError::Rejected)?;
        if self.current.as_ref().is_some_and(|c| c.rules == rules) {
            return Ok(Vec::new());
        }
        let version = u32::try_from(self.version + 1).unwrap_or(u32::MAX);
        Ok(vec![RulesEvent::Set(RulesSet { version, rules })])
    }

    fn evolve(mut self, event: &RulesEvent) -> Self {
        let RulesEvent::Set(set) = event;
        self.current = Some(set.clone());
        self.version += 1;
        self
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// An assessment was run: its figures, frozen.
#[derive(Debug, Clone, PartialEq)]
pub struct AssessmentRecorded {
    /// Its id: the stream is `assessment-<id>`.
    pub assessment_id: Uuid,
    /// What the office calls it, e.g. "2026年上半年部门考核".
    pub name: String,
    /// Departments or persons.
    pub kind: AssessmentKind,
    /// First month of the period.
    pub from: ReportPeriod,
    /// Last month of the period (inclusive).
    pub to: ReportPeriod,
    /// The rules version it was scored by (0: the defaults).
    pub rules_version: u32,
    /// Those rules, as they were.
    pub rules: ScoringRules,
    /// One score per department or person, highest total first.
    pub subjects: Vec<SubjectScore>,
}

/// A finding (and an accountability measure) against a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingRecorded {
    /// Its assessment.
    pub assessment_id: Uuid,
    /// Its own id.
    pub finding_id: Uuid,
    /// The department or person of the assessment it concerns.
    pub subject: String,
    /// The measure taken, if any.
    pub measure: AccountabilityMeasure,
    /// What was found, in plain Chinese.
    pub text: String,
}

/// The assessment was finalised for the management committee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssessmentFinalized {
    /// Its assessment.
    pub assessment_id: Uuid,
}

/// What an assessment records.
#[derive(Debug, Clone, PartialEq)]
pub enum AssessmentEvent {
    Recorded(AssessmentRecorded),
    FindingRecorded(FindingRecorded),
    Finalized(AssessmentFinalized),
}

/// What an assessment is asked.
#[derive(Debug, Clone, PartialEq)]
pub enum AssessmentCommand {
    /// Record a run (the service measured and scored it).
    Record(AssessmentRecorded),
    /// Record a finding (nothing new when its id is recorded already).
    RecordFinding(FindingRecorded),
    /// Finalise it (nothing new when finalised already).
    Finalize,
}

/// Why an assessment refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AssessmentError {
    /// A malformed command (every problem listed).
    #[error(transparent)]
    Rejected(Rejection),
    /// The stream holds a run already.
    #[error("this assessment was recorded already")]
    AlreadyRecorded,
    /// Nothing was run under this id.
    #[error("no such assessment")]
    NotRecorded,
    /// Finalised: it takes no more findings.
    #[error("the assessment is finalised; no findings can be added")]
    Finalized,
}

impl Refusal for AssessmentError {
    fn kind(&self) -> ErrorKind {
        match self {
            AssessmentError::Rejected(_) => ErrorKind::InvalidArgument,
            AssessmentError::AlreadyRecorded => ErrorKind::AlreadyExists,
            AssessmentError::NotRecorded => ErrorKind::NotFound,
            AssessmentError::Finalized => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            AssessmentError::Rejected(r) => &r.violations,
            _ => &[],
        }
    }
}

/// One assessment as its stream holds it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssessmentRecord {
    /// Events folded in.
    pub version: u64,
    /// The run; `None` for the empty stream.
    pub recorded: Option<AssessmentRecorded>,
    /// The findings, in the order recorded.
    pub findings: Vec<FindingRecorded>,
    /// Finalised for the management committee.
    pub finalized: bool,
}

fn check_run(run: &AssessmentRecorded) -> Result<(), Rejection> {
    let mut v = Violations::default();
    let name = run.name.trim();
    if name.is_empty() {
        v.add("name", "请填写考核名称");
    } else if name.chars().count() > NAME_MAX_CHARS {
        v.add("name", format!("考核名称最长{NAME_MAX_CHARS}字"));
    }
    if run.to < run.from {
        v.add("to_month", "不能早于起始月份");
    }
    if let Err(r) = run.rules.validate() {
        for violation in r.violations {
            v.add(format!("rules.{}", violation.field), violation.description);
        }
    }
    v.finish()
}

impl AssessmentRecord {
    fn check_finding(&self, finding: &FindingRecorded) -> Result<(), AssessmentError> {
        let run = self.recorded.as_ref().ok_or(AssessmentError::NotRecorded)?;
        let mut v = Violations::default();
        if !run.subjects.iter().any(|s| s.subject == finding.subject) {
            v.add("subject", "须为本次考核的部门或人员");
        }
        let text = finding.text.trim();
        if text.is_empty() {
            v.add("text", "请填写发现的问题");
        } else if text.chars().count() > FINDING_MAX_CHARS {
            v.add("text", format!("最长{FINDING_MAX_CHARS}字"));
        }
        v.finish().map_err(AssessmentError::Rejected)?;
        if self.finalized {
            return Err(AssessmentError::Finalized);
        }
        Ok(())
    }
}

impl Aggregate for AssessmentRecord {
    type Command = AssessmentCommand;
    type Event = AssessmentEvent;
    type Error = AssessmentError;

    const STREAM: &'static str = "assessment";

    fn decide(&self, command: AssessmentCommand) -> Result<Vec<AssessmentEvent>, AssessmentError> {
        match command {
            AssessmentCommand::Record(run) => {
                if self.recorded.is_some() {
                    return Err(AssessmentError::AlreadyRecorded);
                }
                check_run(&run).map_err(AssessmentError::Rejected)?;
                Ok(vec![AssessmentEvent::Recorded(AssessmentRecorded { name: run.name.trim().to_owned(), ..run })])
            }
            AssessmentCommand::RecordFinding(finding) => {
                if self.findings.iter().any(|f| f.finding_id == finding.finding_id) {
                    return Ok(Vec::new());
                }
                self.check_finding(&finding)?;
                Ok(vec![AssessmentEvent::FindingRecorded(FindingRecorded {
                    text: finding.text.trim().to_owned(),
                    ..finding
                })])
            }
            AssessmentCommand::Finalize => {
                let run = self.recorded.as_ref().ok_or(AssessmentError::NotRecorded)?;
                if self.finalized {
                    return Ok(Vec::new());
                }
                Ok(vec![AssessmentEvent::Finalized(AssessmentFinalized { assessment_id: run.assessment_id })])
            }
        }
    }

    fn evolve(mut self, event: &AssessmentEvent) -> Self {
        match event {
            AssessmentEvent::Recorded(run) => self.recorded = Some(run.clone()),
            AssessmentEvent::FindingRecorded(f) => self.findings.push(f.clone()),
            AssessmentEvent::Finalized(_) => self.finalized = true,
        }
        self.version += 1;
        self
    }

    fn version(&self) -> u64 {
        self.version
    }
}
