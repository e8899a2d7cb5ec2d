//! The opinion aggregate (意见、建议、投诉): received with its working-day
//! limit → assigned → answered → closed, or closed as unfounded at any
//! point before; escalated once when its limit passes unanswered; a return
//! visit recorded once it is answered. A complaint about a case may be
//! turned into a rectification (整改) on that case: the opinion records the
//! rectification's id once, for its page and its history. An answered
//! opinion may be drawn for a return visit (回访抽样) once, as a case is.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::aggregate::Aggregate;
use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection, Violations};

/// The most characters of a summary.
pub const SUMMARY_MAX_CHARS: usize = 1000;
/// The most characters of an answer.
pub const OPINION_ANSWER_MAX_CHARS: usize = 2000;
/// The most characters of a note (assignment, closing, return visit).
pub const NOTE_MAX_CHARS: usize = 500;
/// The most characters of a person's subject.
pub const PERSON_MAX_CHARS: usize = 64;

/// What an opinion is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpinionKind {
    /// 意见.
    Opinion,
    /// 建议.
    Suggestion,
    /// 投诉.
    Complaint,
}

/// How an opinion reached the centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpinionChannel {
    /// 好差评.
    Rating,
    /// 意见箱.
    SuggestionBox,
    /// 电子邮件.
    Email,
    /// 12345 热线.
    Hotline12345,
    /// 政务服务热线.
    ServiceHotline,
    /// 投诉平台.
    ComplaintPlatform,
}

/// Where an opinion stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum OpinionState {
    /// 已接收 (also the empty stream's state).
    #[default]
    Received,
    /// 已交办.
    Assigned,
    /// 已答复.
    Answered,
    /// 已办结.
    Closed,
}

impl OpinionState {
    /// The state in words, for refusals.
    pub fn as_str(self) -> &'static str {
        match self {
            OpinionState::Received => "received",
            OpinionState::Assigned => "assigned",
            OpinionState::Answered => "answered",
            OpinionState::Closed => "closed",
        }
    }

    /// Not answered yet and not closed: its limit runs.
    pub fn awaits_answer(self) -> bool {
        matches!(self, OpinionState::Received | OpinionState::Assigned)
    }
}

/// An opinion was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionReceived {
    /// The opinion: its stream is `opinion-<id>`.
    pub opinion_id: Uuid,
    /// What it is.
    pub kind: OpinionKind,
    /// How it came.
    pub channel: OpinionChannel,
    /// What it says, trimmed.
    pub summary: String,
    /// The case it concerns.
    pub case_id: Option<Uuid>,
    /// The department it concerns.
    pub department: Option<String>,
    /// The person it concerns.
    pub person: Option<String>,
    /// The day it came, in China.
    pub received_on: NaiveDate,
    /// The last working day to answer it.
    pub due_on: NaiveDate,
    /// The working days it has.
    pub limit_working_days: u32,
    /// The complainant's contact data was kept (sealed, outside the events).
    pub contact_kept: bool,
}

/// Assigned to a department and/or person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionAssigned {
    /// The opinion.
    pub opinion_id: Uuid,
    /// The department.
    pub department: Option<String>,
    /// The person.
    pub person: Option<String>,
    /// Why or how, for the assignee.
    pub note: String,
}

/// Answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionAnswered {
    /// The opinion.
    pub opinion_id: Uuid,
    /// The answer, trimmed.
    pub answer: String,
}

/// Closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionClosed {
    /// The opinion.
    pub opinion_id: Uuid,
    /// Found without ground (不属实).
    pub unfounded: bool,
    /// The closing note.
    pub note: String,
}

/// Past its limit unanswered: raised once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionEscalated {
    /// The opinion.
    pub opinion_id: Uuid,
    /// The limit it passed.
    pub due_on: NaiveDate,
    /// The day it was found overdue.
    pub escalated_on: NaiveDate,
    /// The department it was assigned to (or concerned) then.
    pub department: Option<String>,
}

/// A return visit on the opinion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionReturnVisitRecorded {
    /// The opinion.
    pub opinion_id: Uuid,
    /// The complainant was satisfied.
    pub satisfied: bool,
    /// What they said.
    pub note: String,
}

/// Why an opinion was drawn for a return visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpinionSampleReason {
    /// Every answered complaint of the month, when the run asks for them
    /// (as every real-name bad rating is for cases).
    Complaint,
    /// The run's seeded share of the month's answered opinions.
    Random,
}

/// Drawn for a return visit (回访抽样).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionReturnVisitSampled {
    /// The opinion.
    pub opinion_id: Uuid,
    /// The run that drew it (derived from the run's key).
    pub sample_id: Uuid,
    /// The month sampled, `YYYY-MM`.
    pub period: String,
    /// Why.
    pub reason: OpinionSampleReason,
}

/// A rectification (整改) was opened on the opinion's case for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpinionRectificationOpened {
    /// The opinion.
    pub opinion_id: Uuid,
    /// The rectification (issuance's id).
    pub rectification_id: Uuid,
    /// The case it is on: the opinion's.
    pub case_id: Uuid,
    /// The department responsible for it.
    pub department: String,
}

/// What an opinion's stream records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpinionEvent {
    /// Received.
    Received(OpinionReceived),
    /// Assigned.
    Assigned(OpinionAssigned),
    /// Answered.
    Answered(OpinionAnswered),
    /// Closed.
    Closed(OpinionClosed),
    /// Escalated.
    Escalated(OpinionEscalated),
    /// Return visit.
    ReturnVisitRecorded(OpinionReturnVisitRecorded),
    /// Turned into a rectification.
    RectificationOpened(OpinionRectificationOpened),
    /// Drawn for a return visit.
    ReturnVisitSampled(OpinionReturnVisitSampled),
}

/// Receive an opinion: the fields of [`OpinionReceived`], kind and channel
/// possibly missing (refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiveOpinion {
    /// The new opinion's id.
    pub opinion_id: Uuid,
    /// `None` is refused.
    pub kind: Option<OpinionKind>,
    /// `None` is refused.
    pub channel: Option<OpinionChannel>,
    /// 1..=[`SUMMARY_MAX_CHARS`] characters.
    pub summary: String,
    /// The case it concerns.
    pub case_id: Option<Uuid>,
    /// The department it concerns (a code checked by the service).
    pub department: Option<String>,
    /// The person it concerns, at most [`PERSON_MAX_CHARS`].
    pub person: Option<String>,
    /// Today, in China.
    pub received_on: NaiveDate,
    /// `limit_working_days` working days after `received_on`.
    pub due_on: NaiveDate,
    /// The limit of its kind.
    pub limit_working_days: u32,
    /// Contact data was kept.
    pub contact_kept: bool,
}

impl ReceiveOpinion {
    /// Every violation of the command (empty when it is well-formed).
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut v = Violations::default();
        if self.kind.is_none() {
            v.add("kind", "请选择类别（意见、建议或投诉）");
        }
        if self.channel.is_none() {
            v.add("channel", "请选择来源渠道");
        }
        v.text("summary", &self.summary, true, SUMMARY_MAX_CHARS, "内容摘要");
        if let Some(person) = &self.person {
            v.text("person", person, false, PERSON_MAX_CHARS, "涉及人员");
        }
        v.into_vec()
    }
}

/// Who answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answerer {
    /// A supervisor: any opinion.
    Supervisor,
    /// An agent: only those assigned to its department.
    Agent {
        /// The agent's department.
        department: String,
    },
}

/// What an opinion can be asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpinionCommand {
    /// Receive it (starts the stream).
    Receive(ReceiveOpinion),
    /// Assign it; `department: None` keeps the department it has.
    Assign {
        /// The department.
        department: Option<String>,
        /// The person.
        person: Option<String>,
        /// At most [`NOTE_MAX_CHARS`].
        note: String,
    },
    /// Answer it.
    Answer {
        /// 1..=[`OPINION_ANSWER_MAX_CHARS`] characters.
        answer: String,
        /// Who answers.
        by: Answerer,
    },
    /// Close it.
    Close {
        /// As unfounded.
        unfounded: bool,
        /// At most [`NOTE_MAX_CHARS`].
        note: String,
    },
    /// Escalate it if it is past its limit unanswered (the sweep).
    Escalate {
        /// Today, in China.
        today: NaiveDate,
    },
    /// Record a return visit.
    RecordReturnVisit {
        /// Satisfied.
        satisfied: bool,
        /// At most [`NOTE_MAX_CHARS`].
        note: String,
    },
    /// Record the rectification opened (by issuance) on the opinion's case
    /// for it: once; the same one again changes nothing.
    RecordRectification {
        /// Issuance's id of the rectification.
        rectification_id: Uuid,
        /// The department responsible (a code checked by the service).
        department: String,
    },
    /// Draw it for a return visit: once, and only once answered; one drawn
    /// before or visited already records nothing.
    SampleForReturnVisit {
        /// The run.
        sample_id: Uuid,
        /// The month sampled, `YYYY-MM` (checked by the service).
        period: String,
        /// Why.
        reason: OpinionSampleReason,
    },
}

/// Why an opinion command is refused; nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpinionError {
    /// Malformed: every violation.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The stream holds an opinion already.
    #[error("the opinion was received already")]
    AlreadyReceived,
    /// The stream is empty.
    #[error("no such opinion")]
    NoSuchOpinion,
    /// The state does not allow it.
    #[error("the opinion is {}; {action} needs it to be {needed}", .state.as_str())]
    WrongState {
        /// Where it stands.
        state: OpinionState,
        /// What was tried.
        action: &'static str,
        /// What it needs, in words.
        needed: &'static str,
    },
    /// An agent of a department it is not assigned to.
    #[error("the opinion is not assigned to department {0}")]
    NotAssignedTo(String),
    /// An escalation before the limit passed.
    #[error("the opinion is due on {due_on}; it is not overdue on {today}")]
    NotOverdue {
        /// Its limit.
        due_on: NaiveDate,
        /// The day asked about.
        today: NaiveDate,
    },
    /// A second return visit.
    #[error("a return visit on this opinion was recorded already")]
    AlreadyVisited,
    /// A rectification for an opinion that names no case.
    #[error("the opinion concerns no case; a rectification is opened on a case")]
    NoCase,
    /// A rectification for an opinion closed as unfounded.
    #[error("the opinion was closed as unfounded; it needs no rectification")]
    Unfounded,
    /// A second, different rectification.
    #[error("rectification {0} was opened for this opinion already")]
    AlreadyRectified(Uuid),
}

impl Refusal for OpinionError {
    fn kind(&self) -> ErrorKind {
        match self {
            OpinionError::Rejected(_) => ErrorKind::InvalidArgument,
            OpinionError::AlreadyReceived => ErrorKind::AlreadyExists,
            OpinionError::NoSuchOpinion | OpinionError::NotAssignedTo(_) => ErrorKind::NotFound,
            OpinionError::WrongState { .. }
            | OpinionError::NotOverdue { .. }
            | OpinionError::AlreadyVisited
            | OpinionError::NoCase
            | OpinionError::Unfounded
            | OpinionError::AlreadyRectified(_) => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            OpinionError::Rejected(r) => &r.violations,
            _ => &[],
        }
    }
}

/// An opinion as its stream holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Opinion {
    /// Events folded in.
    pub version: u64,
    /// As received; `None` for the empty stream.
    pub received: Option<OpinionReceived>,
    /// Where it stands.
    pub state: OpinionState,
    /// The department it is assigned to (or concerns, until assigned).
    pub department: Option<String>,
    /// The person it is assigned to (or concerns, until assigned).
    pub person: Option<String>,
    /// The answer.
    pub answer: Option<String>,
    /// Closed as unfounded.
    pub unfounded: bool,
    /// The escalation was raised.
    pub escalated: bool,
    /// The return visit: `Some(satisfied)`.
    pub return_visit: Option<bool>,
    /// The rectification opened for it.
    pub rectification_id: Option<Uuid>,
    /// Drawn for a return visit: by which run, why.
    pub sampled: Option<OpinionReturnVisitSampled>,
}

impl Opinion {
    /// Unanswered past its limit on `today`.
    pub fn overdue_on(&self, today: NaiveDate) -> bool {
        self.state.awaits_answer() && self.received.as_ref().is_some_and(|r| today > r.due_on)
    }

    fn wrong(&self, action: &'static str, needed: &'static str) -> OpinionError {
        OpinionError::WrongState { state: self.state, action, needed }
    }

    fn assign(&self, id: Uuid, department: Option<String>, person: Option<String>, note: String) -> Decided {
        if !self.state.awaits_answer() {
            return Err(self.wrong("assign", "received or assigned"));
        }
        let department = department.or_else(|| self.department.clone());
        let mut v = Violations::default();
        if department.is_none() && person.is_none() {
            v.add("department", "请指定承办部门或承办人");
        }
        if let Some(p) = &person {
            v.text("person", p, false, PERSON_MAX_CHARS, "承办人");
        }
        v.text("note", &note, false, NOTE_MAX_CHARS, "交办说明");
        v.finish()?;
        if self.state == OpinionState::Assigned && self.department == department && self.person == person {
            return Ok(vec![]);
        }
        Ok(vec![OpinionEvent::Assigned(OpinionAssigned {
            opinion_id: id,
            department,
            person,
            note: note.trim().to_owned(),
        })])
    }

    fn answer(&self, id: Uuid, answer: String, by: Answerer) -> Decided {
        if let Answerer::Agent { department } = &by
            && self.department.as_deref() != Some(department.as_str())
        {
            return Err(OpinionError::NotAssignedTo(department.clone()));
        }
        if self.state != OpinionState::Assigned {
            return Err(self.wrong("answer", "assigned"));
        }
        let mut v = Violations::default();
        v.text("answer", &answer, true, OPINION_ANSWER_MAX_CHARS, "答复内容");
        v.finish()?;
        Ok(vec![OpinionEvent::Answered(OpinionAnswered { opinion_id: id, answer: answer.trim().to_owned() })])
    }

    fn close(&self, id: Uuid, unfounded: bool, note: String) -> Decided {
        match self.state {
            OpinionState::Closed => return Err(self.wrong("close", "open")),
            OpinionState::Received | OpinionState::Assigned if !unfounded => {
                return Err(self.wrong("close (other than as unfounded)", "answered"));
            }
            _ => {}
        }
        let mut v = Violations::default();
        v.text("note", &note, unfounded, NOTE_MAX_CHARS, "办结说明");
        v.finish()?;
        Ok(vec![OpinionEvent::Closed(OpinionClosed { opinion_id: id, unfounded, note: note.trim().to_owned() })])
    }

    fn escalate(&self, received: &OpinionReceived, today: NaiveDate) -> Decided {
        if self.escalated || !self.state.awaits_answer() {
            return Ok(vec![]);
        }
        if today <= received.due_on {
            return Err(OpinionError::NotOverdue { due_on: received.due_on, today });
        }
        Ok(vec![OpinionEvent::Escalated(OpinionEscalated {
            opinion_id: received.opinion_id,
            due_on: received.due_on,
            escalated_on: today,
            department: self.department.clone(),
        })])
    }

    fn visit(&self, id: Uuid, satisfied: bool, note: String) -> Decided {
        if self.state.awaits_answer() || (self.state == OpinionState::Closed && self.answer.is_none()) {
            return Err(self.wrong("record a return visit", "answered"));
        }
        if self.return_visit.is_some() {
            return Err(OpinionError::AlreadyVisited);
        }
        let mut v = Violations::default();
        v.text("note", &note, false, NOTE_MAX_CHARS, "回访情况");
        v.finish()?;
        Ok(vec![OpinionEvent::ReturnVisitRecorded(OpinionReturnVisitRecorded {
            opinion_id: id,
            satisfied,
            note: note.trim().to_owned(),
        })])
    }

    fn sample(&self, id: Uuid, sample_id: Uuid, period: String, reason: OpinionSampleReason) -> Decided {
        if self.answer.is_none() {
            return Err(self.wrong("draw for a return visit", "answered"));
        }
        if self.sampled.is_some() || self.return_visit.is_some() {
            return Ok(vec![]);
        }
        Ok(vec![OpinionEvent::ReturnVisitSampled(OpinionReturnVisitSampled {
            opinion_id: id,
            sample_id,
            period,
            reason,
        })])
    }

    /// Drawn for a return visit and not visited yet (待回访).
    pub fn return_visit_due(&self) -> bool {
        self.sampled.is_some() && self.return_visit.is_none()
    }

    fn rectify(&self, received: &OpinionReceived, rectification_id: Uuid, department: String) -> Decided {
        let case_id = received.case_id.ok_or(OpinionError::NoCase)?;
        match self.rectification_id {
            Some(known) if known == rectification_id => return Ok(vec![]),
            Some(known) => return Err(OpinionError::AlreadyRectified(known)),
            None => {}
        }
        if self.state == OpinionState::Closed && self.unfounded {
            return Err(OpinionError::Unfounded);
        }
        let mut v = Violations::default();
        v.text("department", &department, true, PERSON_MAX_CHARS, "责任部门");
        v.finish()?;
        Ok(vec![OpinionEvent::RectificationOpened(OpinionRectificationOpened {
            opinion_id: received.opinion_id,
            rectification_id,
            case_id,
            department: department.trim().to_owned(),
        })])
    }
}

type Decided = Result<Vec<OpinionEvent>, OpinionError>;

impl Aggregate for Opinion {
    type Command = OpinionCommand;
    type Event = OpinionEvent;
    type Error = OpinionError;

    const STREAM: &'static str = "opinion";

    fn decide(&self, command: OpinionCommand) -> Decided {
        if let OpinionCommand::Receive(c) = command {
            if self.received.is_some() {
                return Err(OpinionError::AlreadyReceived);
            }
            let violations = c.violations();
            if !violations.is_empty() {
                return Err(Rejection { violations }.into());
            }
            return Ok(vec![OpinionEvent::Received(OpinionReceived {
                opinion_id: c.opinion_id,
                kind: c.kind.expect("checked above"),
                channel: c.channel.expect("checked above"),
                summary: c.summary.trim().to_owned(),
                case_id: c.case_id,
                department: c.department,
                person: c.person,
                received_on: c.received_on,
                due_on: c.due_on.max(c.received_on),
                limit_working_days: c.limit_working_days,
                contact_kept: c.contact_kept,
            })]);
        }
        let received = self.received.as_ref().ok_or(OpinionError::NoSuchOpinion)?;
        let id = received.opinion_id;
        match command {
            OpinionCommand::Receive(_) => unreachable!("handled above"),
            OpinionCommand::Assign { department, person, note } => self.assign(id, department, person, note),
            OpinionCommand::Answer { answer, by } => self.answer(id, answer, by),
            OpinionCommand::Close { unfounded, note } => self.close(id, unfounded, note),
            OpinionCommand::Escalate { today } => self.escalate(received, today),
            OpinionCommand::RecordReturnVisit { satisfied, note } => self.visit(id, satisfied, note),
            OpinionCommand::RecordRectification { rectification_id, department } => {
                self.rectify(received, rectification_id, department)
            }
            OpinionCommand::SampleForReturnVisit { sample_id, period, reason } => {
                self.sample(id, sample_id, period, reason)
            }
        }
    }

    fn evolve(mut self, event: &OpinionEvent) -> Self {
        self.version += 1;
        match event {
            OpinionEvent::Received(e) => {
                self.state = OpinionState::Received;
                self.department = e.department.clone();
                self.person = e.person.clone();
                self.received = Some(e.clone());
            }
            OpinionEvent::Assigned(e) => {
                self.state = OpinionState::Assigned;
                self.department = e.department.clone();
                self.person = e.person.clone();
            }
            OpinionEvent::Answered(e) => {
                self.state = OpinionState::Answered;
                self.answer = Some(e.answer.clone());
            }
            OpinionEvent::Closed(e) => {
                self.state = OpinionState::Closed;
                self.unfounded = e.unfounded;
            }
            OpinionEvent::Escalated(_) => self.escalated = true,
            OpinionEvent::ReturnVisitRecorded(e) => self.return_visit = Some(e.satisfied),
            OpinionEvent::RectificationOpened(e) => self.rectification_id = Some(e.rectification_id),
            OpinionEvent::ReturnVisitSampled(e) => self.sampled = Some(e.clone()),
        }
        self
    }

    fn version(&self) -> u64 {
        self.version
    }
}
