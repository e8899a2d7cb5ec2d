//! What each console page shows: one view model per page, rendered by its
//! askama template in `services/tracking/templates/` (the layout
//! `base.html`, one file per page, shared pieces in `partials/`). The view
//! models hold plain text and numbers already worded for the page (see
//! [`format`]); the templates own the markup and escape every value, so
//! nothing here writes HTML. The HTTP handlers (the parent module) build
//! a view model from the RPCs' answers and hand it to [`super::respond`].

mod case;
pub mod format;
mod lists;
mod report;

use askama::Template;
use yiciban_platform::{Caller, Role};

pub use case::CasePage;
pub use lists::{OverduePage, WorklistPage};
pub use report::ReportPage;

/// What the links of a page carry: the token when it came in the query,
/// and who is signed in.
#[derive(Debug, Default, Clone)]
pub struct Links {
    pub token: Option<String>,
    pub role: Option<Role>,
    pub who: String,
}

impl Links {
    /// A link to `path` with `params` (and the token, if any),
    /// percent-encoded; the template escapes it for the attribute.
    pub fn href(&self, path: &str, params: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            query.append_pair(k, v);
        }
        if let Some(token) = &self.token {
            query.append_pair("token", token);
        }
        let query = query.finish();
        if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") }
    }

    /// The link to a case's page by its number.
    pub fn case(&self, case_number: &str) -> String {
        self.href(&format!("/cases/{}", path_segment(case_number)), &[])
    }
}

/// A path segment, percent-encoded.
pub fn path_segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>().replace('+', "%20")
}

/// What the layout (`base.html`) shows around every page: the title, the
/// navigation, who is signed in, and the token that forms carry on.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    pub nav: Nav,
    /// `None` on the sign-in page and for a visitor not yet known.
    pub user: Option<SignedIn>,
    /// The token to carry in a hidden form field, when it came in the query.
    pub token: Option<String>,
}

/// The links of the navigation bar (the token carried along).
#[derive(Debug, Clone)]
pub struct Nav {
    pub search: String,
    pub worklist: String,
    pub overdue: String,
    pub report: String,
}

/// The signed-in staff member, as the header shows them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub who: String,
    pub role: &'static str,
}

impl Layout {
    /// The layout of a page titled `title`, linking with `links`.
    pub fn new(title: impl Into<String>, links: &Links) -> Layout {
        Layout {
            title: title.into(),
            nav: Nav {
                search: links.href("/", &[]),
                worklist: links.href("/worklist", &[]),
                overdue: links.href("/overdue", &[]),
                report: links.href("/report", &[]),
            },
            user: links.role.map(|role| SignedIn { who: links.who.clone(), role: role.as_str() }),
            token: links.token.clone(),
        }
    }
}

/// `/`: the case search and the shortcuts.
#[derive(Debug, Template)]
#[template(path = "home.html")]
pub struct HomePage {
    pub layout: Layout,
    /// Officers get a shortcut to their own cases.
    pub my_cases: bool,
}

impl HomePage {
    pub fn new(links: &Links, caller: &Caller) -> HomePage {
        HomePage { layout: Layout::new("查询", links), my_cases: caller.role == Role::Officer }
    }
}

/// `/login`: the token form, with a note when signing in failed.
#[derive(Debug, Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    pub layout: Layout,
    /// Why the visitor is asked to sign in again; empty for none.
    pub note: String,
}

impl LoginPage {
    pub fn new(note: &str) -> LoginPage {
        LoginPage { layout: Layout::new("登录", &Links::default()), note: note.to_owned() }
    }
}

/// A refused or failed request.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub detail: String,
}

impl ErrorPage {
    /// The page titled `title` explaining `detail`.
    pub fn new(title: &str, detail: &str, links: &Links) -> ErrorPage {
        ErrorPage { layout: Layout::new(title, links), detail: detail.to_owned() }
    }
}

#[cfg(test)]
mod tests;
