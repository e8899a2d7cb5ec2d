//! The consultation aggregate (咨询登记): recorded once, linked to its case
//! at most once.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::aggregate::Aggregate;
use crate::refusal::{ErrorKind, FieldViolation, Refusal, Rejection, Violations};

/// The most characters of a question.
pub const QUESTION_MAX_CHARS: usize = 500;
/// The most characters of an answer.
pub const ANSWER_MAX_CHARS: usize = 1000;

/// How a consultation reached the centre.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConsultationChannel {
    /// At a window (窗口).
    Window,
    /// On the consultation phone (电话).
    Phone,
    /// Through the 12345 hotline.
    Hotline12345,
    /// Online (网上).
    Online,
}

/// A consultation was recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationRecorded {
    /// The consultation: its stream is `consultation-<id>`.
    pub consultation_id: Uuid,
    /// How it came.
    pub channel: ConsultationChannel,
    /// The package asked about.
    pub package_id: Option<String>,
    /// The department it counts for (the package's lead, else the
    /// recorder's); empty when neither is known.
    pub department: String,
    /// Who recorded it.
    pub recorder: String,
    /// The question, trimmed.
    pub question: String,
    /// The answer given, trimmed.
    pub answer: String,
    /// It became an application.
    pub became_application: bool,
    /// The case it became.
    pub case_id: Option<Uuid>,
    /// The asker's contact data was kept (sealed, outside the events).
    pub contact_kept: bool,
    /// The day, in China.
    pub recorded_on: NaiveDate,
}

/// A consultation was linked to the case it became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsultationLinkedToCase {
    /// The consultation.
    pub consultation_id: Uuid,
    /// The case.
    pub case_id: Uuid,
}

/// What a consultation's stream records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsultationEvent {
    /// Recorded.
    Recorded(ConsultationRecorded),
    /// Linked to its case.
    LinkedToCase(ConsultationLinkedToCase),
}

/// Record a consultation: the fields of [`ConsultationRecorded`], the
/// channel possibly missing (refused).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordConsultation {
    /// The new consultation's id.
    pub consultation_id: Uuid,
    /// How it came; `None` is refused.
    pub channel: Option<ConsultationChannel>,
    /// The package asked about (checked against the catalog by the service).
    pub package_id: Option<String>,
    /// The department it counts for.
    pub department: String,
    /// Who records it.
    pub recorder: String,
    /// 1..=[`QUESTION_MAX_CHARS`] characters.
    pub question: String,
    /// At most [`ANSWER_MAX_CHARS`] characters.
    pub answer: String,
    /// It became an application.
    pub became_application: bool,
    /// The case it became; only with `became_application`.
    pub case_id: Option<Uuid>,
    /// Contact data was kept.
    pub contact_kept: bool,
    /// Today, in China.
    pub recorded_on: NaiveDate,
}

impl RecordConsultation {
    /// Every violation of the command (empty when it is well-formed): the
    /// service adds its own (catalog, contact) and refuses all at once.
    pub fn violations(&self) -> Vec<FieldViolation> {
        let mut v = Violations::default();
        if self.channel.is_none() {
            v.add("channel", "请选择咨询渠道");
        }
        v.text("question", &self.question, true, QUESTION_MAX_CHARS, "咨询内容");
        v.text("answer", &self.answer, false, ANSWER_MAX_CHARS, "答复内容");
        if self.case_id.is_some() && !self.became_application {
            v.add("case_id", "未转为申请的咨询不能关联办件");
        }
        v.into_vec()
    }
}

/// What a consultation can be asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsultationCommand {
    /// Record it (starts the stream).
    Record(RecordConsultation),
    /// Link it to the case it became.
    LinkCase {
        /// The case.
        case_id: Uuid,
    },
}

/// Why a consultation command is refused; nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConsultationError {
    /// Malformed: every violation.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The stream holds a consultation already.
    #[error("the consultation was recorded already")]
    AlreadyRecorded,
    /// The stream is empty.
    #[error("no such consultation")]
    NoSuchConsultation,
    /// Linked to another case already.
    #[error("the consultation is linked to case {0} already")]
    LinkedElsewhere(Uuid),
}

impl Refusal for ConsultationError {
    fn kind(&self) -> ErrorKind {
        match self {
            ConsultationError::Rejected(_) => ErrorKind::InvalidArgument,
            ConsultationError::AlreadyRecorded => ErrorKind::AlreadyExists,
            ConsultationError::NoSuchConsultation => ErrorKind::NotFound,
            ConsultationError::LinkedElsewhere(_) => ErrorKind::FailedPrecondition,
        }
    }

    fn violations(&self) -> &[FieldViolation] {
        match self {
            ConsultationError::Rejected(r) => &r.violations,
            _ => &[],
        }
    }
}

/// A consultation as its stream holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Consultation {
    /// Events folded in.
    pub version: u64,
    /// As recorded; `None` for the empty stream.
    pub recorded: Option<ConsultationRecorded>,
    /// The case it became, recorded or linked.
    pub case_id: Option<Uuid>,
}

impl Consultation {
    /// It became an application (recorded so, or linked since).
    pub fn became_application(&self) -> bool {
        self.case_id.is_some() || self.recorded.as_ref().is_some_and(|r| r.became_application)
    }
}

impl Aggregate for Consultation {
    type Command = ConsultationCommand;
    type Event = ConsultationEvent;
    type Error = ConsultationError;

    const STREAM: &'static str = "consultation";

    fn decide(&self, command: ConsultationCommand) -> Result<Vec<ConsultationEvent>, ConsultationError> {
        match command {
            ConsultationCommand::Record(c) => {
                if self.recorded.is_some() {
                    return Err(ConsultationError::AlreadyRecorded);
                }
                let violations = c.violations();
                if !violations.is_empty() {
                    return Err(Rejection { violations }.into());
                }
                Ok(vec![ConsultationEvent::Recorded(ConsultationRecorded {
                    consultation_id: c.consultation_id,
                    channel: c.channel.expect("checked above"),
                    package_id: c.package_id,
                    department: c.department,
                    recorder: c.recorder,
                    question: c.question.trim().to_owned(),
                    answer: c.answer.trim().to_owned(),
                    became_application: c.became_application,
                    case_id: c.case_id,
                    contact_kept: c.contact_kept,
                    recorded_on: c.recorded_on,
                })])
            }
            ConsultationCommand::LinkCase { case_id } => {
                let recorded = self.recorded.as_ref().ok_or(ConsultationError::NoSuchConsultation)?;
                match self.case_id {
                    Some(linked) if linked == case_id => Ok(vec![]),
                    Some(linked) => Err(ConsultationError::LinkedElsewhere(linked)),
                    None => Ok(vec![ConsultationEvent::LinkedToCase(ConsultationLinkedToCase {
                        consultation_id: recorded.consultation_id,
                        case_id,
                    })]),
                }
            }
        }
    }

    fn evolve(mut self, event: &ConsultationEvent) -> Self {
        self.version += 1;
        match event {
            ConsultationEvent::Recorded(e) => {
                self.case_id = e.case_id;
                self.recorded = Some(e.clone());
            }
            ConsultationEvent::LinkedToCase(e) => self.case_id = Some(e.case_id),
        }
        self
    }

    fn version(&self) -> u64 {
        self.version
    }
}
