//! 意见登记 (`/opinions/new`): the form recording an opinion, suggestion or
//! complaint as it arrives — at the window, on the hotline, by e-mail, from
//! the suggestion box, the rating system or the complaint platform — with
//! its kind, channel and summary, the case it concerns (by its number), the
//! department and person, and the complainant's contact (sealed by the
//! supervision service). For clerks (the window and the hotline desk),
//! officers and supervisors.

use askama::Template;
use yiciban_proto::supervision::v1::{OpinionChannel, OpinionKind};

use super::Layout;
use super::decide::Sent;
use super::inbox::Choice;

/// The kinds the form offers: (form value, label, kind).
pub const KINDS: [(&str, &str, OpinionKind); 3] = [
    ("complaint", "投诉", OpinionKind::Complaint),
    ("opinion", "意见", OpinionKind::Opinion),
    ("suggestion", "建议", OpinionKind::Suggestion),
];

/// The channels the form offers: (form value, label, channel).
pub const CHANNELS: [(&str, &str, OpinionChannel); 6] = [
    ("12345", "12345热线", OpinionChannel::Hotline12345),
    ("service-hotline", "政务服务热线", OpinionChannel::ServiceHotline),
    ("rating", "好差评", OpinionChannel::Rating),
    ("box", "意见箱", OpinionChannel::SuggestionBox),
    ("email", "电子邮件", OpinionChannel::Email),
    ("platform", "投诉平台", OpinionChannel::ComplaintPlatform),
];

/// The kind a form value names (UNSPECIFIED: refused next to the field).
pub fn kind_of(value: &str) -> OpinionKind {
    KINDS.iter().find(|(v, _, _)| *v == value).map_or(OpinionKind::Unspecified, |(_, _, k)| *k)
}

/// The channel a form value names (UNSPECIFIED: refused next to the field).
pub fn channel_of(value: &str) -> OpinionChannel {
    CHANNELS.iter().find(|(v, _, _)| *v == value).map_or(OpinionChannel::Unspecified, |(_, _, c)| *c)
}

/// The form input a service's field violation is about (`case_id` is
/// typed as the case's number).
pub fn input_of(field: &str) -> Option<String> {
    let input = match field {
        "kind" | "channel" | "summary" | "department" | "person" | "case_number" => field,
        "case_id" => "case_number",
        "contact.name" => "contact_name",
        "contact.phone" => "contact_phone",
        _ => return None,
    };
    Some(input.to_owned())
}

fn choices<T>(table: &[(&str, &str, T)], picked: &str) -> Vec<Choice> {
    table
        .iter()
        .map(|(value, label, _)| Choice {
            value: (*value).to_owned(),
            label: (*label).to_owned(),
            selected: picked == *value,
        })
        .collect()
}

/// `/opinions/new`.
#[derive(Debug, Template)]
#[template(path = "opinion_new.html")]
pub struct RecordOpinionPage {
    pub layout: Layout,
    pub kinds: Vec<Choice>,
    pub channels: Vec<Choice>,
    /// What was sent and what the services said about it.
    pub sent: Sent,
    /// This form's idempotency key: a double submit records once.
    pub key: String,
    /// Recorded: the confirmation (and, for a supervisor, where it is).
    pub done: Option<Recorded>,
}

/// What the page confirms after an opinion was recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Its page, for a supervisor (others cannot open it).
    pub href: Option<String>,
}

impl RecordOpinionPage {
    pub fn new(layout: Layout, sent: Sent, done: Option<Recorded>) -> RecordOpinionPage {
        RecordOpinionPage {
            layout,
            kinds: choices(&KINDS, sent.value("kind")),
            channels: choices(&CHANNELS, sent.value("channel")),
            sent,
            key: uuid::Uuid::now_v7().to_string(),
            done,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_and_channel_has_a_form_value_and_unknown_ones_are_left_to_the_service() {
        assert_eq!(kind_of("complaint"), OpinionKind::Complaint);
        assert_eq!(channel_of("platform"), OpinionChannel::ComplaintPlatform);
        assert_eq!((kind_of("x"), channel_of("")), (OpinionKind::Unspecified, OpinionChannel::Unspecified));
        assert_eq!(input_of("case_id").as_deref(), Some("case_number"));
        assert_eq!(input_of("contact.phone").as_deref(), Some("contact_phone"));
        assert_eq!(input_of("idempotency_key"), None);
    }
}
