//! The supervision office's pages (ADR 0037): 咨询登记 (`/consultations`),
//! a quick form and the person's consultations of today, for clerks (at a
//! window or the hotline desk) and officers; and 意见处理 (`/opinions`),
//! the opinions queue — overdue unanswered ones first — for supervisors,
//! and for agents the opinions assigned to their department. The
//! supervision service decides who may read and record what.

use askama::Template;
use yiciban_proto::supervision::v1::{
    Consultation, ConsultationChannel, GetOpinionResponse, ListOpinionsResponse, Opinion, OpinionChannel, OpinionKind,
    OpinionState,
};

use super::decide::Sent;
use super::inbox::Choice;
use super::{Layout, format};

/// The channels a consultation comes through, as the form offers them.
pub const CHANNELS: [(&str, &str, ConsultationChannel); 4] = [
    ("window", "窗口", ConsultationChannel::Window),
    ("phone", "电话", ConsultationChannel::Phone),
    ("12345", "12345热线", ConsultationChannel::Hotline12345),
    ("online", "网上", ConsultationChannel::Online),
];

/// The channel a form value names (UNSPECIFIED for none: the service
/// refuses it next to the field).
pub fn channel_of(value: &str) -> ConsultationChannel {
    CHANNELS.iter().find(|(v, _, _)| *v == value).map_or(ConsultationChannel::Unspecified, |(_, _, c)| *c)
}

fn channel_label(c: ConsultationChannel) -> &'static str {
    CHANNELS.iter().find(|(_, _, x)| *x == c).map_or("—", |(_, label, _)| *label)
}

/// The form input a service's field violation is about (`None`: the whole
/// form).
pub fn input_of(field: &str) -> Option<String> {
    let input = match field {
        "channel" | "package_id" | "question" | "answer" | "case_number" => field,
        "case_id" | "became_application" => "case_number",
        "contact.name" => "contact_name",
        "contact.phone" => "contact_phone",
        _ => return None,
    };
    Some(input.to_owned())
}

/// One consultation of today.
#[derive(Debug, Clone)]
pub struct ConsultationRow {
    pub at: String,
    pub channel: &'static str,
    pub package: String,
    pub question: String,
    pub answer: String,
    pub applied: bool,
}

impl ConsultationRow {
    fn new(c: &Consultation) -> ConsultationRow {
        ConsultationRow {
            at: format::timestamp(c.recorded_at.as_ref()),
            channel: channel_label(c.channel()),
            package: c.package_id.clone(),
            question: c.question.clone(),
            answer: c.answer.clone(),
            applied: c.became_application,
        }
    }
}

/// `/consultations`.
#[derive(Debug, Template)]
#[template(path = "consultations.html")]
pub struct ConsultationsPage {
    pub layout: Layout,
    pub channels: Vec<Choice>,
    /// What was sent and what the service said about it.
    pub sent: Sent,
    /// This form's idempotency key: a double submit records once.
    pub key: String,
    /// `None` when the list could not be read (see `error`).
    pub rows: Option<Vec<ConsultationRow>>,
    pub done: bool,
    pub error: Option<String>,
}

impl ConsultationsPage {
    pub fn new(layout: Layout, sent: Sent, consultations: Option<&[Consultation]>) -> ConsultationsPage {
        let picked = sent.value("channel").to_owned();
        let channels = CHANNELS
            .iter()
            .map(|(value, label, _)| Choice {
                value: (*value).to_owned(),
                label: (*label).to_owned(),
                selected: picked == *value,
            })
            .collect();
        ConsultationsPage {
            layout,
            channels,
            sent,
            key: uuid::Uuid::now_v7().to_string(),
            rows: consultations.map(|list| list.iter().map(ConsultationRow::new).collect()),
            done: false,
            error: None,
        }
    }
}

fn kind_label(k: OpinionKind) -> &'static str {
    match k {
        OpinionKind::Opinion => "意见",
        OpinionKind::Suggestion => "建议",
        OpinionKind::Complaint => "投诉",
        OpinionKind::Unspecified => "—",
    }
}

fn opinion_channel_label(c: OpinionChannel) -> &'static str {
    match c {
        OpinionChannel::Rating => "好差评",
        OpinionChannel::SuggestionBox => "意见箱",
        OpinionChannel::Email => "电子邮件",
        OpinionChannel::Hotline12345 => "12345热线",
        OpinionChannel::ServiceHotline => "政务服务热线",
        OpinionChannel::ComplaintPlatform => "投诉平台",
        OpinionChannel::Unspecified => "—",
    }
}

fn state_label(s: OpinionState) -> &'static str {
    match s {
        OpinionState::Received => "已接收",
        OpinionState::Assigned => "已交办",
        OpinionState::Answered => "已答复",
        OpinionState::Closed => "已办结",
        OpinionState::Unspecified => "—",
    }
}

/// One opinion of the queue.
#[derive(Debug, Clone)]
pub struct OpinionRow {
    pub href: String,
    pub kind: &'static str,
    pub channel: &'static str,
    pub summary: String,
    pub department: String,
    pub person: String,
    pub state: &'static str,
    pub received_on: String,
    pub due_on: String,
    pub overdue: bool,
    pub escalated: bool,
    /// Drawn for a return visit, not visited yet.
    pub visit_due: bool,
}

impl OpinionRow {
    fn new(o: &Opinion) -> OpinionRow {
        OpinionRow {
            href: format!("/opinions/{}", o.opinion_id),
            kind: kind_label(o.kind()),
            channel: opinion_channel_label(o.channel()),
            summary: o.summary.clone(),
            department: o.department.clone(),
            person: o.person.clone(),
            state: state_label(o.state()),
            received_on: format::date(o.received_on.as_ref()),
            due_on: format::date(o.due_on.as_ref()),
            overdue: o.overdue,
            escalated: o.escalated,
            visit_due: o.return_visit_sampled != 0 && o.return_visit == 0,
        }
    }
}

/// What the opinions queue shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OpinionsQuery {
    /// Only overdue unanswered ones (`overdue=1`).
    pub overdue_only: bool,
    /// Only those drawn for a return visit and not visited yet
    /// (`visit_due=1`, 待回访).
    pub visit_due_only: bool,
}

/// The return-visit draw form (回访抽样) of the queue, for supervisors.
#[derive(Debug, Clone)]
pub struct SampleForm {
    pub key: String,
    /// The month offered: this one.
    pub period: String,
    pub sent: Sent,
}

impl SampleForm {
    /// A fresh form for `period`, or the refused one with `sent`.
    pub fn new(period: String, sent: Sent) -> SampleForm {
        SampleForm { key: uuid::Uuid::now_v7().to_string(), period, sent }
    }

    /// The form input a service's field violation is about.
    pub fn input_of(field: &str) -> Option<String> {
        matches!(field, "period" | "sample_percent" | "department" | "seed").then(|| field.to_owned())
    }
}

/// `/opinions`.
#[derive(Debug, Template)]
#[template(path = "opinions.html")]
pub struct OpinionsPage {
    pub layout: Layout,
    pub query: OpinionsQuery,
    /// `None` when the list could not be read (see `error`).
    pub rows: Option<Vec<OpinionRow>>,
    pub total: u64,
    pub next_page: Option<String>,
    pub error: Option<String>,
    /// The draw form, for supervisors.
    pub sample: Option<SampleForm>,
    /// How many the last draw drew (`drawn=`).
    pub drawn: Option<u32>,
}

impl OpinionsPage {
    pub fn new(layout: Layout, query: OpinionsQuery, answer: Option<&ListOpinionsResponse>) -> OpinionsPage {
        let href = |token: &str| {
            let mut q = form_urlencoded::Serializer::new(String::new());
            if query.overdue_only {
                q.append_pair("overdue", "1");
            }
            if query.visit_due_only {
                q.append_pair("visit_due", "1");
            }
            q.append_pair("page", token);
            format!("/opinions?{}", q.finish())
        };
        OpinionsPage {
            layout,
            query,
            rows: answer.map(|a| a.opinions.iter().map(OpinionRow::new).collect()),
            total: answer.map_or(0, |a| a.total),
            next_page: answer.filter(|a| !a.next_page_token.is_empty()).map(|a| href(&a.next_page_token)),
            error: None,
            sample: None,
            drawn: None,
        }
    }
}

/// One action of the opinion page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpinionAction {
    Assign,
    Answer,
    Close,
    Visit,
    /// 转整改: a rectification opened on the opinion's case (supervisors).
    Rectify,
}

impl OpinionAction {
    /// The last segment of `POST /opinions/{id}/<segment>` and the page's
    /// `done` value.
    pub fn segment(self) -> &'static str {
        match self {
            OpinionAction::Assign => "assign",
            OpinionAction::Answer => "answer",
            OpinionAction::Close => "close",
            OpinionAction::Visit => "visit",
            OpinionAction::Rectify => "rectify",
        }
    }

    pub fn of_segment(segment: &str) -> Option<OpinionAction> {
        use OpinionAction::*;
        [Assign, Answer, Close, Visit, Rectify].into_iter().find(|a| a.segment() == segment)
    }

    /// What the page confirms after the action went through.
    pub fn confirmation(self) -> &'static str {
        match self {
            OpinionAction::Assign => "已交办。",
            OpinionAction::Answer => "答复已记录。",
            OpinionAction::Close => "已办结。",
            OpinionAction::Visit => "回访已记录。",
            OpinionAction::Rectify => "已转整改，整改由责任部门办理。",
        }
    }

    /// The form input a service's field violation is about (issuance names
    /// the rectification's department `responsible_department`).
    pub fn input_of(self, field: &str) -> Option<String> {
        match field {
            "department" | "person" | "note" | "answer" => Some(field.to_owned()),
            "responsible_department" if self == OpinionAction::Rectify => Some("department".to_owned()),
            _ => None,
        }
    }

    /// The actions `role` may take on opinion `o` (the service decides
    /// again).
    pub fn offered(role: yiciban_platform::Role, o: &Opinion) -> Vec<OpinionAction> {
        use yiciban_platform::Role;
        let (state, answered) = (o.state(), !o.answer.is_empty());
        let awaiting = matches!(state, OpinionState::Received | OpinionState::Assigned);
        let mut actions = Vec::new();
        if role == Role::Supervisor && awaiting {
            actions.push(OpinionAction::Assign);
        }
        if matches!(role, Role::Supervisor | Role::Agent) && state == OpinionState::Assigned {
            actions.push(OpinionAction::Answer);
        }
        if role == Role::Supervisor && state != OpinionState::Closed {
            actions.push(OpinionAction::Close);
        }
        if matches!(role, Role::Supervisor | Role::Officer) && answered && !awaiting {
            actions.push(OpinionAction::Visit);
        }
        let unfounded = state == OpinionState::Closed && o.unfounded;
        if role == Role::Supervisor && !o.case_id.is_empty() && o.rectification_id.is_empty() && !unfounded {
            actions.push(OpinionAction::Rectify);
        }
        actions
    }
}

/// One step of an opinion's history.
#[derive(Debug, Clone)]
pub struct StepRow {
    pub at: String,
    pub who: String,
    pub text: String,
}

/// One form of the opinion page.
#[derive(Debug, Clone)]
pub struct OpinionForm {
    pub action: String,
    pub version: u64,
    pub key: String,
    pub sent: Sent,
}

/// `/opinions/{id}`.
#[derive(Debug, Template)]
#[template(path = "opinion.html")]
pub struct OpinionPage {
    pub layout: Layout,
    pub row: OpinionRow,
    /// The case it concerns: its page.
    pub case_href: Option<String>,
    /// The rectification opened for it: its page.
    pub rectification_href: Option<String>,
    pub answer: String,
    pub contact: String,
    pub history: Vec<StepRow>,
    pub forms: Vec<(OpinionAction, OpinionForm)>,
    pub done: Option<&'static str>,
}

impl OpinionPage {
    /// The page of `answer` for `role`; `refused` is a form sent back with
    /// what the service said.
    pub fn new(
        layout: Layout,
        answer: &GetOpinionResponse,
        role: yiciban_platform::Role,
        refused: Option<(OpinionAction, Sent)>,
    ) -> Option<OpinionPage> {
        let o = answer.opinion.as_ref()?;
        let forms = OpinionAction::offered(role, o)
            .into_iter()
            .map(|action| {
                let sent = match &refused {
                    Some((a, sent)) if *a == action => sent.clone(),
                    _ => Sent::default(),
                };
                let form = OpinionForm {
                    action: format!("/opinions/{}/{}", o.opinion_id, action.segment()),
                    version: o.version,
                    key: uuid::Uuid::now_v7().to_string(),
                    sent,
                };
                (action, form)
            })
            .collect();
        let contact = answer
            .contact_masked
            .as_ref()
            .map(|c| {
                [c.name.as_str(), c.phone.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ")
            })
            .unwrap_or_default();
        let case_href = (!o.case_id.is_empty()).then(|| format!("/cases/{}", o.case_id));
        let rectification_href = (!o.case_id.is_empty() && !o.rectification_id.is_empty())
            .then(|| format!("/cases/{}/rectifications/{}", o.case_id, o.rectification_id));
        Some(OpinionPage {
            layout,
            row: OpinionRow::new(o),
            case_href,
            rectification_href,
            answer: o.answer.clone(),
            contact,
            history: answer
                .history
                .iter()
                .map(|s| StepRow { at: format::timestamp(s.at.as_ref()), who: s.actor.clone(), text: s.text.clone() })
                .collect(),
            forms,
            done: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_fields_land_next_to_the_forms_inputs() {
        assert_eq!(input_of("contact.phone").as_deref(), Some("contact_phone"));
        assert_eq!(input_of("question").as_deref(), Some("question"));
        assert_eq!(input_of("idempotency_key"), None);
        assert_eq!(channel_of("12345"), ConsultationChannel::Hotline12345);
        assert_eq!(channel_of("fax"), ConsultationChannel::Unspecified);
    }

    #[test]
    fn an_overdue_opinion_row_says_so() {
        let o = Opinion {
            kind: OpinionKind::Complaint as i32,
            channel: OpinionChannel::Hotline12345 as i32,
            state: OpinionState::Assigned as i32,
            overdue: true,
            ..Default::default()
        };
        let row = OpinionRow::new(&o);
        assert_eq!((row.kind, row.channel, row.state, row.overdue), ("投诉", "12345热线", "已交办", true));
    }
}
