//! What each workbench page shows: one view model per page, rendered by its
//! askama template in `services/workbench/templates/` (the layout
//! `base.html`, one file per page). View models hold text already worded
//! for the page ([`format`]); templates own the markup and escape every
//! value, so nothing here writes HTML.

pub mod apply;
pub mod assessment;
pub mod audit;
mod case;
pub mod decide;
pub mod filters;
pub mod format;
pub(crate) mod inbox;
mod lanes;
pub mod messages;
pub mod notice;
mod notice_pdf;
pub mod officer;
pub mod overdue;
pub mod packages;
pub mod progress;
pub mod record_opinion;
pub mod rectification;
pub mod reports;
pub mod statistics;
pub mod supervision;
pub mod supplement;
mod task;
pub mod window;
pub mod worklist;

use askama::Template;
use yiciban_platform::Role;

pub use case::CasePage;
pub use inbox::{InboxPage, InboxRow};
pub use overdue::OverduePage;
pub use statistics::StatisticsPage;
pub use task::{TaskPage, TaskView};
pub use worklist::WorklistPage;

use crate::Names;
use crate::sessions::Person;

/// The Chinese name of a role.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Clerk => "综窗受理员",
        Role::Agent => "部门经办人",
        Role::Officer => "专办员",
        Role::Supervisor => "督办负责人",
        Role::Admin => "系统管理员",
        Role::Applicant => "申请人",
        Role::Service => "服务",
    }
}

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

/// The navigation of a role: what the workbench offers it today (the
/// services still decide every read behind a link).
pub fn navigation(role: Role, current: &str) -> Vec<NavLink> {
    let mut links = vec![("/", "首页")];
    match role {
        Role::Agent => links.extend([
            ("/inbox", "本部门待办"),
            ("/overdue", "本部门预警"),
            ("/rectifications", "本部门整改"),
            ("/opinions", "本部门意见"),
            ("/report", "本部门月报"),
        ]),
        Role::Clerk => links.extend([
            ("/packages", "受理"),
            ("/inbox", "部门待办"),
            ("/consultations", "咨询登记"),
            ("/opinions/new", "意见登记"),
        ]),
        Role::Officer => links.extend([
            ("/worklist", "我的办件"),
            ("/overdue", "办件预警"),
            ("/consultations", "咨询登记"),
            ("/opinions/new", "意见登记"),
        ]),
        Role::Supervisor => links.extend([
            ("/inbox", "部门待办"),
            ("/overdue", "超期看板"),
            ("/statistics", "月度统计"),
            ("/worklist", "专人办件"),
            ("/rectifications", "好差评与整改"),
            ("/audit", "审计记录"),
            ("/messages", "短信记录"),
            ("/opinions", "意见处理"),
            ("/reports", "月报汇总"),
            ("/assessments", "考核"),
        ]),
        Role::Admin => links.extend([
            ("/inbox", "部门待办"),
            ("/statistics", "月度统计"),
            ("/reports", "月报汇总"),
            ("/audit", "审计记录"),
            ("/messages", "短信记录"),
            ("/assessments", "考核"),
        ]),
        Role::Applicant | Role::Service => {}
    }
    links.into_iter().map(|(href, label)| NavLink { href, label, current: href == current }).collect()
}

/// The signed-in person as the header shows them.
#[derive(Debug, Clone)]
pub struct UserView {
    pub name: String,
    pub role: &'static str,
    /// An agent's department, by name.
    pub department: Option<String>,
}

/// What the layout (`base.html`) shows around every page.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub title: String,
    pub nav: Vec<NavLink>,
    /// `None` on the pages for visitors not signed in.
    pub user: Option<UserView>,
    /// The session's form token (the logout form carries it).
    pub csrf: String,
}

impl Layout {
    /// The layout of a page titled `title` at `path` for `person`.
    pub fn new(title: &str, path: &str, person: &Person, csrf: &str, names: &Names) -> Layout {
        Layout {
            title: title.to_owned(),
            nav: navigation(person.role, path),
            user: Some(UserView {
                name: person.display_name.clone(),
                role: role_label(person.role),
                department: person.department.as_deref().map(|d| names.department(d)),
            }),
            csrf: csrf.to_owned(),
        }
    }

    /// The layout of a page for a visitor not signed in.
    pub fn anonymous(title: &str) -> Layout {
        Layout { title: title.to_owned(), nav: Vec::new(), user: None, csrf: String::new() }
    }
}

/// An agent's department at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub open: u32,
    pub yellow: u32,
    pub red: u32,
    /// Held by the agent.
    pub mine: u32,
}

/// `/`: the role's home.
#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    /// An agent's counts, or why there are none.
    pub counts: Option<Result<Counts, String>>,
    /// The role's work today, worded.
    pub intro: &'static str,
    /// The role's main pages, as buttons.
    pub shortcuts: Vec<(&'static str, &'static str)>,
    /// What moves into the workbench in its later steps, for this role.
    pub coming: &'static str,
}

impl HomePage {
    pub fn new(person: &Person, csrf: &str, names: &Names) -> HomePage {
        let (intro, coming) = match person.role {
            Role::Agent => (
                "本部门的待办环节：认领，查看本部门可见的申请信息和材料，准予（出具审批结果）、不予许可、退回补正、转办，事后核查告知承诺；专人督办的环节标有“已督办 N 次”，任务页显示最近的督办说明；本部门整改：核实差评与投诉，记录整改措施或解释说明。",
                "",
            ),
            Role::Clerk => (
                "综窗受理：查找一件事，向申请人一次性告知，填写一套表单、上传材料（可容缺、告知承诺的按目录选择），提交后打印受理通知书、不予受理通知书或一次性告知书；可查看各部门待办。补正收件、一窗出件与好差评：在页首按办件编号查找办件，在办件页进入。",
                "",
            ),
            Role::Officer => (
                "专人全流程跟踪：我的办件、每件的时间线、环节与计时、申请人待补事项；在办件页督办在办环节的部门，添加办件备注。",
                "",
            ),
            Role::Supervisor => (
                "督办：超期看板、月度统计（可下载 CSV）、各部门待办、专人办件；在办件页督办部门、改派专办员；好差评与整改台账（核实、整改、解释、回访办结，差评申诉复核）；审计记录（拒绝的调用、个人信息查阅与材料下载）。",
                "",
            ),
            Role::Admin => ("系统管理：可查看各部门待办。", "管理功能将在后续版本加入工作台。"),
            Role::Applicant | Role::Service => ("", ""),
        };
        HomePage {
            layout: Layout::new("首页", "/", person, csrf, names),
            counts: None,
            intro,
            shortcuts: shortcuts(person.role),
            coming,
        }
    }
}

/// The main pages of a role's home.
fn shortcuts(role: Role) -> Vec<(&'static str, &'static str)> {
    match role {
        Role::Agent => vec![("/inbox", "打开待办箱")],
        Role::Clerk => vec![("/packages", "受理（查找一件事）"), ("/inbox", "打开待办箱")],
        Role::Admin => vec![("/inbox", "打开待办箱"), ("/statistics", "月度统计")],
        Role::Officer => vec![("/worklist", "我的办件"), ("/overdue", "办件预警")],
        Role::Supervisor => vec![("/overdue", "超期看板"), ("/statistics", "月度统计"), ("/inbox", "部门待办")],
        Role::Applicant | Role::Service => Vec::new(),
    }
}

/// A refused or failed request, or a sign-in that did not work.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub detail: String,
    /// Offer to sign in (again).
    pub sign_in: bool,
}

impl ErrorPage {
    /// For a visitor not (or no longer) signed in.
    pub fn anonymous(title: &str, detail: &str, sign_in: bool) -> ErrorPage {
        ErrorPage { layout: Layout::anonymous(title), detail: detail.to_owned(), sign_in }
    }

    /// For a signed-in person.
    pub fn signed_in(title: &str, detail: &str, layout: Layout) -> ErrorPage {
        ErrorPage { layout: Layout { title: title.to_owned(), ..layout }, detail: detail.to_owned(), sign_in: false }
    }
}

/// `/signed-out`: after logout.
#[derive(Debug, Template)]
#[template(path = "signed_out.html")]
pub struct SignedOutPage {
    pub layout: Layout,
}

impl Default for SignedOutPage {
    fn default() -> Self {
        SignedOutPage { layout: Layout::anonymous("已退出") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_gets_its_navigation() {
        let hrefs = |role| navigation(role, "/").iter().map(|l| l.href).collect::<Vec<_>>();
        assert_eq!(hrefs(Role::Agent), ["/", "/inbox", "/overdue", "/rectifications", "/opinions", "/report"]);
        assert_eq!(
            hrefs(Role::Supervisor),
            [
                "/",
                "/inbox",
                "/overdue",
                "/statistics",
                "/worklist",
                "/rectifications",
                "/audit",
                "/messages",
                "/opinions",
                "/reports",
                "/assessments"
            ]
        );
        assert_eq!(
            hrefs(Role::Admin),
            ["/", "/inbox", "/statistics", "/reports", "/audit", "/messages", "/assessments"]
        );
        assert_eq!(hrefs(Role::Officer), ["/", "/worklist", "/overdue", "/consultations", "/opinions/new"]);
        assert_eq!(hrefs(Role::Clerk), ["/", "/packages", "/inbox", "/consultations", "/opinions/new"]);
        assert!(navigation(Role::Agent, "/inbox")[1].current);
    }

    #[test]
    fn every_value_of_a_page_is_escaped() {
        let page = ErrorPage::anonymous("t", "<script>alert('x')</script>", false).render().unwrap();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&#60;script&#62;"), "{page}");
    }
}
