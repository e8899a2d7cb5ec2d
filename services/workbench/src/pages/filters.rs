//! The inbox's filters as the page's query carries them: parsed and bounded
//! here (an unknown value is refused with a message naming the field,
//! never passed on), turned into the task service's `ListInboxRequest`,
//! and written back into links and forms.

use yiciban_platform::Role;
use yiciban_proto::common::v1::{TaskState, WarningLevel};
use yiciban_proto::tasks::v1::ListInboxRequest;

/// Tasks per page.
pub const PAGE_SIZE: u32 = 100;

/// Which states are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StateFilter {
    /// Pending, in progress and waiting for a supplement.
    #[default]
    Open,
    Pending,
    InProgress,
    Waiting,
}

impl StateFilter {
    pub const ALL: [StateFilter; 4] =
        [StateFilter::Open, StateFilter::Pending, StateFilter::InProgress, StateFilter::Waiting];

    pub fn as_str(self) -> &'static str {
        match self {
            StateFilter::Open => "open",
            StateFilter::Pending => "pending",
            StateFilter::InProgress => "in_progress",
            StateFilter::Waiting => "waiting",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StateFilter::Open => "全部在办",
            StateFilter::Pending => "待认领",
            StateFilter::InProgress => "办理中",
            StateFilter::Waiting => "补正中（暂停计时）",
        }
    }

    fn states(self) -> Vec<i32> {
        match self {
            StateFilter::Open => Vec::new(),
            StateFilter::Pending => vec![TaskState::Pending as i32],
            StateFilter::InProgress => vec![TaskState::InProgress as i32],
            StateFilter::Waiting => vec![TaskState::WaitingForSupplement as i32],
        }
    }
}

/// Which warnings are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WarningFilter {
    #[default]
    Any,
    /// Yellow and red.
    Yellow,
    Red,
}

impl WarningFilter {
    pub const ALL: [WarningFilter; 3] = [WarningFilter::Any, WarningFilter::Yellow, WarningFilter::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningFilter::Any => "",
            WarningFilter::Yellow => "yellow",
            WarningFilter::Red => "red",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            WarningFilter::Any => "不限",
            WarningFilter::Yellow => "黄牌及以上",
            WarningFilter::Red => "红牌",
        }
    }

    fn level(self) -> WarningLevel {
        match self {
            WarningFilter::Any => WarningLevel::Unspecified,
            WarningFilter::Yellow => WarningLevel::Yellow,
            WarningFilter::Red => WarningLevel::Red,
        }
    }
}

/// The inbox's filters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filters {
    pub state: StateFilter,
    pub warning: WarningFilter,
    /// A package id; empty for all.
    pub package: String,
    /// The department looked into; agents always their own (empty here).
    pub department: String,
    /// Only the tasks the signed-in person holds (`mine=1`).
    pub mine: bool,
    /// The task service's page token; empty for the first page.
    pub page: String,
}

/// A filter value the page cannot use, with the field it came in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct BadFilter {
    pub field: &'static str,
    pub reason: String,
}

/// A code (package id, department code, page token): printable ASCII
/// without spaces, at most `max` characters.
pub(crate) fn code(field: &'static str, value: &str, max: usize) -> Result<String, BadFilter> {
    if value.len() > max || !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(BadFilter {
            field,
            reason: format!("至多 {max} 个字符的编码 / a code of at most {max} characters"),
        });
    }
    Ok(value.to_owned())
}

impl Filters {
    /// The filters of a query's `(name, value)` pairs; other names are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<Filters, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let state = match get("state") {
            "" => StateFilter::Open,
            value => StateFilter::ALL.into_iter().find(|s| s.as_str() == value).ok_or_else(|| BadFilter {
                field: "state",
                reason: "应为 open、pending、in_progress 或 waiting".into(),
            })?,
        };
        let warning = match get("warning") {
            "" => WarningFilter::Any,
            value => WarningFilter::ALL
                .into_iter()
                .find(|w| w.as_str() == value)
                .ok_or_else(|| BadFilter { field: "warning", reason: "应为 yellow 或 red".into() })?,
        };
        let mine = match get("mine") {
            "" | "0" => false,
            "1" => true,
            _ => return Err(BadFilter { field: "mine", reason: "应为 1 或不填".into() }),
        };
        Ok(Filters {
            state,
            warning,
            mine,
            package: code("package", get("package"), 64)?,
            department: code("department", get("department"), 64)?,
            page: code("page", get("page"), 512)?,
        })
    }

    /// The request for `person` (an agent's own department is the
    /// service's default; others name one).
    pub fn request(&self, role: Role, subject: &str) -> ListInboxRequest {
        ListInboxRequest {
            department: if role == Role::Agent { String::new() } else { self.department.clone() },
            assignee: if self.mine { subject.to_owned() } else { String::new() },
            states: self.state.states(),
            package_id: self.package.clone(),
            min_warning: self.warning.level() as i32,
            page_size: PAGE_SIZE,
            page_token: self.page.clone(),
            ..Default::default()
        }
    }

    /// The filters as a query string (without `?`), the page left out
    /// unless `with_page`.
    pub fn query(&self, with_page: bool) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        if self.state != StateFilter::Open {
            q.append_pair("state", self.state.as_str());
        }
        if self.warning != WarningFilter::Any {
            q.append_pair("warning", self.warning.as_str());
        }
        if !self.package.is_empty() {
            q.append_pair("package", &self.package);
        }
        if !self.department.is_empty() {
            q.append_pair("department", &self.department);
        }
        if self.mine {
            q.append_pair("mine", "1");
        }
        if with_page && !self.page.is_empty() {
            q.append_pair("page", &self.page);
        }
        q.finish()
    }

    /// `/inbox` with these filters.
    pub fn href(&self, with_page: bool) -> String {
        let query = self.query(with_page);
        if query.is_empty() { "/inbox".to_owned() } else { format!("/inbox?{query}") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    #[test]
    fn filters_read_back_from_their_own_query() {
        let f = Filters::parse(&pairs("state=pending&warning=red&package=p_birth&department=samr&mine=1&page=abc"))
            .unwrap();
        assert_eq!((f.state, f.warning, f.package.as_str()), (StateFilter::Pending, WarningFilter::Red, "p_birth"));
        assert_eq!(Filters::parse(&pairs(&f.query(true))).unwrap(), f);
        assert_eq!(Filters::parse(&pairs("")).unwrap().href(false), "/inbox");
    }

    #[test]
    fn an_unknown_value_is_refused_naming_its_field() {
        assert_eq!(Filters::parse(&pairs("state=closed")).unwrap_err().field, "state");
        assert_eq!(Filters::parse(&pairs("warning=green")).unwrap_err().field, "warning");
        assert_eq!(Filters::parse(&pairs("mine=yes")).unwrap_err().field, "mine");
        assert_eq!(Filters::parse(&pairs("package=a%20b")).unwrap_err().field, "package");
        assert_eq!(Filters::parse(&pairs(&format!("department={}", "x".repeat(65)))).unwrap_err().field, "department");
    }

    #[test]
    fn an_agent_asks_for_its_own_department_and_others_name_one() {
        let f = Filters::parse(&pairs("department=fire&state=waiting&warning=yellow")).unwrap();
        let agent = f.request(Role::Agent, "agent-fire-1");
        assert_eq!((agent.department.as_str(), agent.assignee.as_str()), ("", ""));
        let mine = Filters { mine: true, ..f.clone() }.request(Role::Agent, "agent-fire-1");
        assert_eq!(mine.assignee, "agent-fire-1");
        assert_eq!(agent.states, [TaskState::WaitingForSupplement as i32]);
        assert_eq!(agent.min_warning, WarningLevel::Yellow as i32);
        assert_eq!(f.request(Role::Supervisor, "sup-001").department, "fire");
    }
}
