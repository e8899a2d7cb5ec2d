//! Who may call which RPC: one table for every RPC of every yiciban
//! service. The authentication layer looks each call up here before the
//! handler runs: a method without a rule is refused (fail closed), a person
//! outside the rule's roles gets `PERMISSION_DENIED`, and a service may call
//! only what its process manager needs — routing creates tasks, tasks report
//! outcomes to routing, and nobody else may. Administrators and supervisors
//! never call process-manager RPCs.
//!
//! What a rule cannot know — whether this officer is assigned to this case,
//! whether this agent's department takes part in it, whether this applicant
//! owns it — the handler checks, as the rule's [`Scope`] says it must; a
//! case the caller may not see is answered exactly like a case that does not
//! exist (see [`hidden`]).

use tonic::Status;
use tonic::metadata::MetadataValue;

use crate::auth::{Caller, Role};

/// What the handler checks beyond the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Nothing case-specific (catalog, statistics, administration).
    Open,
    /// One case: officers only their assigned cases, agents only cases their
    /// department takes part in, applicants only their own.
    Case,
    /// A list, filtered to what the caller may see.
    List,
}

/// The access rule of one RPC.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The gRPC path, `/package.Service/Method`.
    pub method: &'static str,
    /// The people (every role but `service`) who may call it.
    pub people: &'static [Role],
    /// The services (by name) whose process managers call it.
    pub services: &'static [&'static str],
    pub scope: Scope,
}

use Role::{Admin, Agent, Applicant, Clerk, Officer, Supervisor};
use Scope::{Case, List, Open};

const ALL_PEOPLE: &[Role] = &[Clerk, Agent, Officer, Supervisor, Admin, Applicant];
const STAFF: &[Role] = &[Clerk, Agent, Officer, Supervisor, Admin];

const fn rule(method: &'static str, people: &'static [Role], services: &'static [&'static str], scope: Scope) -> Rule {
    Rule { method, people, services, scope }
}

/// Every RPC's rule.
pub const RULES: &[Rule] = &[
    // the refusal log, served by every service
    rule("/yiciban.audit.v1.AuditService/ListRefusals", &[Supervisor, Admin], &[], Open),
    rule("/yiciban.audit.v1.AuditService/ListPersonalDataReads", &[Supervisor, Admin], &[], Open),
    // operator tools (served by every service): dead letters
    rule("/yiciban.ops.v1.OpsService/ListDeadLetters", &[Admin], &[], Open),
    rule("/yiciban.ops.v1.OpsService/ReplayDeadLetter", &[Admin], &[], Open),
    rule("/yiciban.ops.v1.OpsService/DiscardDeadLetter", &[Admin], &[], Open),
    rule("/yiciban.ops.v1.OpsService/Reconcile", &[Admin], &[], Open),
    // catalog (served by intake): the published guide, for everyone signed in
    rule("/yiciban.catalog.v1.CatalogService/ListPackages", ALL_PEOPLE, &[], Open),
    // the supervision service lists every department's monthly report (and
    // flags the late ones) over the catalog's departments
    rule("/yiciban.catalog.v1.CatalogService/ListDepartments", ALL_PEOPLE, &["supervision"], Open),
    rule("/yiciban.catalog.v1.CatalogService/GetGuide", ALL_PEOPLE, &["supervision"], Open),
    rule("/yiciban.catalog.v1.CatalogService/GetApplicationFormSchema", ALL_PEOPLE, &[], Open),
    rule("/yiciban.catalog.v1.CatalogService/GetPrintableGuide", ALL_PEOPLE, &[], Open),
    rule("/yiciban.catalog.v1.CatalogService/ListSites", ALL_PEOPLE, &[], Open),
    // the contact printed on notices and shown on the public progress page
    // (ADR 0036): public catalog data, so the `progress` identity reads it too
    rule("/yiciban.catalog.v1.CatalogService/GetContact", ALL_PEOPLE, &["progress"], Open),
    // the working-day calendar (served by intake): read by everyone and by
    // every service that counts working days; published by an administrator
    rule(
        "/yiciban.catalog.v1.CalendarService/GetCalendar",
        ALL_PEOPLE,
        &["routing", "tasks", "issuance", "tracking", "supervision"],
        Open,
    ),
    rule("/yiciban.catalog.v1.CalendarService/PublishCalendar", &[Admin], &[], Open),
    // catalog versions (served by intake): published by an administrator;
    // routing and tracking read the versions running cases keep
    rule("/yiciban.catalog.v1.CatalogPublishingService/ImportCatalog", &[Admin], &[], Open),
    // catalog drafts: departments draft, lead departments review (agents;
    // the handler checks the department), the publishing office publishes
    rule("/yiciban.catalog.v1.CatalogPublishingService/SaveCatalogDraft", &[Agent, Admin], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/GetCatalogDraft", &[Agent, Supervisor, Admin], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/ListCatalogDrafts", &[Agent, Supervisor, Admin], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/SubmitCatalogDraft", &[Agent, Admin], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/ReviewCatalogDraft", &[Agent], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/WithdrawCatalogDraft", &[Agent, Admin], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/PublishCatalogDrafts", &[Admin], &[], Open),
    rule("/yiciban.catalog.v1.CatalogPublishingService/ListCatalogVersions", &[Supervisor, Admin], &[], Open),
    rule(
        "/yiciban.catalog.v1.CatalogPublishingService/GetCatalogVersion",
        &[Agent, Supervisor, Admin],
        &["routing", "tracking"],
        Open,
    ),
    // intake
    rule("/yiciban.intake.v1.IntakeService/SubmitApplication", &[Clerk, Applicant], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/SupplementMaterials", &[Clerk, Applicant, Admin], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/WithdrawApplication", &[Clerk, Applicant, Admin], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/TerminateCase", &[Supervisor, Admin], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/AssignOfficer", &[Supervisor, Admin], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/RecordCaseClosed", &[], &["issuance"], Case),
    // the notifier reads the applicant's phone to send its text messages
    // (stating its purpose, recorded in intake's read log)
    rule("/yiciban.intake.v1.IntakeService/GetCase", ALL_PEOPLE, &["routing", "tasks", "issuance", "notifier"], Case),
    // 办件备注 (ADR 0034): the handler lets an officer only the case's own
    rule("/yiciban.intake.v1.IntakeService/AddCaseNote", &[Clerk, Officer, Supervisor], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/ListCaseNotes", &[Clerk, Officer, Supervisor, Admin], &[], Case),
    rule("/yiciban.intake.v1.IntakeService/GetStepApplication", &[Agent], &[], Case),
    // the public progress page's check (ADR 0032): the workbench's
    // `progress` identity only, never a person
    rule("/yiciban.intake.v1.IntakeService/CheckApplicantTail", &[], &["progress"], Open),
    rule("/yiciban.intake.v1.IntakeService/UploadMaterial", &[Clerk, Applicant, Agent], &[], Open),
    rule("/yiciban.intake.v1.IntakeService/UpdateCreditStatus", &[Admin], &[], Open),
    rule("/yiciban.intake.v1.IntakeService/GetCreditStatus", &[Clerk, Admin], &[], Open),
    rule("/yiciban.intake.v1.IntakeService/ListCreditStatusChanges", &[Admin, Supervisor], &[], Open),
    // erasure of a person's personal data (served by intake, ADR 0024)
    rule("/yiciban.intake.v1.PrivacyService/ErasePersonalData", &[Admin], &[], Open),
    rule("/yiciban.intake.v1.PrivacyService/ListErasures", &[Admin], &[], Open),
    rule("/yiciban.intake.v1.PrivacyService/ListRetentionDue", &[Admin, Supervisor], &[], Open),
    // material content in chunks (served by intake)
    rule("/yiciban.intake.v1.MaterialService/UploadMaterial", &[Clerk, Applicant, Agent], &[], Open),
    rule("/yiciban.intake.v1.MaterialService/DownloadMaterial", &[Clerk, Admin, Officer, Agent, Applicant], &[], Case),
    // routing
    rule("/yiciban.routing.v1.RoutingService/PlanCase", &[], &["intake"], Case),
    rule("/yiciban.routing.v1.RoutingService/RecordTaskOutcome", &[], &["tasks"], Case),
    rule("/yiciban.routing.v1.RoutingService/GetPlan", STAFF, &[], Case),
    rule("/yiciban.routing.v1.RoutingService/ConfirmDenial", &[Agent], &[], Case),
    rule("/yiciban.routing.v1.RoutingService/EndPlan", &[], &["intake"], Case),
    // department tasks
    rule("/yiciban.tasks.v1.TaskService/CreateTask", &[], &["routing"], Case),
    rule("/yiciban.tasks.v1.TaskService/ListInbox", &[Clerk, Agent, Supervisor, Admin], &[], List),
    rule("/yiciban.tasks.v1.TaskService/GetTask", STAFF, &[], Case),
    rule("/yiciban.tasks.v1.TaskService/ClaimTask", &[Agent], &[], Case),
    rule("/yiciban.tasks.v1.TaskService/ApproveTask", &[Agent], &[], Case),
    rule("/yiciban.tasks.v1.TaskService/DenyTask", &[Agent], &[], Case),
    rule("/yiciban.tasks.v1.TaskService/ReturnForSupplement", &[Agent], &[], Case),
    rule("/yiciban.tasks.v1.TaskService/ResumeTask", &[Agent], &["intake"], Case),
    rule("/yiciban.tasks.v1.TaskService/TransferTask", &[Agent, Supervisor], &[], Case),
    rule("/yiciban.tasks.v1.TaskService/CancelTask", &[], &["routing"], Case),
    rule("/yiciban.tasks.v1.TaskService/RecordPostCheck", &[Agent], &[], Case),
    // 督办: the handler lets an officer urge only the tasks of their own cases.
    rule("/yiciban.tasks.v1.TaskService/UrgeTask", &[Officer, Supervisor], &[], Case),
    // intake asks which tasks a case has: the supplement request a
    // SupplementMaterials answers, the departments whose agents may read it
    rule("/yiciban.tasks.v1.TaskService/ListCaseTasks", STAFF, &["intake", "issuance"], Case),
    // issuance
    rule("/yiciban.issuance.v1.IssuanceService/PrepareIssuance", &[], &["routing"], Case),
    rule("/yiciban.issuance.v1.IssuanceService/IssueEarly", &[Clerk, Officer], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/NotifyPickup", &[Clerk], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/ConfirmPickup", &[Clerk], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/RecordMailing", &[Clerk], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/RecordDelivery", &[Clerk], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/RecordDeliveryFailure", &[Clerk], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/RateCase", &[Applicant, Clerk], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/ReviewRating", &[Supervisor], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/OpenRectification", &[Supervisor], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/VerifyRectification", &[Agent, Supervisor], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/RecordRectification", &[Agent, Supervisor], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/ExplainRectification", &[Agent, Supervisor], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/CloseRectification", &[Supervisor], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/SampleReturnVisits", &[Supervisor], &[], Open),
    rule("/yiciban.issuance.v1.IssuanceService/RecordReturnVisit", &[Supervisor, Officer], &[], Case),
    rule("/yiciban.issuance.v1.IssuanceService/GetIssuance", &[Clerk, Officer, Supervisor, Applicant], &[], Case),
    // the rectification ledger: an agent its own department's
    rule("/yiciban.issuance.v1.IssuanceService/ListRectifications", &[Agent, Supervisor], &[], List),
    rule("/yiciban.issuance.v1.IssuanceService/ListRatings", &[Supervisor], &[], List),
    // tracking
    // the public progress page reads a case's summary once intake matched
    // its number and ID tail (ADR 0032)
    rule("/yiciban.tracking.v1.TrackingService/GetCaseSummary", ALL_PEOPLE, &["progress"], Case),
    rule("/yiciban.tracking.v1.TrackingService/GetTimeline", ALL_PEOPLE, &[], Case),
    rule("/yiciban.tracking.v1.TrackingService/FindCaseByNumber", ALL_PEOPLE, &[], Case),
    rule("/yiciban.tracking.v1.TrackingService/OfficerWorklist", &[Officer, Supervisor], &[], List),
    rule("/yiciban.tracking.v1.TrackingService/DepartmentQueue", &[Agent, Officer, Supervisor], &[], List),
    rule("/yiciban.tracking.v1.TrackingService/OverdueBoard", &[Agent, Officer, Supervisor], &[], List),
    // the supervision service freezes a department's case figures into its
    // monthly report at submission (ADR 0039)
    rule("/yiciban.tracking.v1.TrackingService/MonthlyStatistics", &[Supervisor, Admin], &["supervision"], Open),
    // the items behind an assessment, for the office and for the
    // supervision service that scores them (ADR 0040)
    rule("/yiciban.tracking.v1.TrackingService/ListAssessmentItems", &[Supervisor, Admin], &["supervision"], Open),
    rule("/yiciban.tracking.v1.TrackingService/ExportMonthlyStatisticsCsv", &[Supervisor, Admin], &[], Open),
    rule("/yiciban.tracking.v1.TrackingService/StartRebuild", &[Admin], &[], Open),
    rule("/yiciban.tracking.v1.TrackingService/GetRebuildProgress", &[Admin], &[], Open),
    // webhooks: administrators manage subscriptions; an agent reads its own
    // department's (the handler checks the department)
    rule("/yiciban.webhooks.v1.WebhookService/CreateSubscription", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/UpdateSubscription", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/PauseSubscription", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/ResumeSubscription", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/DeleteSubscription", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/RotateSecret", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/GetSubscription", &[Agent, Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/ListSubscriptions", &[Agent, Admin], &[], List),
    rule("/yiciban.webhooks.v1.WebhookService/ListDeadLetters", &[Agent, Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/RedeliverDeadLetter", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/DiscardDeadLetter", &[Admin], &[], Open),
    rule("/yiciban.webhooks.v1.WebhookService/StartReplay", &[Admin], &[], Open),
    // the notifier's record of text messages: masked phones, for oversight
    rule("/yiciban.notifier.v1.NotifierService/ListMessages", &[Supervisor, Admin], &[], List),
    // the supervision office's records (ADR 0037); a hotline operator is a
    // clerk at the hotline desk; handlers narrow clerks and officers to
    // their own consultations and agents to their department's opinions
    rule("/yiciban.supervision.v1.SupervisionService/RecordConsultation", &[Clerk, Officer], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/LinkConsultationToCase", &[Clerk, Officer], &[], Open),
    rule(
        "/yiciban.supervision.v1.SupervisionService/ListConsultations",
        &[Clerk, Officer, Supervisor, Admin],
        &[],
        List,
    ),
    rule("/yiciban.supervision.v1.SupervisionService/RecordOpinion", &[Supervisor, Clerk, Officer], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/AssignOpinion", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/AnswerOpinion", &[Supervisor, Agent], &[], List),
    rule("/yiciban.supervision.v1.SupervisionService/CloseOpinion", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/RecordOpinionReturnVisit", &[Supervisor, Officer], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/RecordOpinionRectification", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/SampleOpinionReturnVisits", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.SupervisionService/ListOpinions", &[Supervisor, Admin, Agent], &[], List),
    rule("/yiciban.supervision.v1.SupervisionService/GetOpinion", &[Supervisor, Admin, Agent], &[], List),
    rule("/yiciban.supervision.v1.SupervisionService/CountSupervision", &[Supervisor, Admin], &[], Open),
    // the monthly reports (ADR 0039): an agent its own department's (the
    // handler checks the department); the 政务公开 office (supervisors)
    // returns and accepts
    rule("/yiciban.supervision.v1.ReportService/SaveReportDraft", &[Agent], &[], Open),
    rule("/yiciban.supervision.v1.ReportService/SubmitReport", &[Agent], &[], Open),
    rule("/yiciban.supervision.v1.ReportService/ReturnReport", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.ReportService/AcceptReport", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.ReportService/GetReport", &[Agent, Supervisor, Admin], &[], List),
    rule("/yiciban.supervision.v1.ReportService/ListReports", &[Agent, Supervisor, Admin], &[], List),
    rule("/yiciban.supervision.v1.ReportService/ExportReportsCsv", &[Supervisor, Admin], &[], Open),
    // the assessment of departments and staff (ADR 0040): the office runs
    // it, administrators read it
    rule("/yiciban.supervision.v1.AssessmentService/SetScoringRules", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/GetScoringRules", &[Supervisor, Admin], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/RunAssessment", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/RecordFinding", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/FinalizeAssessment", &[Supervisor], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/GetAssessment", &[Supervisor, Admin], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/ListAssessments", &[Supervisor, Admin], &[], Open),
    rule("/yiciban.supervision.v1.AssessmentService/ExportAssessmentCsv", &[Supervisor, Admin], &[], Open),
];

/// The rule of `method` (a gRPC path), if it has one.
pub fn rule_of(method: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.method == method)
}

/// Checks the caller against the method's rule: `PERMISSION_DENIED` for a
/// method without a rule, a person outside its roles, or a service that is
/// not among its callers.
pub fn check(method: &str, caller: &Caller) -> Result<&'static Rule, Status> {
    admit(rule_of(method), method, caller)
}

/// [`check`] with the rule already looked up (`None`: the method has none).
pub fn admit(rule: Option<&'static Rule>, method: &str, caller: &Caller) -> Result<&'static Rule, Status> {
    let rule = rule.ok_or_else(|| Status::permission_denied("this method has no access rule; refused"))?;
    let allowed = match caller.service() {
        Some(service) => rule.services.contains(&service),
        None => rule.people.contains(&caller.role),
    };
    if allowed {
        return Ok(rule);
    }
    let short = method.rsplit('/').next().unwrap_or(method);
    Err(Status::permission_denied(match caller.service() {
        Some(service) => format!("the {service} service may not call {short}"),
        None if rule.people.is_empty() => format!("{short} is called only by yiciban's own services"),
        None => format!(
            "{} {} may not call {short}; this needs one of: {}",
            if caller.role.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" },
            caller.role.as_str(),
            rule.people.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
        ),
    }))
}

/// The metadata key by which a handler tells the authentication layer that
/// an answer is a refusal in disguise (see [`hidden`]); the layer records it
/// and removes the key before the answer leaves the service.
pub const REFUSAL_KEY: &str = "x-yiciban-refusal";
/// The case a refusal concerns, likewise removed by the layer.
pub const REFUSAL_CASE_KEY: &str = "x-yiciban-refusal-case";

/// `NOT_FOUND` worded exactly as for a case that does not exist, for a
/// caller who may not see the case: nobody learns from the answer whether a
/// case they may not see exists. `reason` (for the refusal log, never sent)
/// says why.
pub fn hidden(case: &str, what: &str, reason: &'static str) -> Status {
    let mut status = Status::not_found(format!("{what} {case} not found"));
    if let Ok(value) = MetadataValue::try_from(reason) {
        status.metadata_mut().insert(REFUSAL_KEY, value);
    }
    if let Ok(value) = MetadataValue::try_from(case) {
        status.metadata_mut().insert(REFUSAL_CASE_KEY, value);
    }
    status
}

/// `PERMISSION_DENIED` about `case`: the layer records the case with the
/// refusal (the key is removed before the answer leaves).
pub fn denied(case: &str, message: impl Into<String>) -> Status {
    let mut status = Status::permission_denied(message);
    if let Ok(value) = MetadataValue::try_from(case) {
        status.metadata_mut().insert(REFUSAL_CASE_KEY, value);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(role: Role) -> Caller {
        Caller { subject: "p".into(), role, department: Some("samr".into()), applicant_key: None, cause: None }
    }

    fn service(name: &str) -> Caller {
        Caller { subject: name.into(), role: Role::Service, department: None, applicant_key: None, cause: None }
    }

    #[test]
    fn the_progress_identity_checks_tails_reads_summaries_and_the_contact_and_nothing_else() {
        let progress = service("progress");
        let tail = "/yiciban.intake.v1.IntakeService/CheckApplicantTail";
        assert!(check(tail, &progress).is_ok());
        assert!(check("/yiciban.tracking.v1.TrackingService/GetCaseSummary", &progress).is_ok());
        assert!(check("/yiciban.catalog.v1.CatalogService/GetContact", &progress).is_ok());
        for other in [
            "/yiciban.intake.v1.IntakeService/GetCase",
            "/yiciban.tracking.v1.TrackingService/GetTimeline",
            "/yiciban.catalog.v1.CatalogService/GetGuide",
        ] {
            assert!(check(other, &progress).is_err(), "{other}");
        }
        for role in [Role::Clerk, Role::Admin, Role::Applicant, Role::Supervisor] {
            assert!(check(tail, &person(role)).is_err(), "{role:?}");
        }
        assert!(check(tail, &service("tracking")).is_err());
    }

    #[test]
    fn every_method_has_exactly_one_rule() {
        let mut methods: Vec<_> = RULES.iter().map(|r| r.method).collect();
        methods.sort_unstable();
        let before = methods.len();
        methods.dedup();
        assert_eq!(before, methods.len(), "a method has two rules");
    }

    #[test]
    fn process_manager_rpcs_are_for_their_service_only() {
        let outcome = "/yiciban.routing.v1.RoutingService/RecordTaskOutcome";
        assert!(check(outcome, &service("tasks")).is_ok());
        for other in ["intake", "issuance", "tracking", "routing"] {
            assert_eq!(check(outcome, &service(other)).unwrap_err().code(), tonic::Code::PermissionDenied);
        }
        for role in [Role::Admin, Role::Supervisor, Role::Agent] {
            assert_eq!(check(outcome, &person(role)).unwrap_err().code(), tonic::Code::PermissionDenied);
        }
        assert!(check("/yiciban.tasks.v1.TaskService/CreateTask", &service("routing")).is_ok());
        assert!(check("/yiciban.tasks.v1.TaskService/CreateTask", &person(Role::Admin)).is_err());
    }

    #[test]
    fn every_rpc_of_the_protos_has_a_rule_and_every_rule_an_rpc() {
        use prost::Message as _;
        let set = prost_types::FileDescriptorSet::decode(yiciban_proto::FILE_DESCRIPTOR_SET).unwrap();
        let mut rpcs = Vec::new();
        for file in &set.file {
            for service in &file.service {
                for method in &service.method {
                    rpcs.push(format!("/{}.{}/{}", file.package(), service.name(), method.name()));
                }
            }
        }
        assert!(rpcs.len() >= 58, "the descriptor set lists the RPCs");
        let without: Vec<_> = rpcs.iter().filter(|m| rule_of(m).is_none()).collect();
        assert!(without.is_empty(), "RPCs without an access rule: {without:?}");
        let stale: Vec<_> = RULES.iter().filter(|r| !rpcs.iter().any(|m| m == r.method)).map(|r| r.method).collect();
        assert!(stale.is_empty(), "rules for RPCs that do not exist: {stale:?}");
    }

    #[test]
    fn administrators_and_supervisors_call_no_process_manager_rpc() {
        for rule in RULES.iter().filter(|r| !r.services.is_empty() && r.people.is_empty()) {
            for role in [Role::Admin, Role::Supervisor] {
                assert!(check(rule.method, &person(role)).is_err(), "{} by {role:?}", rule.method);
            }
        }
    }

    #[test]
    fn a_method_without_a_rule_is_refused() {
        let e = check("/yiciban.tasks.v1.TaskService/DeleteEverything", &person(Role::Admin)).unwrap_err();
        assert_eq!(e.code(), tonic::Code::PermissionDenied);
    }

    #[test]
    fn a_hidden_refusal_reads_like_a_missing_case() {
        let hidden = hidden("0190c1e2-0000-7000-8000-000000000001", "case", "officer not assigned");
        let missing = Status::not_found("case 0190c1e2-0000-7000-8000-000000000001 not found");
        assert_eq!((hidden.code(), hidden.message()), (missing.code(), missing.message()));
        assert!(hidden.metadata().get(REFUSAL_KEY).is_some());
    }
}
