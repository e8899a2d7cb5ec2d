//! `/audit`: the audit trail (审计) for supervisors and administrators —
//! the refused calls and the reads of personal data in clear (material
//! downloads among them) that each service records over its own logs
//! (AuditService), merged newest first across the services, filtered by
//! case, person and service, and paged with one cursor holding where each
//! service's list stands ([`Cursor`]: the page token it was last asked
//! with and how many of that page were shown). An entry a service records
//! while someone pages its first page shifts that page by one: the next
//! page may then show an entry again (never skip one).

use askama::Template;
use serde::{Deserialize, Serialize};
use yiciban_proto::audit::v1::{ListPersonalDataReadsRequest, ListRefusalsRequest, PersonalDataRead, Refusal};

use super::filters::{BadFilter, code};
use super::inbox::Choice;
use super::{Layout, format};
use crate::Names;

/// Entries per page (and asked of each service).
pub const PAGE_SIZE: usize = 50;

/// The services that keep an audit trail the workbench can ask, by name.
pub const SERVICES: [&str; 7] = ["intake", "routing", "tasks", "issuance", "tracking", "notifier", "supervision"];

/// Which log is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuditKind {
    /// Refused calls (`kind=refusals`, the default).
    #[default]
    Refusals,
    /// Reads of personal data in clear (`kind=reads`).
    Reads,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuditKind::Refusals => "refusals",
            AuditKind::Reads => "reads",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AuditKind::Refusals => "拒绝的调用",
            AuditKind::Reads => "个人信息查阅（含材料下载）",
        }
    }
}

/// The page's filters as its query carries them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditQuery {
    pub kind: AuditKind,
    /// A case id; empty for every case.
    pub case_id: String,
    /// A caller's login (or a service's name); empty for everyone.
    pub caller: String,
    /// One of [`SERVICES`]; empty for all of them.
    pub service: String,
    /// The encoded [`Cursor`]; empty for the first page.
    pub page: String,
}

impl AuditQuery {
    /// The filters of a query's `(name, value)` pairs; other names are ignored.
    pub fn parse(pairs: &[(String, String)]) -> Result<AuditQuery, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let kind = match get("kind") {
            "" | "refusals" => AuditKind::Refusals,
            "reads" => AuditKind::Reads,
            _ => return Err(BadFilter { field: "kind", reason: "应为 refusals 或 reads".into() }),
        };
        let service = get("service");
        if !service.is_empty() && !SERVICES.contains(&service) {
            return Err(BadFilter { field: "service", reason: format!("应为 {} 之一", SERVICES.join("、")) });
        }
        let page = code("page", get("page"), 8192)?;
        if !page.is_empty() && Cursor::decode(&page).is_none() {
            return Err(BadFilter { field: "page", reason: "翻页标记无效，请从第一页重新查询".into() });
        }
        Ok(AuditQuery {
            kind,
            case_id: code("case", get("case"), 64)?,
            caller: code("caller", get("caller"), 128)?,
            service: service.to_owned(),
            page,
        })
    }

    /// The services asked: the one named, or all.
    pub fn services(&self) -> Vec<&'static str> {
        SERVICES.into_iter().filter(|s| self.service.is_empty() || *s == self.service).collect()
    }

    /// Where each service's list stands.
    pub fn cursor(&self) -> Cursor {
        Cursor::decode(&self.page).unwrap_or_default()
    }

    /// The refusals request for a service whose list stands at `token`.
    pub fn refusals(&self, token: &str) -> ListRefusalsRequest {
        ListRefusalsRequest {
            since: None,
            caller: self.caller.clone(),
            case_id: self.case_id.clone(),
            page_size: PAGE_SIZE as u32,
            page_token: token.to_owned(),
        }
    }

    /// The reads request for a service whose list stands at `token`.
    pub fn reads(&self, token: &str) -> ListPersonalDataReadsRequest {
        ListPersonalDataReadsRequest {
            since: None,
            caller: self.caller.clone(),
            case_id: self.case_id.clone(),
            page_size: PAGE_SIZE as u32,
            page_token: token.to_owned(),
        }
    }

    /// `/audit` with these filters and `page`.
    pub fn href(&self, page: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("kind", self.kind.as_str());
        for (name, value) in [("case", &self.case_id), ("caller", &self.caller), ("service", &self.service)] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if !page.is_empty() {
            q.append_pair("page", page);
        }
        format!("/audit?{}", q.finish())
    }
}

/// Where one service's list stands: the page token last asked and how many
/// of that page were shown already.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    pub token: String,
    pub skip: usize,
}

/// Where every service's list stands; a service absent from `at` is at its
/// first page, one in `done` was read to its end.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Cursor {
    pub at: Vec<(String, Position)>,
    pub done: Vec<String>,
}

impl Cursor {
    /// The page parameter (hex of JSON: opaque, URL-safe).
    pub fn encode(&self) -> String {
        hex::encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(page: &str) -> Option<Cursor> {
        if page.is_empty() {
            return Some(Cursor::default());
        }
        serde_json::from_slice(&hex::decode(page).ok()?).ok()
    }

    /// Where `service` stands; `None` once read to its end.
    pub fn position(&self, service: &str) -> Option<Position> {
        if self.done.iter().any(|d| d == service) {
            return None;
        }
        Some(self.at.iter().find(|(s, _)| s == service).map(|(_, p)| p.clone()).unwrap_or_default())
    }
}

/// One service's page as it answered, asked at `position`.
#[derive(Debug, Clone)]
pub struct Fetched<T> {
    pub service: &'static str,
    pub position: Position,
    pub items: Vec<T>,
    /// Empty on the service's last page.
    pub next_token: String,
}

/// The newest `limit` entries across the services' pages, newest first,
/// and the cursor of what follows (`None` when every list was read to its
/// end). The merge stops early where a service's page ran out while its
/// list goes on: its next page could hold entries newer than the rest, so
/// nothing is ever shown out of order or skipped. `key` orders by time.
pub fn merge<T, K: Ord>(
    mut fetched: Vec<Fetched<T>>,
    before: &Cursor,
    limit: usize,
    key: impl Fn(&T) -> K,
) -> (Vec<T>, Option<Cursor>) {
    let mut taken = vec![0usize; fetched.len()];
    let mut shown = Vec::new();
    for f in &mut fetched {
        let skip = f.position.skip.min(f.items.len());
        f.items.drain(..skip);
    }
    let mut rest: Vec<std::collections::VecDeque<T>> =
        fetched.iter_mut().map(|f| std::mem::take(&mut f.items).into()).collect();
    while shown.len() < limit {
        let ran_out = rest.iter().zip(&fetched).any(|(r, f)| r.is_empty() && !f.next_token.is_empty());
        if ran_out {
            break;
        }
        let newest = rest
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.front().map(|item| (i, key(item))))
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        let Some((i, _)) = newest else { break };
        shown.extend(rest[i].pop_front());
        taken[i] += 1;
    }
    let mut next = Cursor { at: Vec::new(), done: before.done.clone() };
    for ((f, r), n) in fetched.iter().zip(&rest).zip(taken) {
        if !r.is_empty() {
            let position = Position { token: f.position.token.clone(), skip: f.position.skip + n };
            next.at.push((f.service.to_owned(), position));
        } else if !f.next_token.is_empty() {
            next.at.push((f.service.to_owned(), Position { token: f.next_token.clone(), skip: 0 }));
        } else {
            next.done.push(f.service.to_owned());
        }
    }
    // Services not asked this time (failed) keep their place.
    for (service, position) in &before.at {
        if !fetched.iter().any(|f| f.service == service) && !next.done.contains(service) {
            next.at.push((service.clone(), position.clone()));
        }
    }
    let more = !next.at.is_empty();
    (shown, more.then_some(next))
}

/// One entry of either log, worded.
#[derive(Debug, Clone)]
pub struct AuditRow {
    pub at: String,
    pub service: String,
    /// The RPC's name (its path's last segment).
    pub rpc: String,
    pub caller: String,
    pub role: String,
    pub department: String,
    /// `(href, id)` of the case concerned, when one.
    pub case: Option<(String, String)>,
    /// Refusals: 拒绝 or 按不存在答复; reads: the fields shown.
    pub what: String,
    /// Refusals: why; reads: the purpose.
    pub why: String,
}

fn case_link(case_id: &str) -> Option<(String, String)> {
    (!case_id.is_empty()).then(|| (format!("/cases/{case_id}"), case_id.to_owned()))
}

fn rpc(method: &str) -> String {
    method.rsplit('/').next().unwrap_or(method).to_owned()
}

impl AuditRow {
    pub fn refusal(r: &Refusal, names: &Names) -> AuditRow {
        AuditRow {
            at: format::timestamp(r.at.as_ref()),
            service: r.service.clone(),
            rpc: rpc(&r.method),
            caller: r.caller.clone(),
            role: r.role.clone(),
            department: if r.department.is_empty() { String::new() } else { names.department(&r.department) },
            case: case_link(&r.case_id),
            what: if r.kind == "hidden" { "按不存在答复".to_owned() } else { "拒绝".to_owned() },
            why: r.reason.clone(),
        }
    }

    pub fn read(r: &PersonalDataRead, names: &Names) -> AuditRow {
        AuditRow {
            at: format::timestamp(r.at.as_ref()),
            service: r.service.clone(),
            rpc: rpc(&r.method),
            caller: r.caller.clone(),
            role: r.role.clone(),
            department: if r.department.is_empty() { String::new() } else { names.department(&r.department) },
            case: case_link(&r.case_id),
            what: r.fields.join("、"),
            why: if r.purpose_stated { r.purpose.clone() } else { format!("{}（未说明用途）", r.purpose) },
        }
    }
}

/// `/audit`.
#[derive(Debug, Template)]
#[template(path = "audit.html")]
pub struct AuditPage {
    pub layout: Layout,
    pub kinds: Vec<Choice>,
    pub services: Vec<Choice>,
    pub case_id: String,
    pub caller: String,
    pub reads: bool,
    /// `None` when nothing could be read.
    pub rows: Option<Vec<AuditRow>>,
    /// The services that did not answer, with why.
    pub missing: Vec<String>,
    pub next_page: Option<String>,
    pub error: Option<String>,
}

impl AuditPage {
    pub fn new(layout: Layout, query: &AuditQuery) -> AuditPage {
        let kinds = [AuditKind::Refusals, AuditKind::Reads]
            .into_iter()
            .map(|k| Choice { value: k.as_str().into(), label: k.label().into(), selected: k == query.kind })
            .collect();
        let mut services =
            vec![Choice { value: String::new(), label: "全部".into(), selected: query.service.is_empty() }];
        services.extend(SERVICES.iter().map(|s| Choice {
            value: (*s).to_owned(),
            label: (*s).to_owned(),
            selected: query.service == *s,
        }));
        AuditPage {
            layout,
            kinds,
            services,
            case_id: query.case_id.clone(),
            caller: query.caller.clone(),
            reads: query.kind == AuditKind::Reads,
            rows: None,
            missing: Vec::new(),
            next_page: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        form_urlencoded::parse(query.as_bytes()).into_owned().collect()
    }

    fn page(service: &'static str, token: &str, skip: usize, items: &[i64], next: &str) -> Fetched<i64> {
        Fetched {
            service,
            position: Position { token: token.into(), skip },
            items: items.to_vec(),
            next_token: next.into(),
        }
    }

    #[test]
    fn the_query_reads_back_and_refuses_what_it_cannot_use() {
        let q = AuditQuery::parse(&pairs("kind=reads&case=c1&caller=clerk-001&service=intake")).unwrap();
        assert_eq!(AuditQuery::parse(&pairs(q.href("").split_once('?').unwrap().1)).unwrap(), q);
        assert_eq!(q.services(), ["intake"]);
        assert_eq!(AuditQuery::default().services().len(), 7);
        assert_eq!(AuditQuery::parse(&pairs("kind=all")).unwrap_err().field, "kind");
        assert_eq!(AuditQuery::parse(&pairs("service=webhooks")).unwrap_err().field, "service");
        assert_eq!(AuditQuery::parse(&pairs("page=zz")).unwrap_err().field, "page");
        assert_eq!(AuditQuery::parse(&pairs("caller=a%20b")).unwrap_err().field, "caller");
    }

    #[test]
    fn pages_merge_newest_first_and_the_cursor_resumes_where_each_list_stands() {
        // intake: 9 7 5 | more; tasks: 8 2 (end).
        let first = vec![page("intake", "", 0, &[9, 7, 5], "i2"), page("tasks", "", 0, &[8, 2], "")];
        let (shown, next) = merge(first, &Cursor::default(), 3, |n| *n);
        assert_eq!(shown, [9, 8, 7]);
        let next = next.unwrap();
        assert_eq!(next.position("intake"), Some(Position { token: String::new(), skip: 2 }));
        assert_eq!(next.position("tasks"), Some(Position { token: String::new(), skip: 1 }));
        assert_eq!(Cursor::decode(&next.encode()), Some(next.clone()));

        // Asked again where they stand: intake's page runs out while its list
        // goes on, so the merge stops before anything older (2) is shown.
        let second = vec![page("intake", "", 2, &[9, 7, 5], "i2"), page("tasks", "", 1, &[8, 2], "")];
        let (shown, next) = merge(second, &next, 3, |n| *n);
        assert_eq!(shown, [5]);
        let next = next.unwrap();
        assert_eq!(next.position("intake"), Some(Position { token: "i2".into(), skip: 0 }));

        let third = vec![page("intake", "i2", 0, &[4, 1], ""), page("tasks", "", 1, &[8, 2], "")];
        let (shown, next) = merge(third, &next, 3, |n| *n);
        assert_eq!(shown, [4, 2, 1]);
        assert!(next.is_none(), "every list read to its end");
    }

    #[test]
    fn a_service_that_did_not_answer_keeps_its_place_and_a_finished_one_is_not_asked_again() {
        let before = Cursor {
            at: vec![("routing".into(), Position { token: "r3".into(), skip: 1 })],
            done: vec!["tracking".into()],
        };
        let (shown, next) = merge(vec![page("intake", "", 0, &[3], "")], &before, 10, |n| *n);
        assert_eq!(shown, [3]);
        let next = next.unwrap();
        assert_eq!(next.position("routing"), Some(Position { token: "r3".into(), skip: 1 }));
        assert_eq!(next.position("tracking"), None);
        assert_eq!(next.position("intake"), None);
    }
}
