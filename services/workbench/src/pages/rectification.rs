//! `/rectifications` (好差评与整改): the queue of open rectifications (late
//! first, with department, state and deadline) and, for supervisors, the
//! ratings with valid bad ones first — from issuance's ListRectifications
//! and ListRatings; an agent sees its own department's rectifications.
//! `/cases/{case}/rectifications/{id}`: one rectification with its history
//! and the forms the role may use in its state (核实, 整改, 解释说明,
//! 回访复核办结; 差评申诉复核 of its rating) — issuance decides again.

use askama::Template;
use yiciban_platform::Role;
use yiciban_platform::auth::pkce::random_token;
use yiciban_proto::common::v1::{InvalidRatingReason, RectificationFinding, RectificationSource};
use yiciban_proto::issuance::v1::{
    ListRatingsRequest, ListRectificationsRequest, RatingEntry, RectificationEntry, RectificationState,
};

use super::decide::{ActionForm, Sent};
use super::filters::{BadFilter, code};
use super::inbox::Choice;
use super::{Layout, format};
use crate::Names;

/// Rectifications per page.
pub const PAGE_SIZE: u32 = 50;
/// Bad ratings shown on the queue.
pub const RATINGS_SHOWN: u32 = 50;
/// The longest text the forms take (the service's limit).
pub const TEXT_MAX_CHARS: usize = 2000;

/// The queue's states: the query's value, the state, its label.
const STATES: [(&str, RectificationState, &str); 5] = [
    ("opened", RectificationState::Opened, "待核实"),
    ("verified", RectificationState::Verified, "已核实，待整改或解释"),
    ("rectified", RectificationState::Rectified, "已整改，待回访办结"),
    ("explained", RectificationState::Explained, "已解释，待回访办结"),
    ("closed", RectificationState::Closed, "已办结"),
];

/// The state's label.
pub fn state_label(state: i32) -> &'static str {
    STATES.iter().find(|(_, s, _)| *s as i32 == state).map_or("未知", |(_, _, label)| label)
}

fn finding_label(finding: i32) -> &'static str {
    match RectificationFinding::try_from(finding).unwrap_or(RectificationFinding::Unspecified) {
        RectificationFinding::JustifiedSimple => "属实（简单问题，立即整改）",
        RectificationFinding::JustifiedComplex => "属实（复杂问题，限期整改）",
        RectificationFinding::NoLegalBasis => "诉求无法律依据（解释说明）",
        RectificationFinding::Unspecified => "",
    }
}

/// The queue's filters as the page's query carries them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueQuery {
    /// A value of [`STATES`]; empty for every open state.
    pub state: String,
    /// A department code; empty for every department the person may see.
    pub department: String,
    /// Late ones only (`late=1`).
    pub late: bool,
    /// The rectifications' page token.
    pub page: String,
    /// The bad ratings' page token (`ratings_page`).
    pub ratings_page: String,
}

impl QueueQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<QueueQuery, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let state = get("state");
        if !state.is_empty() && !STATES.iter().any(|(value, _, _)| *value == state) {
            return Err(BadFilter { field: "state", reason: "应为页面列出的整改状态之一".into() });
        }
        let late = match get("late") {
            "" | "0" => false,
            "1" => true,
            _ => return Err(BadFilter { field: "late", reason: "应为 1 或不填".into() }),
        };
        Ok(QueueQuery {
            state: state.to_owned(),
            department: code("department", get("department"), 64)?,
            late,
            page: code("page", get("page"), 32)?,
            ratings_page: code("ratings_page", get("ratings_page"), 32)?,
        })
    }

    pub fn request(&self) -> ListRectificationsRequest {
        ListRectificationsRequest {
            states: STATES.iter().filter(|(v, _, _)| *v == self.state).map(|(_, s, _)| *s as i32).collect(),
            department: self.department.clone(),
            overdue_only: self.late,
            case_id: String::new(),
            page_size: PAGE_SIZE,
            page_token: self.page.clone(),
        }
    }

    pub fn ratings_request(&self) -> ListRatingsRequest {
        ListRatingsRequest {
            bad_only: true,
            department: self.department.clone(),
            page_size: RATINGS_SHOWN,
            page_token: self.ratings_page.clone(),
        }
    }

    /// `/rectifications` with these filters and the rectifications' `page`
    /// (the bad ratings from their first page).
    pub fn href(&self, page: &str) -> String {
        self.with_pages(page, "")
    }

    /// `/rectifications` with these filters, the same rectifications' page
    /// and the bad ratings' `ratings_page`.
    pub fn ratings_href(&self, ratings_page: &str) -> String {
        self.with_pages(&self.page, ratings_page)
    }

    fn with_pages(&self, page: &str, ratings_page: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("state", &self.state), ("department", &self.department)] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if self.late {
            q.append_pair("late", "1");
        }
        for (name, value) in [("page", page), ("ratings_page", ratings_page)] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        let query = q.finish();
        if query.is_empty() { "/rectifications".to_owned() } else { format!("/rectifications?{query}") }
    }
}

/// The page of one rectification.
pub fn rectification_href(case_id: &str, rectification_id: &str) -> String {
    format!("/cases/{case_id}/rectifications/{rectification_id}")
}

/// One rectification of the queue.
#[derive(Debug, Clone)]
pub struct QueueRow {
    pub href: String,
    pub case_number: String,
    pub source: &'static str,
    pub department: String,
    pub state: &'static str,
    pub due: String,
    pub late: bool,
}

impl QueueRow {
    fn new(e: &RectificationEntry, names: &Names) -> Option<QueueRow> {
        let r = e.rectification.as_ref()?;
        Some(QueueRow {
            href: rectification_href(&e.case_id, &r.rectification_id),
            case_number: e.case_number.clone(),
            source: source_label(r.source),
            department: names.department(&r.responsible_department),
            state: state_label(r.state),
            due: format::date(r.due_by.as_ref()),
            late: e.late,
        })
    }
}

fn source_label(source: i32) -> &'static str {
    match RectificationSource::try_from(source).unwrap_or(RectificationSource::Unspecified) {
        RectificationSource::BadRating => "差评",
        RectificationSource::Complaint => "投诉",
        RectificationSource::Unspecified => "",
    }
}

/// One bad rating of the queue.
#[derive(Debug, Clone)]
pub struct RatingRow {
    pub case_href: String,
    pub case_number: String,
    pub score: u32,
    pub comment: String,
    pub department: String,
    pub rated_at: String,
    pub real_name: bool,
    /// The page of the rectification it opened, when listed.
    pub rectification_href: Option<String>,
}

impl RatingRow {
    fn new(e: &RatingEntry, rectifications: &[RectificationEntry], names: &Names) -> Option<RatingRow> {
        let r = e.rating.as_ref()?;
        let opened = rectifications.iter().find_map(|x| {
            let rect = x.rectification.as_ref()?;
            (rect.rating_id == r.rating_id).then(|| rectification_href(&x.case_id, &rect.rectification_id))
        });
        Some(RatingRow {
            case_href: format!("/cases/{}", e.case_id),
            case_number: e.case_number.clone(),
            score: r.score,
            comment: r.comment.clone(),
            department: if r.department.is_empty() { "整件".to_owned() } else { names.department(&r.department) },
            rated_at: format::timestamp(r.rated_at.as_ref()),
            real_name: r.real_name,
            rectification_href: opened,
        })
    }
}

/// `/rectifications`.
#[derive(Debug, Template)]
#[template(path = "rectifications.html")]
pub struct QueuePage {
    pub layout: Layout,
    pub states: Vec<Choice>,
    pub departments: Vec<Choice>,
    pub late: bool,
    /// `None` when the service refused.
    pub rows: Option<Vec<QueueRow>>,
    /// Supervisors' bad ratings; `None` for others or when refused.
    pub ratings: Option<Vec<RatingRow>>,
    pub next_page: Option<String>,
    /// The next page of bad ratings, when there is one.
    pub next_ratings_page: Option<String>,
    pub error: Option<String>,
}

impl QueuePage {
    pub fn new(
        layout: Layout,
        query: &QueueQuery,
        rectifications: Option<(&[RectificationEntry], &str)>,
        ratings: Option<(&[RatingEntry], &str)>,
        names: &Names,
    ) -> QueuePage {
        let mut states =
            vec![Choice { value: String::new(), label: "全部未办结".into(), selected: query.state.is_empty() }];
        states.extend(STATES.iter().map(|(value, _, label)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: query.state == *value,
        }));
        let mut departments = vec![Choice {
            value: String::new(),
            label: "全部（可见范围内）".into(),
            selected: query.department.is_empty(),
        }];
        departments.extend(names.departments.iter().map(|(code, name)| Choice {
            value: code.clone(),
            label: name.clone(),
            selected: *code == query.department,
        }));
        let listed = rectifications.map_or(&[][..], |(r, _)| r);
        QueuePage {
            layout,
            states,
            departments,
            late: query.late,
            rows: rectifications.map(|(r, _)| r.iter().filter_map(|e| QueueRow::new(e, names)).collect()),
            ratings: ratings.map(|(r, _)| r.iter().filter_map(|e| RatingRow::new(e, listed, names)).collect()),
            next_page: rectifications.filter(|(_, next)| !next.is_empty()).map(|(_, next)| query.href(next)),
            next_ratings_page: ratings.filter(|(_, next)| !next.is_empty()).map(|(_, next)| query.ratings_href(next)),
            error: None,
        }
    }
}

/// An action on a rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectAction {
    /// 核实.
    Verify,
    /// 整改 done.
    Record,
    /// 解释说明.
    Explain,
    /// 回访复核办结.
    Close,
    /// 差评申诉复核: its rating set aside.
    Review,
}

impl RectAction {
    pub const ALL: [RectAction; 5] =
        [RectAction::Verify, RectAction::Record, RectAction::Explain, RectAction::Close, RectAction::Review];

    /// The path segment of its POST and the page's `done` value.
    pub fn segment(self) -> &'static str {
        match self {
            RectAction::Verify => "verify",
            RectAction::Record => "record",
            RectAction::Explain => "explain",
            RectAction::Close => "close",
            RectAction::Review => "review",
        }
    }

    pub fn of_segment(segment: &str) -> Option<RectAction> {
        RectAction::ALL.into_iter().find(|a| a.segment() == segment)
    }

    pub fn confirmation(self) -> &'static str {
        match self {
            RectAction::Verify => "已记录核实结论。",
            RectAction::Record => "已记录整改措施，待督办回访办结。",
            RectAction::Explain => "已记录解释说明，待督办回访办结。",
            RectAction::Close => "整改已办结。",
            RectAction::Review => "差评已认定为无效，相应整改随之办结。",
        }
    }

    /// The form input a service's field violation is about.
    pub fn input_of(self, field: &str) -> Option<String> {
        let input = match (self, field) {
            (RectAction::Verify, f @ ("finding" | "note" | "due_by")) => f,
            (RectAction::Record, "measures") => "measures",
            (RectAction::Explain, f @ ("explanation" | "legal_basis")) => f,
            (RectAction::Close, "note") => "note",
            (RectAction::Review, f @ ("reason" | "note")) => f,
            _ => return None,
        };
        Some(input.to_owned())
    }

    /// Whether `role` may take this action on a rectification in `state`
    /// with `finding` (from a bad rating when `rated`).
    pub fn offered(self, role: Role, state: RectificationState, finding: RectificationFinding, rated: bool) -> bool {
        let staff = matches!(role, Role::Agent | Role::Supervisor);
        let justified =
            matches!(finding, RectificationFinding::JustifiedSimple | RectificationFinding::JustifiedComplex);
        match self {
            RectAction::Verify => staff && state == RectificationState::Opened,
            RectAction::Record => staff && state == RectificationState::Verified && justified,
            RectAction::Explain => {
                staff && state == RectificationState::Verified && finding == RectificationFinding::NoLegalBasis
            }
            RectAction::Close => {
                role == Role::Supervisor
                    && matches!(state, RectificationState::Rectified | RectificationState::Explained)
            }
            RectAction::Review => role == Role::Supervisor && rated && state != RectificationState::Closed,
        }
    }
}

/// The finding choices of the verification form.
pub fn findings() -> Vec<Choice> {
    [RectificationFinding::JustifiedSimple, RectificationFinding::JustifiedComplex, RectificationFinding::NoLegalBasis]
        .into_iter()
        .map(|f| Choice {
            value: f.as_str_name().to_owned(),
            label: finding_label(f as i32).to_owned(),
            selected: false,
        })
        .collect()
}

/// The reason choices of the review form.
pub fn reasons() -> Vec<Choice> {
    [(InvalidRatingReason::Mistaken, "误评"), (InvalidRatingReason::Malicious, "恶意差评")]
        .into_iter()
        .map(|(r, label)| Choice { value: r.as_str_name().to_owned(), label: label.to_owned(), selected: false })
        .collect()
}

/// One step of the history.
#[derive(Debug, Clone)]
pub struct StepRow {
    pub at: String,
    pub who: String,
    pub state: &'static str,
    pub text: String,
}

/// A refused form of the rectification page.
#[derive(Debug, Clone)]
pub struct RectAttempt {
    pub action: RectAction,
    pub sent: Sent,
}

/// `/cases/{case}/rectifications/{id}`.
#[derive(Debug, Template)]
#[template(path = "rectification.html")]
pub struct RectificationPage {
    pub layout: Layout,
    pub case_href: String,
    pub case_number: String,
    pub source: &'static str,
    pub complaint_or_rating: String,
    pub department: String,
    pub state: &'static str,
    pub finding: &'static str,
    pub due: String,
    pub late: bool,
    pub outcome: String,
    pub history: Vec<StepRow>,
    /// The forms offered, by action.
    pub forms: Vec<(RectAction, ActionForm)>,
    pub findings: Vec<Choice>,
    pub reasons: Vec<Choice>,
    pub done: Option<&'static str>,
}

impl RectificationPage {
    pub fn new(
        layout: Layout,
        entry: &RectificationEntry,
        role: Role,
        attempt: Option<&RectAttempt>,
        names: &Names,
    ) -> Option<RectificationPage> {
        let r = entry.rectification.as_ref()?;
        let state = RectificationState::try_from(r.state).unwrap_or(RectificationState::Unspecified);
        let finding = RectificationFinding::try_from(r.finding).unwrap_or(RectificationFinding::Unspecified);
        let href = rectification_href(&entry.case_id, &r.rectification_id);
        let forms = RectAction::ALL
            .into_iter()
            .filter(|a| a.offered(role, state, finding, !r.rating_id.is_empty()))
            .map(|a| {
                let sent = attempt.filter(|t| t.action == a).map(|t| t.sent.clone()).unwrap_or_default();
                let form = ActionForm {
                    action: format!("{href}/{}", a.segment()),
                    version: entry.version,
                    key: random_token(),
                    sent,
                };
                (a, form)
            })
            .collect();
        let history = entry
            .history
            .iter()
            .map(|s| StepRow {
                at: format::timestamp(s.at.as_ref()),
                who: format::actor(s.actor.as_ref()),
                state: state_label(s.state),
                text: s.text.clone(),
            })
            .collect();
        Some(RectificationPage {
            layout,
            case_href: format!("/cases/{}", entry.case_id),
            case_number: entry.case_number.clone(),
            source: source_label(r.source),
            complaint_or_rating: if r.rating_id.is_empty() { String::new() } else { format!("差评 {}", r.rating_id) },
            department: names.department(&r.responsible_department),
            state: state_label(r.state),
            finding: finding_label(r.finding),
            due: format::date(r.due_by.as_ref()),
            late: entry.late,
            outcome: r.outcome_text.clone(),
            history,
            forms,
            findings: findings(),
            reasons: reasons(),
            done: None,
        })
    }

    /// The form of `action`, when offered.
    pub fn form(&self, action: &str) -> Option<&ActionForm> {
        self.forms.iter().find(|(a, _)| a.segment() == action).map(|(_, f)| f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[test]
    fn the_queues_query_reads_back_and_refuses_what_it_cannot_use() {
        let q = QueueQuery::parse(&pairs("state=verified&department=samr&late=1&page=50")).unwrap();
        assert_eq!(QueueQuery::parse(&pairs(q.href("50").split_once('?').unwrap().1)).unwrap(), q);
        assert_eq!(q.request().states, [RectificationState::Verified as i32]);
        assert!(q.request().overdue_only);
        assert!(QueueQuery::default().request().states.is_empty(), "the service's default: every open state");
        assert_eq!(QueueQuery::parse(&pairs("state=lost")).unwrap_err().field, "state");
        assert_eq!(QueueQuery::parse(&pairs("late=yes")).unwrap_err().field, "late");
    }

    #[test]
    fn the_bad_ratings_page_on_their_own_keeping_the_filters_and_the_rectifications_page() {
        let q = QueueQuery::parse(&pairs("department=samr&page=50&ratings_page=50")).unwrap();
        assert_eq!((q.request().page_token.as_str(), q.ratings_request().page_token.as_str()), ("50", "50"));
        assert_eq!(q.ratings_request().department, "samr");
        let next = q.ratings_href("100");
        assert_eq!(next, "/rectifications?department=samr&page=50&ratings_page=100");
        let back = QueueQuery::parse(&pairs(next.split_once('?').unwrap().1)).unwrap();
        assert_eq!((back.page.as_str(), back.ratings_page.as_str()), ("50", "100"));
        assert_eq!(q.href("100"), "/rectifications?department=samr&page=100", "the ratings from their first page");
        assert_eq!(QueueQuery::parse(&pairs("ratings_page=a%20b")).unwrap_err().field, "ratings_page");
    }

    #[test]
    fn each_role_is_offered_the_actions_of_the_rectifications_state() {
        use RectificationFinding as F;
        use RectificationState as S;
        let offered = |role, state, finding, rated| {
            RectAction::ALL.into_iter().filter(|a| a.offered(role, state, finding, rated)).collect::<Vec<_>>()
        };
        assert_eq!(offered(Role::Agent, S::Opened, F::Unspecified, true), [RectAction::Verify]);
        assert_eq!(
            offered(Role::Supervisor, S::Opened, F::Unspecified, true),
            [RectAction::Verify, RectAction::Review]
        );
        assert_eq!(offered(Role::Agent, S::Verified, F::JustifiedComplex, false), [RectAction::Record]);
        assert_eq!(offered(Role::Agent, S::Verified, F::NoLegalBasis, false), [RectAction::Explain]);
        assert!(offered(Role::Agent, S::Rectified, F::JustifiedSimple, false).is_empty(), "supervisors close");
        assert_eq!(offered(Role::Supervisor, S::Explained, F::NoLegalBasis, false), [RectAction::Close]);
        assert!(offered(Role::Supervisor, S::Closed, F::NoLegalBasis, true).is_empty());
        assert!(offered(Role::Clerk, S::Opened, F::Unspecified, true).is_empty());
        assert_eq!(RectAction::Verify.input_of("due_by").as_deref(), Some("due_by"));
        assert_eq!(RectAction::Close.input_of("rectification_id"), None);
        assert_eq!(RectAction::of_segment("explain"), Some(RectAction::Explain));
    }
}
