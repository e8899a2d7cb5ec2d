//! `/messages` (短信记录): the text messages the notifier recorded, newest
//! first, as NotifierService.ListMessages answers the person (supervisors
//! and administrators): the masked phone, the text, where each stands and
//! how many attempts it took.

use askama::Template;
use yiciban_proto::notifier::v1::{ListMessagesRequest, ListMessagesResponse, Message, MessageKind, MessageStatus};

use super::filters::{BadFilter, code};
use super::inbox::Choice;
use super::{Layout, format};

/// Messages per page.
pub const PAGE_SIZE: u32 = 50;

/// The list's filters as the page's query carries them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MessagesQuery {
    /// A case id (UUID); empty for every case.
    pub case: String,
    /// `pending`, `sent`, `failed`; empty for any.
    pub status: String,
    pub page: String,
}

const STATUSES: [(&str, &str, MessageStatus); 3] = [
    ("pending", "待发送", MessageStatus::Pending),
    ("sent", "已发送", MessageStatus::Sent),
    ("failed", "发送失败", MessageStatus::Failed),
];

impl MessagesQuery {
    pub fn parse(pairs: &[(String, String)]) -> Result<MessagesQuery, BadFilter> {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.trim());
        let status = get("status");
        if !status.is_empty() && !STATUSES.iter().any(|(value, _, _)| *value == status) {
            return Err(BadFilter { field: "status", reason: "应为 pending、sent 或 failed".into() });
        }
        Ok(MessagesQuery {
            case: code("case", get("case"), 64)?,
            status: status.to_owned(),
            page: code("page", get("page"), 64)?,
        })
    }

    pub fn request(&self) -> ListMessagesRequest {
        let status = STATUSES.iter().find(|(value, _, _)| *value == self.status).map(|(_, _, s)| *s);
        ListMessagesRequest {
            case_id: self.case.clone(),
            status: status.unwrap_or(MessageStatus::Unspecified) as i32,
            page_size: PAGE_SIZE,
            page_token: self.page.clone(),
        }
    }

    /// `/messages` with these filters and `page`.
    pub fn href(&self, page: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [("case", &self.case), ("status", &self.status)] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        if !page.is_empty() {
            q.append_pair("page", page);
        }
        let query = q.finish();
        if query.is_empty() { "/messages".to_owned() } else { format!("/messages?{query}") }
    }
}

/// One recorded message.
#[derive(Debug, Clone)]
pub struct MessageRow {
    pub case_href: String,
    pub case_number: String,
    pub kind: &'static str,
    pub phone_masked: String,
    pub text: String,
    pub status: &'static str,
    pub failed: bool,
    pub attempts: u32,
    pub last_error: String,
    pub created_at: String,
    pub last_attempt_at: String,
}

fn kind(k: MessageKind) -> &'static str {
    match k {
        MessageKind::Accepted => "受理",
        MessageKind::SupplementRequested => "补正告知",
        MessageKind::Decided => "办结",
        MessageKind::ReadyForPickup => "领取通知",
        MessageKind::Mailed => "邮寄",
        MessageKind::Unspecified => "—",
    }
}

impl MessageRow {
    fn new(m: &Message) -> MessageRow {
        let status = STATUSES.iter().find(|(_, _, s)| *s == m.status()).map_or("—", |(_, label, _)| *label);
        MessageRow {
            case_href: format!("/cases/{}", m.case_id),
            case_number: if m.case_number.is_empty() { m.case_id.clone() } else { m.case_number.clone() },
            kind: kind(m.kind()),
            phone_masked: m.phone_masked.clone(),
            text: m.text.clone(),
            status,
            failed: m.status() == MessageStatus::Failed,
            attempts: m.attempts,
            last_error: m.last_error.clone(),
            created_at: format::timestamp(m.created_at.as_ref()),
            last_attempt_at: format::timestamp(m.last_attempt_at.as_ref()),
        }
    }
}

/// `/messages`.
#[derive(Debug, Template)]
#[template(path = "messages.html")]
pub struct MessagesPage {
    pub layout: Layout,
    pub case: String,
    pub statuses: Vec<Choice>,
    /// `None` when the list could not be read (see `error`).
    pub rows: Option<Vec<MessageRow>>,
    pub next_page: Option<String>,
    pub error: Option<String>,
}

impl MessagesPage {
    pub fn new(layout: Layout, query: &MessagesQuery, answer: Option<&ListMessagesResponse>) -> MessagesPage {
        let mut statuses =
            vec![Choice { value: String::new(), label: "全部".into(), selected: query.status.is_empty() }];
        statuses.extend(STATUSES.iter().map(|(value, label, _)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: query.status == *value,
        }));
        MessagesPage {
            layout,
            case: query.case.clone(),
            statuses,
            rows: answer.map(|a| a.messages.iter().map(MessageRow::new).collect()),
            next_page: answer.filter(|a| !a.next_page_token.is_empty()).map(|a| query.href(&a.next_page_token)),
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(raw: &[(&str, &str)]) -> Vec<(String, String)> {
        raw.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_filters_become_the_request_and_an_unknown_status_is_refused() {
        let q = MessagesQuery::parse(&pairs(&[("status", "failed"), ("page", "42")])).unwrap();
        let r = q.request();
        assert_eq!((r.status, r.page_size, r.page_token.as_str()), (MessageStatus::Failed as i32, PAGE_SIZE, "42"));
        assert_eq!(q.href("7"), "/messages?status=failed&page=7");
        assert_eq!(MessagesQuery::parse(&pairs(&[("status", "lost")])).unwrap_err().field, "status");
    }

    #[test]
    fn a_row_shows_the_masked_phone_the_text_and_where_it_stands() {
        let m = Message {
            case_id: "c1".into(),
            case_number: "YCB-20260316-000001".into(),
            kind: MessageKind::ReadyForPickup as i32,
            status: MessageStatus::Failed as i32,
            phone_masked: "138****0000".into(),
            text: "请领取".into(),
            attempts: 3,
            last_error: "refused: HTTP 400".into(),
            ..Default::default()
        };
        let row = MessageRow::new(&m);
        assert_eq!((row.kind, row.status, row.failed, row.attempts), ("领取通知", "发送失败", true, 3));
        assert_eq!(row.case_href, "/cases/c1");
    }
}
