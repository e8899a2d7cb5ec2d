//! `yiciban.notifier.v1.NotifierService`: the recorded messages for
//! supervisors and administrators (the access rule refuses everyone else
//! before the handler runs). A malformed request is INVALID_ARGUMENT naming
//! each bad field, and nothing is read.

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_platform::status::{internal, invalid_argument};
use yiciban_platform::{Caller, FieldViolation, Role};
use yiciban_proto::convert::wire::timestamp;
use yiciban_proto::notifier::v1 as pb;
use yiciban_proto::notifier::v1::notifier_service_server::NotifierService;

use crate::Notifier;
use crate::notice::Kind;
use crate::repo::{Filter, MessageRow, Status as RowStatus};

/// The default and the largest page.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// The gRPC face of the notifier.
#[derive(Debug, Clone)]
pub struct NotifierApi {
    state: Arc<Notifier>,
}

impl NotifierApi {
    pub fn new(state: Arc<Notifier>) -> Self {
        NotifierApi { state }
    }
}

fn violation(field: &str, description: &str) -> FieldViolation {
    FieldViolation { field: field.to_owned(), description: description.to_owned() }
}

/// The filter `req` asks for, or every field wrong with it.
pub fn filter(req: &pb::ListMessagesRequest) -> Result<Filter, Vec<FieldViolation>> {
    let mut violations = Vec::new();
    let case_id = match req.case_id.trim() {
        "" => None,
        raw => Uuid::parse_str(raw).map_err(|_| violations.push(violation("case_id", "must be a UUID"))).ok(),
    };
    let status = match pb::MessageStatus::try_from(req.status) {
        Ok(pb::MessageStatus::Unspecified) => None,
        Ok(pb::MessageStatus::Pending) => Some(RowStatus::Pending),
        Ok(pb::MessageStatus::Sent) => Some(RowStatus::Sent),
        Ok(pb::MessageStatus::Failed) => Some(RowStatus::Failed),
        Err(_) => {
            violations.push(violation("status", "not a MessageStatus"));
            None
        }
    };
    let size = match req.page_size {
        0 => DEFAULT_PAGE,
        n if n <= MAX_PAGE => n,
        _ => {
            violations.push(violation("page_size", &format!("at most {MAX_PAGE}")));
            DEFAULT_PAGE
        }
    };
    let before = match req.page_token.trim() {
        "" => None,
        t => t
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| violations.push(violation("page_token", "not a token of this list")))
            .ok(),
    };
    if !violations.is_empty() {
        return Err(violations);
    }
    Ok(Filter { case_id, status, before, limit: i64::from(size) + 1 })
}

fn message(row: MessageRow) -> pb::Message {
    let kind = match Kind::parse(&row.kind) {
        Some(Kind::Accepted) => pb::MessageKind::Accepted,
        Some(Kind::SupplementRequested) => pb::MessageKind::SupplementRequested,
        Some(Kind::Decided) => pb::MessageKind::Decided,
        Some(Kind::ReadyForPickup) => pb::MessageKind::ReadyForPickup,
        Some(Kind::Mailed) => pb::MessageKind::Mailed,
        None => pb::MessageKind::Unspecified,
    };
    let status = match RowStatus::parse(&row.status) {
        Some(RowStatus::Pending) => pb::MessageStatus::Pending,
        Some(RowStatus::Sent) => pb::MessageStatus::Sent,
        Some(RowStatus::Failed) => pb::MessageStatus::Failed,
        None => pb::MessageStatus::Unspecified,
    };
    pb::Message {
        message_id: row.message_id,
        case_id: row.case_id.to_string(),
        case_number: row.case_number,
        kind: kind as i32,
        status: status as i32,
        phone_masked: row.phone_masked,
        template: row.template,
        text: row.text,
        attempts: u32::try_from(row.attempts).unwrap_or(0),
        last_error: row.last_error,
        gateway: row.gateway,
        created_at: Some(timestamp(row.created_at)),
        last_attempt_at: row.last_attempt_at.map(timestamp),
        sent_at: row.sent_at.map(timestamp),
        next_attempt_at: (status == pb::MessageStatus::Pending).then(|| timestamp(row.next_attempt_at)),
    }
}

#[tonic::async_trait]
impl NotifierService for NotifierApi {
    async fn list_messages(
        &self,
        request: Request<pb::ListMessagesRequest>,
    ) -> Result<Response<pb::ListMessagesResponse>, Status> {
        let caller = Caller::of(&request)?;
        caller.require(&[Role::Supervisor, Role::Admin], "list the text messages")?;
        let filter =
            filter(request.get_ref()).map_err(|v| invalid_argument("the message list request is invalid", &v))?;
        let mut rows = self.state.repo.list(&filter).await.map_err(|e| internal("listing the text messages", &e))?;
        let page = usize::try_from(filter.limit - 1).unwrap_or(0);
        let next_page_token = match rows.len() > page {
            true => {
                rows.truncate(page);
                rows.last().map(|r| r.seq.to_string()).unwrap_or_default()
            }
            false => String::new(),
        };
        Ok(Response::new(pb::ListMessagesResponse {
            messages: rows.into_iter().map(message).collect(),
            next_page_token,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(req: pb::ListMessagesRequest) -> Vec<String> {
        filter(&req).unwrap_err().into_iter().map(|v| v.field).collect()
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let req =
            pb::ListMessagesRequest { case_id: "case-1".into(), status: 9, page_size: 201, page_token: "abc".into() };
        assert_eq!(fields(req), ["case_id", "status", "page_size", "page_token"]);
    }

    #[test]
    fn an_empty_request_is_the_first_page_of_everything() {
        let f = filter(&pb::ListMessagesRequest::default()).unwrap();
        assert_eq!((f.case_id, f.status, f.before, f.limit), (None, None, None, i64::from(DEFAULT_PAGE) + 1));
    }
}
