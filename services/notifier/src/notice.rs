//! Which case events become a text message, and what the message needs from
//! the event: [`Notice::of`] reads an event's type and payload (pure) and
//! answers the message's [`Kind`] and its facts — the dates, the pick-up
//! place, the courier — never anything personal. The case number and the
//! package come later, from the case itself, when the message is sent.

use std::collections::BTreeMap;

use yiciban_proto::common::v1::{CaseOutcome, Date};
use yiciban_proto::events::EventPayload;

/// What a message tells the applicant; one template each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// 受理: the application was accepted (ApplicationAccepted).
    Accepted,
    /// 补正 (一次性告知): a department asks for a supplement
    /// (TaskReturnedForSupplement), with the last day to bring it.
    SupplementRequested,
    /// 办结: the case was decided, approved or denied (CaseDecided).
    Decided,
    /// 领证: the results wait at the window (PickupNotified).
    ReadyForPickup,
    /// 邮寄: the results were handed to a courier (Mailed).
    Mailed,
}

impl Kind {
    /// Every kind, in the order of the proto enum.
    pub const ALL: [Kind; 5] =
        [Kind::Accepted, Kind::SupplementRequested, Kind::Decided, Kind::ReadyForPickup, Kind::Mailed];

    /// Its name in the table, the templates file and the API's `template`.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Accepted => "accepted",
            Kind::SupplementRequested => "supplement_requested",
            Kind::Decided => "decided",
            Kind::ReadyForPickup => "ready_for_pickup",
            Kind::Mailed => "mailed",
        }
    }

    /// The kind named `name` ([`Kind::name`]).
    pub fn parse(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The placeholders its template may use: the case's number and
    /// package, and the facts its event carries.
    pub fn placeholders(self) -> &'static [&'static str] {
        match self {
            Kind::Accepted => &["case_number", "package", "promised_by"],
            Kind::SupplementRequested => &["case_number", "package", "due_by"],
            Kind::Decided => &["case_number", "package", "outcome"],
            Kind::ReadyForPickup => &["case_number", "package", "pickup_place", "pickup_by"],
            Kind::Mailed => &["case_number", "package", "courier", "tracking_number"],
        }
    }
}

/// A message to queue: its kind and the facts its event carries, by
/// placeholder name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: Kind,
    pub facts: BTreeMap<String, String>,
}

/// The payload was not the message its type names.
#[derive(Debug, thiserror::Error)]
#[error("the {event_type} payload cannot be read: {source}")]
pub struct UnreadablePayload {
    event_type: String,
    #[source]
    source: yiciban_proto::convert::wire::ConvertError,
}

impl Notice {
    /// The message the event `event_type` with `payload` calls for, if any.
    /// A clock stop or any other event: `None`.
    pub fn of(event_type: &str, payload: &[u8]) -> Result<Option<Notice>, UnreadablePayload> {
        let decoded = EventPayload::decode(event_type, payload)
            .map_err(|source| UnreadablePayload { event_type: event_type.to_owned(), source })?;
        let (kind, facts): (Kind, Vec<(&str, String)>) = match decoded {
            EventPayload::ApplicationAccepted(e) => {
                (Kind::Accepted, vec![("promised_by", date(e.promised_by.as_ref()))])
            }
            EventPayload::TaskReturnedForSupplement(e) => {
                (Kind::SupplementRequested, vec![("due_by", date(e.due_by.as_ref()))])
            }
            EventPayload::CaseDecided(e) => (Kind::Decided, vec![("outcome", outcome(e.outcome()).to_owned())]),
            EventPayload::PickupNotified(e) => (
                Kind::ReadyForPickup,
                vec![("pickup_place", e.pickup_location.trim().to_owned()), ("pickup_by", date(e.pickup_by.as_ref()))],
            ),
            EventPayload::Mailed(e) => (
                Kind::Mailed,
                vec![
                    ("courier", e.courier.trim().to_owned()),
                    ("tracking_number", e.tracking_number.trim().to_owned()),
                ],
            ),
            _ => return Ok(None),
        };
        let facts = facts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        Ok(Some(Notice { kind, facts }))
    }
}

/// A date as the applicant reads it, `2026年3月16日`; empty when unset.
pub fn date(d: Option<&Date>) -> String {
    match d {
        Some(d) if d.year > 0 => format!("{}年{}月{}日", d.year, d.month, d.day),
        _ => String::new(),
    }
}

fn outcome(o: CaseOutcome) -> &'static str {
    match o {
        CaseOutcome::Approved => "准予办理",
        CaseOutcome::Denied => "不予办理",
        _ => "已作出决定",
    }
}

#[cfg(test)]
mod tests {
    use prost::Message as _;
    use yiciban_proto::events::v1 as ev;

    use super::*;

    fn day(year: i32, month: i32, day: i32) -> Option<Date> {
        Some(Date { year, month, day })
    }

    #[test]
    fn the_five_events_become_their_kinds_with_the_facts_they_carry() {
        let accepted = ev::ApplicationAccepted { promised_by: day(2026, 3, 30), ..Default::default() };
        let n = Notice::of("ApplicationAccepted", &accepted.encode_to_vec()).unwrap().unwrap();
        assert_eq!((n.kind, n.facts["promised_by"].as_str()), (Kind::Accepted, "2026年3月30日"));

        let returned = ev::TaskReturnedForSupplement { due_by: day(2026, 4, 2), ..Default::default() };
        let n = Notice::of("TaskReturnedForSupplement", &returned.encode_to_vec()).unwrap().unwrap();
        assert_eq!((n.kind, n.facts["due_by"].as_str()), (Kind::SupplementRequested, "2026年4月2日"));

        let decided = ev::CaseDecided { outcome: CaseOutcome::Denied as i32, ..Default::default() };
        let n = Notice::of("CaseDecided", &decided.encode_to_vec()).unwrap().unwrap();
        assert_eq!((n.kind, n.facts["outcome"].as_str()), (Kind::Decided, "不予办理"));

        let pickup = ev::PickupNotified {
            pickup_location: " 政务服务中心一楼 8号窗口 ".into(),
            pickup_by: day(2026, 5, 1),
            ..Default::default()
        };
        let n = Notice::of("PickupNotified", &pickup.encode_to_vec()).unwrap().unwrap();
        assert_eq!(n.kind, Kind::ReadyForPickup);
        assert_eq!(n.facts["pickup_place"], "政务服务中心一楼 8号窗口");

        let mailed = ev::Mailed { courier: "EMS".into(), tracking_number: "1234567890".into(), ..Default::default() };
        let n = Notice::of("Mailed", &mailed.encode_to_vec()).unwrap().unwrap();
        assert_eq!((n.kind, n.facts["tracking_number"].as_str()), (Kind::Mailed, "1234567890"));
    }

    #[test]
    fn other_events_and_unknown_types_call_for_no_message() {
        let stopped = ev::CaseClockStopped::default();
        assert_eq!(Notice::of("CaseClockStopped", &stopped.encode_to_vec()).unwrap(), None);
        assert_eq!(Notice::of("SomethingNewer", b"\x01\x02").unwrap(), None);
    }

    #[test]
    fn a_payload_that_is_not_its_message_is_unreadable() {
        assert!(Notice::of("Mailed", b"\xff\xff\xff").is_err());
    }

    #[test]
    fn every_kind_has_a_name_that_parses_back() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.name()), Some(kind));
        }
        assert_eq!(Kind::parse("birthday"), None);
    }
}
