//! The one decoder of event payloads: a stored or published event is its
//! type (the `yiciban.events.v1` message name) and the prost encoding of that
//! message; [`EventPayload`] is the message, whichever it is. The services'
//! conversions into domain events, the tracking projection and the process
//! managers all read payloads through it.

use prost::{Message, Name};

use crate::convert::wire::ConvertError;
use crate::events::v1 as ev;

macro_rules! payloads {
    ($($name:ident),+ $(,)?) => {
        /// The payload of one case event, decoded as the message its event
        /// type names.
        #[derive(Debug, Clone, PartialEq)]
        pub enum EventPayload {
            $(
                #[allow(missing_docs)]
                $name(ev::$name),
            )+
            /// An event type this build does not know (a newer producer's):
            /// its payload is not read. Readers that fold every event keep
            /// it; a reader of one aggregate's stream refuses it.
            Other,
        }

        impl EventPayload {
            /// The message named `event_type`, decoded from `payload`; an
            /// event type this build does not know is [`EventPayload::Other`],
            /// a payload that is not its message is an error.
            pub fn decode(event_type: &str, payload: &[u8]) -> Result<Self, ConvertError> {
                Ok(match event_type {
                    $(ev::$name::NAME => EventPayload::$name(message(payload)?),)+
                    _ => EventPayload::Other,
                })
            }

            /// [`EventPayload::decode`] for a reader of known streams: an
            /// event type this build does not know is
            /// [`ConvertError::UnknownEventType`].
            pub fn decode_known(event_type: &str, payload: &[u8]) -> Result<Self, ConvertError> {
                match Self::decode(event_type, payload)? {
                    EventPayload::Other => Err(ConvertError::UnknownEventType(event_type.to_owned())),
                    known => Ok(known),
                }
            }

            /// The event type: the message name (`None` for
            /// [`EventPayload::Other`]).
            pub fn event_type(&self) -> Option<&'static str> {
                match self {
                    $(EventPayload::$name(_) => Some(ev::$name::NAME),)+
                    EventPayload::Other => None,
                }
            }

            /// The prost encoding of the message (empty for
            /// [`EventPayload::Other`]).
            pub fn encode_to_vec(&self) -> Vec<u8> {
                match self {
                    $(EventPayload::$name(m) => m.encode_to_vec(),)+
                    EventPayload::Other => Vec::new(),
                }
            }
        }

        $(
            impl From<ev::$name> for EventPayload {
                fn from(message: ev::$name) -> Self {
                    EventPayload::$name(message)
                }
            }
        )+

        #[cfg(test)]
        pub(crate) const EVENT_TYPES: &[&str] = &[$(stringify!($name)),+];
    };
}

fn message<M: Message + Name + Default>(payload: &[u8]) -> Result<M, ConvertError> {
    M::decode(payload).map_err(|source| ConvertError::Decode { event_type: M::NAME, source })
}

payloads!(
    // intake
    ApplicationSubmitted,
    ApplicationAccepted,
    ApplicationNotAccepted,
    OfficerAssigned,
    MaterialsSupplemented,
    DeficiencyCleared,
    CaseTerminated,
    ApplicationWithdrawn,
    PersonalDataErased,
    // routing
    CasePlanned,
    StepDispatched,
    StepOutcomeRecorded,
    StepCancelled,
    PlanEnded,
    CaseClockStopped,
    CaseClockResumed,
    CaseDecided,
    CaseHandedToIssuance,
    // tasks
    TaskCreated,
    TaskClaimed,
    TaskTransferred,
    TaskApproved,
    TaskDenied,
    TaskReturnedForSupplement,
    TaskResumed,
    TaskWarned,
    TaskEscalated,
    TaskCancelled,
    PostCheckPassed,
    PostCheckFailed,
    ApprovalRevoked,
    TaskUrged,
    // issuance
    IssuancePrepared,
    PickupNotified,
    PickedUp,
    Mailed,
    DeliveryFailed,
    Delivered,
    CaseClosed,
    RatingReceived,
    RectificationOpened,
    RectificationVerified,
    RectificationRectified,
    RectificationExplained,
    RectificationClosed,
    RatingMarkedInvalid,
    ReturnVisitSampled,
    ReturnVisitRecorded,
);

#[cfg(test)]
mod tests {
    use prost::Message as _;

    use super::*;

    /// Messages of `yiciban.events.v1` that are parts of events, not events.
    const PARTS: &[&str] =
        &["EventEnvelope", "PlannedStep", "StepDenial", "Collector", "CollectorIdentity", "PersonalData"];

    #[test]
    fn every_event_message_of_the_contract_is_decoded() {
        let set = prost_types::FileDescriptorSet::decode(crate::FILE_DESCRIPTOR_SET).unwrap();
        let messages: Vec<&str> = set
            .file
            .iter()
            // reference.proto holds reference-data events, bare messages on
            // their own subjects, never the payload of a case event.
            .filter(|f| f.package() == "yiciban.events.v1" && !f.name().ends_with("/reference.proto"))
            .flat_map(|f| f.message_type.iter().map(|m| m.name()))
            .filter(|name| !PARTS.contains(name))
            .collect();
        assert!(messages.len() > 40, "{messages:?}");
        for name in &messages {
            assert!(EVENT_TYPES.contains(name), "{name} is an event message the payload decoder does not know");
        }
        for name in EVENT_TYPES {
            assert!(messages.contains(name), "{name} is no event message of the contract");
        }
    }

    #[test]
    fn a_payload_round_trips_and_an_unknown_type_is_other() {
        let claimed = ev::TaskClaimed { task_id: "t".into(), assignee: "a".into() };
        let payload = EventPayload::from(claimed.clone());
        assert_eq!(payload.event_type(), Some("TaskClaimed"));
        assert_eq!(EventPayload::decode("TaskClaimed", &payload.encode_to_vec()).unwrap(), payload);
        assert_eq!(EventPayload::decode("SomethingNew", b"\x08\x01").unwrap(), EventPayload::Other);
        assert_eq!(EventPayload::Other.event_type(), None);
        let err = EventPayload::decode_known("SomethingNew", b"").unwrap_err();
        assert!(matches!(&err, ConvertError::UnknownEventType(t) if t == "SomethingNew"), "{err:?}");
        let err = EventPayload::decode("TaskClaimed", b"\x0a\x05ab").unwrap_err();
        assert!(matches!(err, ConvertError::Decode { event_type: "TaskClaimed", .. }), "{err:?}");
    }
}
