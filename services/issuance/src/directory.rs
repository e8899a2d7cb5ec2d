//! What the issuance service asks other services about a case, behind one
//! trait: the delivery preference, the applicant's identity and the case
//! officer (intake's GetCase, as a service, so unmasked), and the tasks
//! (the task service's ListCaseTasks: approved results, the departments
//! that took part) — and what it tells intake: the day a case was closed
//! (intake's RecordCaseClosed, from the process manager). The binary uses
//! [`GrpcDirectory`];
//! tests and the development stack may hand in a fixed [`InMemoryDirectory`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use tonic::Status;
use uuid::Uuid;
use yiciban_domain::issuance::{DeliveryMethod, ResultDocument};
use yiciban_platform::Cause;
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::common::v1 as pb;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::intake::v1::{GetCaseRequest, RecordCaseClosedRequest};
use yiciban_proto::tasks::v1::ListCaseTasksRequest;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;

/// The applicant as intake recorded it. Personal data: never logged (its
/// `Debug` shows the kind only).
#[derive(Clone, PartialEq, Eq)]
pub struct ApplicantIdentity {
    /// Person or company.
    pub kind: pb::ApplicantKind,
    /// Name (a person's) or registered name (a company's).
    pub name: String,
    /// Resident ID number or unified social credit code.
    pub id_number: String,
    /// A company's contact person; empty for persons.
    pub contact_name: String,
    /// A company's contact person's resident ID number, when the window
    /// recorded it; empty otherwise (and for persons).
    pub contact_id_number: String,
}

impl std::fmt::Debug for ApplicantIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicantIdentity").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// What issuance needs to know of a case from intake (and its lead
/// department from the task service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// The case number.
    pub case_number: String,
    /// The delivery method chosen in the application.
    pub method: DeliveryMethod,
    /// The hall for a pick-up; empty = the accepting hall.
    pub pickup_hall: String,
    /// For mail: an address is on file (it stays with the application).
    pub has_mail_address: bool,
    /// The applicant.
    pub applicant: ApplicantIdentity,
    /// Promised working days.
    pub promised_working_days: u32,
    /// Promised last day, if accepted.
    pub promised_by: Option<NaiveDate>,
    /// The case's lead department, if known.
    pub lead_department: Option<String>,
    /// The staff login of the case officer (专人); empty when none is
    /// assigned.
    pub officer_id: String,
}

/// One task asked for by IssueEarly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskResult {
    /// Approved with this result document.
    Approved(ResultDocument),
    /// The task exists but is not approved.
    NotApproved,
    /// No such task in the case.
    Unknown,
}

/// The answer for a case that does not exist — worded exactly as
/// [`yiciban_platform::access::hidden`] words a case the caller may not
/// see, so the two cannot be told apart.
pub fn case_not_found(case_id: Uuid) -> Status {
    Status::not_found(format!("case {case_id} not found"))
}

/// Looks cases up in the services that own them. Errors are gRPC statuses
/// to hand on: NOT_FOUND for an unknown case (always [`case_not_found`]),
/// UNAVAILABLE when a peer is down.
#[tonic::async_trait]
pub trait CaseDirectory: Send + Sync + std::fmt::Debug {
    /// The delivery preference and applicant of a case.
    async fn delivery_and_applicant(&self, case_id: Uuid) -> Result<CaseFacts, Status>;

    /// The approved result of each of `task_ids` of the case, in order.
    async fn approved_results(&self, case_id: Uuid, task_ids: &[Uuid]) -> Result<Vec<TaskResult>, Status>;

    /// The departments that have (or had) a task in the case.
    async fn departments(&self, case_id: Uuid) -> Result<Vec<String>, Status>;

    /// The case's lead department (牵头部门), as the task service knows it
    /// from the case's tasks; `None` only when the case has no task. A task
    /// service that cannot answer is an error (UNAVAILABLE: try again),
    /// never "no lead department" — a wrong answer here would send a bad
    /// rating's rectification to the window instead of the lead.
    async fn lead_department(&self, case_id: Uuid) -> Result<Option<String>, Status>;

    /// Tells intake the case was closed on `closed_on` (the start of its
    /// applicant's retention period) and which scans the window took at
    /// hand-out (`window_materials`, SHA-256s: erased with the applicant), as
    /// caused by `cause`; repeating it is harmless.
    async fn record_case_closed(
        &self,
        case_id: Uuid,
        closed_on: pb::Date,
        window_materials: &[String],
        cause: &Cause,
    ) -> Result<(), Status>;
}

type IntakeClient = IntakeServiceClient<ServiceChannel>;
type TasksClient = TaskServiceClient<ServiceChannel>;

/// The directory over intake's and the task service's gRPC APIs.
#[derive(Debug, Clone)]
pub struct GrpcDirectory {
    intake: IntakeClient,
    tasks: TasksClient,
}

impl GrpcDirectory {
    /// Asks intake and the task service over these channels (which call as
    /// the issuance service).
    pub fn new(intake: ServiceChannel, tasks: ServiceChannel) -> Self {
        GrpcDirectory { intake: IntakeServiceClient::new(intake), tasks: TaskServiceClient::new(tasks) }
    }

    async fn tasks_of(&self, case_id: Uuid) -> Result<Vec<yiciban_proto::tasks::v1::Task>, Status> {
        Ok(self
            .tasks
            .clone()
            .list_case_tasks(ListCaseTasksRequest { case_id: case_id.to_string() })
            .await?
            .into_inner()
            .tasks)
    }
}

#[tonic::async_trait]
impl CaseDirectory for GrpcDirectory {
    async fn delivery_and_applicant(&self, case_id: Uuid) -> Result<CaseFacts, Status> {
        let case = self
            .intake
            .clone()
            .get_case(yiciban_platform::read_log::purpose(
                GetCaseRequest { case_id: case_id.to_string(), without_personal_data: false },
                "发证与交付：核对领取人、邮寄 (issuance: checking the collector, delivery)",
            ))
            .await
            .map_err(|s| if s.code() == tonic::Code::NotFound { case_not_found(case_id) } else { s })?
            .into_inner()
            .case
            .ok_or_else(|| case_not_found(case_id))?;
        let delivery = case.delivery.unwrap_or_default();
        let method = DeliveryMethod::try_from(delivery.method())
            .map_err(|_| Status::failed_precondition("the application names no delivery method"))?;
        let applicant = case.applicant.unwrap_or_default();
        Ok(CaseFacts {
            case_number: case.case_number,
            method,
            pickup_hall: delivery.pickup_hall,
            has_mail_address: delivery.mail_address.is_some(),
            applicant: ApplicantIdentity {
                kind: applicant.kind(),
                name: applicant.name,
                id_number: applicant.id_number,
                contact_name: applicant.contact_name,
                contact_id_number: applicant.contact_id_number,
            },
            promised_working_days: case.promised_working_days,
            promised_by: case.promised_by.and_then(|d| NaiveDate::try_from(d).ok()),
            // Asked of the task service only where it is needed
            // (`lead_department`), so that a pick-up does not wait for it.
            lead_department: None,
            officer_id: case.officer_id,
        })
    }

    async fn approved_results(&self, case_id: Uuid, task_ids: &[Uuid]) -> Result<Vec<TaskResult>, Status> {
        let tasks = self.tasks_of(case_id).await?;
        Ok(task_ids
            .iter()
            .map(|id| match tasks.iter().find(|t| t.task_id == id.to_string()) {
                None => TaskResult::Unknown,
                Some(t) if t.state == pb::TaskState::Approved as i32 => t
                    .result
                    .as_ref()
                    .and_then(|d| ResultDocument::try_from(d).ok())
                    .map_or(TaskResult::NotApproved, TaskResult::Approved),
                Some(_) => TaskResult::NotApproved,
            })
            .collect())
    }

    async fn departments(&self, case_id: Uuid) -> Result<Vec<String>, Status> {
        let mut departments: Vec<String> = self.tasks_of(case_id).await?.into_iter().map(|t| t.department).collect();
        departments.sort_unstable();
        departments.dedup();
        Ok(departments)
    }

    async fn lead_department(&self, case_id: Uuid) -> Result<Option<String>, Status> {
        let tasks = self.tasks_of(case_id).await.map_err(|s| {
            Status::unavailable(format!(
                "the task service could not tell the lead department of case {case_id} ({:?}: {}); try again",
                s.code(),
                s.message().chars().take(200).collect::<String>()
            ))
        })?;
        Ok(tasks.into_iter().map(|t| t.lead_department).find(|d| !d.is_empty()))
    }

    async fn record_case_closed(
        &self,
        case_id: Uuid,
        closed_on: pb::Date,
        window_materials: &[String],
        cause: &Cause,
    ) -> Result<(), Status> {
        let request = RecordCaseClosedRequest {
            case_id: case_id.to_string(),
            closed_on: Some(closed_on),
            window_materials: window_materials.to_vec(),
        };
        self.intake.clone().record_case_closed(cause.on(request)).await.map(|_| ())
    }
}

/// A closing told to the [`InMemoryDirectory`].
#[derive(Debug, Clone)]
struct Closing {
    on: pb::Date,
    window_materials: Vec<String>,
}

/// A fixed directory held in memory (tests, demos): cases and tasks are
/// put in by the caller.
#[derive(Debug, Clone, Default)]
pub struct InMemoryDirectory {
    cases: Arc<Mutex<HashMap<Uuid, CaseFacts>>>,
    tasks: Arc<Mutex<HashMap<(Uuid, Uuid), TaskResult>>>,
    departments: Arc<Mutex<HashMap<Uuid, Vec<String>>>>,
    /// When set, every question for the task service is answered
    /// UNAVAILABLE (a test stands for a task service that is down).
    tasks_down: Arc<std::sync::atomic::AtomicBool>,
    /// The closings told to intake, by case.
    closed: Arc<Mutex<HashMap<Uuid, Closing>>>,
}

impl InMemoryDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts (or replaces) a case.
    pub fn put_case(&self, case_id: Uuid, facts: CaseFacts) {
        self.cases.lock().expect("directory lock").insert(case_id, facts);
    }

    /// Puts (or replaces) a task of a case.
    pub fn put_task(&self, case_id: Uuid, task_id: Uuid, result: TaskResult) {
        self.tasks.lock().expect("directory lock").insert((case_id, task_id), result);
    }

    /// Makes the task service's part of the directory unavailable (or
    /// available again).
    pub fn set_tasks_down(&self, down: bool) {
        self.tasks_down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// The day intake was told the case was closed, if it was.
    pub fn closed_on(&self, case_id: Uuid) -> Option<pb::Date> {
        self.closed.lock().expect("directory lock").get(&case_id).map(|c| c.on)
    }

    /// The window's scans intake was told of with the closing.
    pub fn window_materials(&self, case_id: Uuid) -> Vec<String> {
        self.closed
            .lock()
            .expect("directory lock")
            .get(&case_id)
            .map(|c| c.window_materials.clone())
            .unwrap_or_default()
    }

    fn tasks_up(&self) -> Result<(), Status> {
        if self.tasks_down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Status::unavailable("the task service is down; try again"));
        }
        Ok(())
    }

    /// Records that `department` has a task in the case.
    pub fn put_department(&self, case_id: Uuid, department: &str) {
        let mut all = self.departments.lock().expect("directory lock");
        let of_case = all.entry(case_id).or_default();
        if !of_case.iter().any(|d| d == department) {
            of_case.push(department.to_owned());
        }
    }
}

#[tonic::async_trait]
impl CaseDirectory for InMemoryDirectory {
    async fn delivery_and_applicant(&self, case_id: Uuid) -> Result<CaseFacts, Status> {
        self.cases.lock().expect("directory lock").get(&case_id).cloned().ok_or_else(|| case_not_found(case_id))
    }

    async fn approved_results(&self, case_id: Uuid, task_ids: &[Uuid]) -> Result<Vec<TaskResult>, Status> {
        self.tasks_up()?;
        let tasks = self.tasks.lock().expect("directory lock");
        Ok(task_ids.iter().map(|t| tasks.get(&(case_id, *t)).cloned().unwrap_or(TaskResult::Unknown)).collect())
    }

    async fn departments(&self, case_id: Uuid) -> Result<Vec<String>, Status> {
        self.tasks_up()?;
        Ok(self.departments.lock().expect("directory lock").get(&case_id).cloned().unwrap_or_default())
    }

    async fn lead_department(&self, case_id: Uuid) -> Result<Option<String>, Status> {
        self.tasks_up()?;
        Ok(self.cases.lock().expect("directory lock").get(&case_id).and_then(|c| c.lead_department.clone()))
    }

    async fn record_case_closed(
        &self,
        case_id: Uuid,
        closed_on: pb::Date,
        window_materials: &[String],
        _: &Cause,
    ) -> Result<(), Status> {
        self.closed
            .lock()
            .expect("directory lock")
            .insert(case_id, Closing { on: closed_on, window_materials: window_materials.to_vec() });
        Ok(())
    }
}
