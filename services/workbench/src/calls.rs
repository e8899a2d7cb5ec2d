//! The services the workbench calls for a person: typed gRPC clients
//! carrying that person's access token for the service's audience (and the
//! request's trace context), and a service's answer worded for the page.

use std::sync::Arc;

use axum::http::StatusCode;
use tonic::codegen::InterceptedService;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use yiciban_platform::auth::{Authorized, TokenSource};
use yiciban_platform::config::OidcConfig;
use yiciban_platform::grpc::{ClientAuth, lazy_channel};
use yiciban_platform::read_log::PURPOSE_HEADER;
use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;
use yiciban_proto::catalog::v1::GetContactResponse;
use yiciban_proto::catalog::v1::catalog_service_client::CatalogServiceClient;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::intake::v1::material_service_client::MaterialServiceClient;
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_proto::notifier::v1::notifier_service_client::NotifierServiceClient;
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;
use yiciban_proto::supervision::v1::assessment_service_client::AssessmentServiceClient;
use yiciban_proto::supervision::v1::report_service_client::ReportServiceClient;
use yiciban_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;

/// What the task page states when it reads the application (recorded in
/// intake's personal-data read log).
pub const TASK_PAGE_PURPOSE: &str = "部门经办：审查本部门环节所需的申请信息（工作台任务页）";

/// What the workbench states when it hands out a material's file
/// (recorded in intake's personal-data read log with the download).
pub const MATERIAL_PURPOSE: &str = "办件审查：在工作台查看或下载申请材料";

/// What the notice page states when it reads the case (recorded in
/// intake's personal-data read log).
pub const NOTICE_PURPOSE: &str = "综窗受理：打印受理通知书、不予受理通知书或一次性告知书";

/// The task service's client as one person.
pub type Tasks = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;
/// Intake's client as one person.
pub type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;
/// Intake's material files as one person.
pub type Materials = MaterialServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Issuance (出件, the rating at the window) as one person.
pub type Issuance = IssuanceServiceClient<InterceptedService<Channel, ClientAuth>>;

/// What the supplement page states when it reads the case (recorded in
/// intake's personal-data read log).
pub const SUPPLEMENT_PURPOSE: &str = "综窗收件：收取申请人补正、补齐的材料";

/// The catalog (packages, guides, form schemas; served by intake) as one person.
pub type Catalog = CatalogServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Routing (a case's plan: its steps and what each waits for) as one person.
pub type Routing = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Tracking's read models (summaries, timelines, worklists, the overdue
/// board, the statistics) as one person.
pub type Tracking = TrackingServiceClient<InterceptedService<Channel, ClientAuth>>;

/// The notifier's record of text messages as one person.
pub type Notifier = NotifierServiceClient<InterceptedService<Channel, ClientAuth>>;

/// The supervision service (consultations, opinions) as one person.
pub type Supervision = SupervisionServiceClient<InterceptedService<Channel, ClientAuth>>;
/// The monthly reports (served by the supervision service) as one person.
pub type Reports = ReportServiceClient<InterceptedService<Channel, ClientAuth>>;

/// The supervision service's assessments (考核) as one person.
pub type Assessments = AssessmentServiceClient<InterceptedService<Channel, ClientAuth>>;

/// A service's audit trail (its refusals and personal-data reads) as one person.
pub type Audit = AuditServiceClient<InterceptedService<Channel, ClientAuth>>;

/// Intake as the progress page's own identity (CheckApplicantTail only).
pub type ProgressIntake = IntakeServiceClient<Authorized>;
/// Tracking as the progress page's own identity (GetCaseSummary of a case
/// whose number and ID tail matched).
pub type ProgressTracking = TrackingServiceClient<Authorized>;
/// The catalog as the progress page's own identity (GetContact only).
pub type ProgressCatalog = CatalogServiceClient<Authorized>;

/// The calls of the public progress page, made as the workbench's
/// `progress` identity (client credentials, ADR 0032) — the only calls the
/// workbench makes as itself, and the only three RPCs that identity may
/// call (the third, the public contact, ADR 0036).
#[derive(Debug, Clone)]
pub struct ProgressCalls {
    intake: Authorized,
    tracking: Authorized,
}

impl ProgressCalls {
    pub fn new(tokens: Arc<TokenSource>, urls: ServiceUrls<'_>) -> anyhow::Result<ProgressCalls> {
        Ok(ProgressCalls {
            intake: Authorized::new(lazy_channel(urls.intake)?, tokens.clone(), &OidcConfig::audience_of("intake")),
            tracking: Authorized::new(lazy_channel(urls.tracking)?, tokens, &OidcConfig::audience_of("tracking")),
        })
    }

    pub fn intake(&self) -> ProgressIntake {
        IntakeServiceClient::new(self.intake.clone())
    }

    pub fn tracking(&self) -> ProgressTracking {
        TrackingServiceClient::new(self.tracking.clone())
    }

    pub fn catalog(&self) -> ProgressCatalog {
        CatalogServiceClient::new(self.intake.clone())
    }
}

/// Channels to the services (connected on first use).
#[derive(Debug, Clone)]
pub struct Services {
    tasks: Channel,
    intake: Channel,
    routing: Channel,
    tracking: Channel,
    issuance: Channel,
    /// `None` when no notifier is configured.
    notifier: Option<Channel>,
    /// `None` when no supervision service is configured.
    supervision: Option<Channel>,
}

/// The gRPC URLs of the services the workbench calls.
#[derive(Debug, Clone, Copy)]
pub struct ServiceUrls<'a> {
    pub tasks: &'a str,
    pub intake: &'a str,
    pub routing: &'a str,
    pub tracking: &'a str,
    pub issuance: &'a str,
    pub notifier: Option<&'a str>,
    pub supervision: Option<&'a str>,
}

impl Services {
    pub fn new(urls: ServiceUrls<'_>) -> anyhow::Result<Services> {
        Ok(Services {
            tasks: lazy_channel(urls.tasks)?,
            intake: lazy_channel(urls.intake)?,
            routing: lazy_channel(urls.routing)?,
            tracking: lazy_channel(urls.tracking)?,
            issuance: lazy_channel(urls.issuance)?,
            notifier: urls.notifier.map(lazy_channel).transpose()?,
            supervision: urls.supervision.map(lazy_channel).transpose()?,
        })
    }

    /// Issuance, called with `token` (audience `urn:yiciban:issuance`).
    pub fn issuance(&self, token: &str) -> Issuance {
        IssuanceServiceClient::with_interceptor(self.issuance.clone(), ClientAuth::new(Some(token)))
    }

    /// The task service, called with `token` (audience `urn:yiciban:tasks`).
    pub fn tasks(&self, token: &str) -> Tasks {
        TaskServiceClient::with_interceptor(self.tasks.clone(), ClientAuth::new(Some(token)))
    }

    /// Intake, called with `token` (audience `urn:yiciban:intake`).
    pub fn intake(&self, token: &str) -> Intake {
        IntakeServiceClient::with_interceptor(self.intake.clone(), ClientAuth::new(Some(token)))
    }

    /// Intake's MaterialService, called with `token` (audience `urn:yiciban:intake`).
    pub fn materials(&self, token: &str) -> Materials {
        MaterialServiceClient::with_interceptor(self.intake.clone(), ClientAuth::new(Some(token)))
    }

    /// The catalog, served by intake, called with `token` (audience `urn:yiciban:intake`).
    pub fn catalog(&self, token: &str) -> Catalog {
        CatalogServiceClient::with_interceptor(self.intake.clone(), ClientAuth::new(Some(token)))
    }

    /// Routing, called with `token` (audience `urn:yiciban:routing`).
    pub fn routing(&self, token: &str) -> Routing {
        RoutingServiceClient::with_interceptor(self.routing.clone(), ClientAuth::new(Some(token)))
    }

    /// The notifier, called with `token` (audience `urn:yiciban:notifier`);
    /// `None` when none is configured.
    pub fn notifier(&self, token: &str) -> Option<Notifier> {
        let channel = self.notifier.clone()?;
        Some(NotifierServiceClient::with_interceptor(channel, ClientAuth::new(Some(token))))
    }

    /// The supervision service, called with `token` (audience
    /// `urn:yiciban:supervision`); `None` when none is configured.
    pub fn supervision(&self, token: &str) -> Option<Supervision> {
        let channel = self.supervision.clone()?;
        Some(SupervisionServiceClient::with_interceptor(channel, ClientAuth::new(Some(token))))
    }

    /// The monthly reports (the supervision service's `ReportService`),
    /// called with `token` (audience `urn:yiciban:supervision`); `None` when
    /// no supervision service is configured.
    pub fn reports(&self, token: &str) -> Option<Reports> {
        let channel = self.supervision.clone()?;
        Some(ReportServiceClient::with_interceptor(channel, ClientAuth::new(Some(token))))
    }

    /// The supervision service's assessments, called with `token` (audience
    /// `urn:yiciban:supervision`); `None` when none is configured.
    pub fn assessments(&self, token: &str) -> Option<Assessments> {
        let channel = self.supervision.clone()?;
        Some(AssessmentServiceClient::with_interceptor(channel, ClientAuth::new(Some(token))))
    }

    /// The audit trail of `service` (intake, routing, tasks, issuance,
    /// tracking, the notifier or the supervision service), called with
    /// `token` (that service's audience); `None` for another name, or for
    /// the notifier or the supervision service when the workbench was given
    /// none.
    pub fn audit(&self, service: &str, token: &str) -> Option<Audit> {
        let channel = match service {
            "intake" => &self.intake,
            "routing" => &self.routing,
            "tasks" => &self.tasks,
            "issuance" => &self.issuance,
            "tracking" => &self.tracking,
            "notifier" => self.notifier.as_ref()?,
            "supervision" => self.supervision.as_ref()?,
            _ => return None,
        };
        Some(AuditServiceClient::with_interceptor(channel.clone(), ClientAuth::new(Some(token))))
    }

    /// Tracking, called with `token` (audience `urn:yiciban:tracking`).
    pub fn tracking(&self, token: &str) -> Tracking {
        TrackingServiceClient::with_interceptor(self.tracking.clone(), ClientAuth::new(Some(token)))
    }
}

/// Whom to call, in one line, from CatalogService.GetContact's answer: the
/// package's contact, else the centre's (the catalog version in force's,
/// ADR 0036); empty when intake could not say — a notice or page is still
/// shown without it (the failure is logged).
pub fn contact_line(answer: Result<tonic::Response<GetContactResponse>, Status>) -> String {
    match answer {
        Ok(answer) => {
            let answer = answer.into_inner();
            answer.package.or(answer.centre).map(|c| c.text).unwrap_or_default()
        }
        Err(status) => {
            tracing::warn!(code = ?status.code(), "the catalog's contact could not be read");
            String::new()
        }
    }
}

/// `message` as a request stating `purpose` (`yiciban-purpose-bin`).
pub fn with_purpose<T>(message: T, purpose: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert_bin(PURPOSE_HEADER, MetadataValue::from_bytes(purpose.as_bytes()));
    request
}

/// A service's refusal or failure, as the page shows it next to the action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The page's HTTP status.
    pub status: StatusCode,
    /// The service's own message for a refusal; a generic one for a failure
    /// (whose cause the service logged and does not leak).
    pub message: String,
}

/// The longest service message shown.
const MAX_MESSAGE_CHARS: usize = 300;

impl From<&Status> for Refusal {
    fn from(status: &Status) -> Refusal {
        let (code, worded) = match status.code() {
            Code::InvalidArgument | Code::OutOfRange => (StatusCode::BAD_REQUEST, true),
            Code::FailedPrecondition | Code::Aborted | Code::AlreadyExists => (StatusCode::CONFLICT, true),
            Code::PermissionDenied => (StatusCode::FORBIDDEN, true),
            Code::NotFound => (StatusCode::NOT_FOUND, true),
            Code::Unauthenticated => (StatusCode::UNAUTHORIZED, true),
            Code::ResourceExhausted => (StatusCode::TOO_MANY_REQUESTS, true),
            Code::Unavailable | Code::DeadlineExceeded => (StatusCode::SERVICE_UNAVAILABLE, false),
            _ => (StatusCode::BAD_GATEWAY, false),
        };
        let message = if worded {
            status.message().chars().take(MAX_MESSAGE_CHARS).collect()
        } else {
            "服务暂时不可用，请稍后再试。/ The service is unavailable; please try again.".to_owned()
        };
        Refusal { status: code, message }
    }
}

impl From<Status> for Refusal {
    fn from(status: Status) -> Refusal {
        Refusal::from(&status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_keeps_the_services_words_and_a_failure_does_not_leak_its_cause() {
        let refused = Refusal::from(Status::aborted("task t was changed by someone else (version 2, expected 1)"));
        assert_eq!(refused.status, StatusCode::CONFLICT);
        assert!(refused.message.contains("changed by someone else"));
        let failed = Refusal::from(Status::internal("connection to 10.0.0.7 refused"));
        assert_eq!(failed.status, StatusCode::BAD_GATEWAY);
        assert!(!failed.message.contains("10.0.0.7"));
        let long = Refusal::from(Status::invalid_argument("x".repeat(5000)));
        assert_eq!(long.message.chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn the_purpose_travels_as_utf8_in_the_binary_header() {
        let request = with_purpose((), TASK_PAGE_PURPOSE);
        let value = request.metadata().get_bin(PURPOSE_HEADER).unwrap().to_bytes().unwrap();
        assert_eq!(std::str::from_utf8(&value).unwrap(), TASK_PAGE_PURPOSE);
    }
}
