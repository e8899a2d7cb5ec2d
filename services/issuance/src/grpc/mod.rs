//! The gRPC face of the issuance service: IssuanceService. Each RPC checks
//! the caller's role, parses its request (every malformed field at once,
//! INVALID_ARGUMENT, nothing recorded), looks up the facts it needs (the
//! case at intake, approved tasks), authorises against the loaded issuance
//! where that depends on the case, and runs its command through
//! the shared command runner ([`crate::commands::IssuanceRunner`]). Handlers live by concern in `delivery`
//! (batches and their way to the applicant) and `after` (ratings,
//! rectifications, return visits, the query) and `ledger` (the lists
//! across cases).

mod after;
mod delivery;
mod ledger;
mod scope;

use std::sync::Arc;

use tonic::{Request, Response, Status};
use uuid::Uuid;
use yiciban_domain::issuance::{CaseIssuance as State, Command, Event};
use yiciban_platform::Caller;
use yiciban_proto::issuance::v1 as pb;
use yiciban_proto::issuance::v1::issuance_service_server::IssuanceService;

use crate::Issuance;
use yiciban_commands::{Idempotency, Invocation, Target, refuse};

use crate::commands::RowFacts;

/// The IssuanceService RPCs.
#[derive(Debug, Clone)]
pub struct IssuanceApi {
    issuance: Arc<Issuance>,
}

impl IssuanceApi {
    /// The RPCs over the service state.
    pub fn new(issuance: Arc<Issuance>) -> Self {
        IssuanceApi { issuance }
    }

    /// Runs a command on a case's issuance for `caller`, idempotently.
    #[allow(clippy::too_many_arguments)]
    async fn run<R: prost::Message + Default>(
        &self,
        caller: &Caller,
        case_id: Uuid,
        expected: u64,
        idempotency: Idempotency,
        facts: RowFacts,
        command: impl Fn(&State) -> Result<Command, Status> + Send + Sync,
        respond: impl Fn(&State, &[Event]) -> R + Send + Sync,
    ) -> Result<Response<R>, Status> {
        let invocation = Invocation::of(caller, Some(idempotency), expected);
        let done = self
            .issuance
            .runner
            .run_with(
                Target::Open { id: case_id, case_id },
                &invocation,
                &facts,
                |loaded| command(&loaded.state),
                |after, events| respond(&after.state, events),
            )
            .await?;
        Ok(Response::new(done.into_inner()))
    }

    /// The stored response when this request was handled before (so a
    /// retry needs no lookups at other services).
    async fn replayed<R: prost::Message + Default>(&self, idempotency: &Idempotency) -> Result<Option<R>, Status> {
        idempotency.replayed(self.issuance.runner.store()).await
    }
}

pub(crate) use yiciban_domain::Violations;

/// The request-parsing checks of the issuance RPCs, on the domain's
/// [`Violations`] (so every malformed field is listed at once).
pub(crate) trait RequestChecks {
    /// A UUID field; `None` (and a violation) when it is not one.
    fn uuid(&mut self, field: &str, raw: &str) -> Option<Uuid>;

    /// A required enum field, converted (`Err` when unset or unknown).
    fn required<T, E>(&mut self, field: &str, value: Result<T, E>, what: &str) -> Option<T>;

    /// An optional date field.
    fn date(&mut self, field: &str, value: Option<&yiciban_proto::common::v1::Date>) -> Option<chrono::NaiveDate>;

    /// An uploaded file reference.
    fn file(&mut self, field: &str, f: &yiciban_proto::common::v1::MaterialRef);

    /// A batch number (1-based).
    fn batch(&mut self, batch_number: u32);

    /// `INVALID_ARGUMENT` with every violation, or `Ok`.
    fn done(self) -> Result<(), Status>;
}

impl RequestChecks for Violations {
    fn uuid(&mut self, field: &str, raw: &str) -> Option<Uuid> {
        let parsed = Uuid::parse_str(raw.trim()).ok();
        if parsed.is_none() {
            self.add(field, "须为 UUID");
        }
        parsed
    }

    fn required<T, E>(&mut self, field: &str, value: Result<T, E>, what: &str) -> Option<T> {
        let parsed = value.ok();
        if parsed.is_none() {
            self.add(field, format!("须选择{what}"));
        }
        parsed
    }

    fn date(&mut self, field: &str, value: Option<&yiciban_proto::common::v1::Date>) -> Option<chrono::NaiveDate> {
        let d = value?;
        let parsed = chrono::NaiveDate::try_from(*d).ok();
        if parsed.is_none() {
            self.add(field, "不是有效的日期");
        }
        parsed
    }

    fn file(&mut self, field: &str, f: &yiciban_proto::common::v1::MaterialRef) {
        for (field, description) in yiciban_proto::convert::issuance::file_ref_violations(field, f) {
            self.add(field, description);
        }
    }

    fn batch(&mut self, batch_number: u32) {
        if batch_number == 0 {
            self.add("batch_number", "批次号从1开始");
        }
    }

    fn done(self) -> Result<(), Status> {
        if self.is_empty() { Ok(()) } else { Err(refuse(self.into_vec())) }
    }
}

/// Parses a case id alone (queries), or `INVALID_ARGUMENT` naming it.
pub(crate) fn case_id_field(raw: &str) -> Result<Uuid, Status> {
    let mut v = Violations::default();
    let id = v.uuid("case_id", raw);
    v.done()?;
    Ok(id.expect("checked"))
}

#[tonic::async_trait]
impl IssuanceService for IssuanceApi {
    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn prepare_issuance(
        &self,
        request: Request<pb::PrepareIssuanceRequest>,
    ) -> Result<Response<pb::PrepareIssuanceResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::prepare(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn issue_early(
        &self,
        request: Request<pb::IssueEarlyRequest>,
    ) -> Result<Response<pb::IssueEarlyResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::issue_early(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn notify_pickup(
        &self,
        request: Request<pb::NotifyPickupRequest>,
    ) -> Result<Response<pb::NotifyPickupResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::notify_pickup(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn confirm_pickup(
        &self,
        request: Request<pb::ConfirmPickupRequest>,
    ) -> Result<Response<pb::ConfirmPickupResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::confirm_pickup(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_mailing(
        &self,
        request: Request<pb::RecordMailingRequest>,
    ) -> Result<Response<pb::RecordMailingResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::record_mailing(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_delivery(
        &self,
        request: Request<pb::RecordDeliveryRequest>,
    ) -> Result<Response<pb::RecordDeliveryResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::record_delivery(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_delivery_failure(
        &self,
        request: Request<pb::RecordDeliveryFailureRequest>,
    ) -> Result<Response<pb::RecordDeliveryFailureResponse>, Status> {
        let caller = Caller::of(&request)?;
        delivery::record_delivery_failure(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn rate_case(&self, request: Request<pb::RateCaseRequest>) -> Result<Response<pb::RateCaseResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::rate(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn review_rating(
        &self,
        request: Request<pb::ReviewRatingRequest>,
    ) -> Result<Response<pb::ReviewRatingResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::review_rating(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn open_rectification(
        &self,
        request: Request<pb::OpenRectificationRequest>,
    ) -> Result<Response<pb::OpenRectificationResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::open_rectification(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn verify_rectification(
        &self,
        request: Request<pb::VerifyRectificationRequest>,
    ) -> Result<Response<pb::VerifyRectificationResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::verify_rectification(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_rectification(
        &self,
        request: Request<pb::RecordRectificationRequest>,
    ) -> Result<Response<pb::RecordRectificationResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::record_rectification(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn explain_rectification(
        &self,
        request: Request<pb::ExplainRectificationRequest>,
    ) -> Result<Response<pb::ExplainRectificationResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::explain_rectification(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn close_rectification(
        &self,
        request: Request<pb::CloseRectificationRequest>,
    ) -> Result<Response<pb::CloseRectificationResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::close_rectification(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(period = %request.get_ref().period))]
    async fn sample_return_visits(
        &self,
        request: Request<pb::SampleReturnVisitsRequest>,
    ) -> Result<Response<pb::SampleReturnVisitsResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::sample_return_visits(self, &caller, request.into_inner()).await
    }

    #[tracing::instrument(skip_all, fields(case_id = %request.get_ref().case_id))]
    async fn record_return_visit(
        &self,
        request: Request<pb::RecordReturnVisitRequest>,
    ) -> Result<Response<pb::RecordReturnVisitResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::record_return_visit(self, &caller, request.into_inner()).await
    }

    async fn get_issuance(
        &self,
        request: Request<pb::GetIssuanceRequest>,
    ) -> Result<Response<pb::GetIssuanceResponse>, Status> {
        let caller = Caller::of(&request)?;
        after::get_issuance(self, &caller, request.into_inner()).await
    }

    async fn list_rectifications(
        &self,
        request: Request<pb::ListRectificationsRequest>,
    ) -> Result<Response<pb::ListRectificationsResponse>, Status> {
        let caller = Caller::of(&request)?;
        ledger::list_rectifications(self, &caller, request.into_inner()).await
    }

    async fn list_ratings(
        &self,
        request: Request<pb::ListRatingsRequest>,
    ) -> Result<Response<pb::ListRatingsResponse>, Status> {
        let caller = Caller::of(&request)?;
        ledger::list_ratings(self, &caller, request.into_inner()).await
    }
}
