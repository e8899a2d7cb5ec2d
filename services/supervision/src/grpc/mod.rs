//! `yiciban.supervision.v1.SupervisionService`: thin handlers over the
//! command runners ([`consultations`], [`opinions`]) and the rows
//! ([`queries`]); `ReportService` ([`ReportApi`]) over the report streams. Each checks the caller's role (the access rule has done so
//! already; the handler narrows to the caller's own records or department),
//! parses the request listing every bad field at once, and changes nothing
//! on any refusal.

pub mod assessments;
mod consultations;
mod opinions;
mod queries;
mod reports;
mod sampling;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_platform::FieldViolation;
use yiciban_proto::supervision::v1 as pb;
use yiciban_proto::supervision::v1::supervision_service_server::SupervisionService;

use crate::Supervision;

pub use reports::ReportApi;

/// The default and the largest page.
pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// The gRPC face of the supervision service.
#[derive(Debug, Clone)]
pub struct SupervisionApi {
    state: Arc<Supervision>,
}

impl SupervisionApi {
    pub fn new(state: Arc<Supervision>) -> Self {
        SupervisionApi { state }
    }
}

pub(crate) fn violation(field: &str, description: impl Into<String>) -> FieldViolation {
    FieldViolation { field: field.to_owned(), description: description.into() }
}

/// The domain's violations as the wire's.
pub(crate) fn wire(violations: Vec<yiciban_domain::FieldViolation>) -> impl Iterator<Item = FieldViolation> {
    violations.into_iter().map(|v| FieldViolation { field: v.field, description: v.description })
}

/// A UUID field that may be empty.
pub(crate) fn optional_id(field: &str, raw: &str, violations: &mut Vec<FieldViolation>) -> Option<Uuid> {
    match raw.trim() {
        "" => None,
        raw => Uuid::parse_str(raw).map_err(|_| violations.push(violation(field, "不是有效的编号（UUID）"))).ok(),
    }
}

/// A UUID field that must be set; every problem answered at once.
pub(crate) fn required_id(field: &str, raw: &str) -> Result<Uuid, Status> {
    let mut violations = Vec::new();
    match optional_id(field, raw, &mut violations) {
        Some(id) => Ok(id),
        None => {
            if violations.is_empty() {
                violations.push(violation(field, "不能为空"));
            }
            Err(refused(&violations))
        }
    }
}

/// A department code field that may be empty.
pub(crate) fn optional_department(field: &str, raw: &str, violations: &mut Vec<FieldViolation>) -> Option<String> {
    match raw.trim() {
        "" => None,
        raw => yiciban_domain::values::DepartmentCode::parse(raw)
            .map(|d| d.as_str().to_owned())
            .map_err(|_| violations.push(violation(field, "不是有效的部门代码")))
            .ok(),
    }
}

/// A page: `(offset, size)` from the request's size and token.
pub(crate) fn page(size: u32, token: &str, violations: &mut Vec<FieldViolation>) -> (i64, i64) {
    let size = match size {
        0 => DEFAULT_PAGE,
        n if n <= MAX_PAGE => n,
        _ => {
            violations.push(violation("page_size", format!("at most {MAX_PAGE}")));
            DEFAULT_PAGE
        }
    };
    let offset = match token.trim() {
        "" => 0,
        t => t.parse::<i64>().ok().filter(|n| *n > 0).unwrap_or_else(|| {
            violations.push(violation("page_token", "not a token of this list"));
            0
        }),
    };
    (offset, i64::from(size))
}

/// The next page's token, or empty after the last.
pub(crate) fn next_token(offset: i64, size: i64, total: i64) -> String {
    if offset + size < total { (offset + size).to_string() } else { String::new() }
}

/// `INVALID_ARGUMENT` listing every violation.
pub(crate) fn refused(violations: &[FieldViolation]) -> Status {
    yiciban_platform::status::invalid_argument(
        "the request cannot be carried out as it is; correct every listed field",
        violations,
    )
}

#[tonic::async_trait]
impl SupervisionService for SupervisionApi {
    async fn record_consultation(
        &self,
        request: Request<pb::RecordConsultationRequest>,
    ) -> Result<Response<pb::RecordConsultationResponse>, Status> {
        consultations::record(&self.state, request).await.map(Response::new)
    }

    async fn link_consultation_to_case(
        &self,
        request: Request<pb::LinkConsultationToCaseRequest>,
    ) -> Result<Response<pb::LinkConsultationToCaseResponse>, Status> {
        consultations::link(&self.state, request).await.map(Response::new)
    }

    async fn list_consultations(
        &self,
        request: Request<pb::ListConsultationsRequest>,
    ) -> Result<Response<pb::ListConsultationsResponse>, Status> {
        queries::consultations(&self.state, request).await.map(Response::new)
    }

    async fn record_opinion(
        &self,
        request: Request<pb::RecordOpinionRequest>,
    ) -> Result<Response<pb::RecordOpinionResponse>, Status> {
        opinions::record(&self.state, request).await.map(Response::new)
    }

    async fn assign_opinion(
        &self,
        request: Request<pb::AssignOpinionRequest>,
    ) -> Result<Response<pb::AssignOpinionResponse>, Status> {
        opinions::assign(&self.state, request).await.map(Response::new)
    }

    async fn answer_opinion(
        &self,
        request: Request<pb::AnswerOpinionRequest>,
    ) -> Result<Response<pb::AnswerOpinionResponse>, Status> {
        opinions::answer(&self.state, request).await.map(Response::new)
    }

    async fn close_opinion(
        &self,
        request: Request<pb::CloseOpinionRequest>,
    ) -> Result<Response<pb::CloseOpinionResponse>, Status> {
        opinions::close(&self.state, request).await.map(Response::new)
    }

    async fn record_opinion_return_visit(
        &self,
        request: Request<pb::RecordOpinionReturnVisitRequest>,
    ) -> Result<Response<pb::RecordOpinionReturnVisitResponse>, Status> {
        opinions::visit(&self.state, request).await.map(Response::new)
    }

    async fn record_opinion_rectification(
        &self,
        request: Request<pb::RecordOpinionRectificationRequest>,
    ) -> Result<Response<pb::RecordOpinionRectificationResponse>, Status> {
        opinions::rectification(&self.state, request).await.map(Response::new)
    }

    async fn sample_opinion_return_visits(
        &self,
        request: Request<pb::SampleOpinionReturnVisitsRequest>,
    ) -> Result<Response<pb::SampleOpinionReturnVisitsResponse>, Status> {
        sampling::sample(&self.state, request).await.map(Response::new)
    }

    async fn list_opinions(
        &self,
        request: Request<pb::ListOpinionsRequest>,
    ) -> Result<Response<pb::ListOpinionsResponse>, Status> {
        queries::opinions(&self.state, request).await.map(Response::new)
    }

    async fn get_opinion(
        &self,
        request: Request<pb::GetOpinionRequest>,
    ) -> Result<Response<pb::GetOpinionResponse>, Status> {
        queries::opinion(&self.state, request).await.map(Response::new)
    }

    async fn count_supervision(
        &self,
        request: Request<pb::CountSupervisionRequest>,
    ) -> Result<Response<pb::CountSupervisionResponse>, Status> {
        queries::counts(&self.state, request).await.map(Response::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_bounded_and_tokens_are_offsets() {
        let mut v = Vec::new();
        assert_eq!(page(0, "", &mut v), (0, i64::from(DEFAULT_PAGE)));
        assert_eq!(page(10, "20", &mut v), (20, 10));
        assert!(v.is_empty());
        page(201, "x", &mut v);
        assert_eq!(v.iter().map(|v| v.field.as_str()).collect::<Vec<_>>(), ["page_size", "page_token"]);
        assert_eq!((next_token(0, 10, 25), next_token(20, 10, 25)), ("10".to_owned(), String::new()));
    }
}
