//! `spawn_app()`: the workbench with the services it calls — intake,
//! routing, the department-task service, issuance and tracking, real, on their own
//! database and NATS prefix (testkit's `spawn_service`) — and the development issuer
//! knowing the workbench's redirect URI and agents of two departments.
//! People sign in through the browser's path with a cookie-keeping HTTP
//! client ([`Browser`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_devissuer::{User, WORKBENCH_CLIENT_ID};
use yiciban_platform::grpc::ClientAuth;
use yiciban_platform::{ManualClock, Role};
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::issuance::v1::issuance_service_client::IssuanceServiceClient;
use yiciban_proto::supervision::v1::supervision_service_client::SupervisionServiceClient;
use yiciban_proto::tasks::v1 as tasks;
use yiciban_proto::tasks::v1::task_service_client::TaskServiceClient;
use yiciban_proto::tracking::v1 as tracking;
use yiciban_proto::tracking::v1::tracking_service_client::TrackingServiceClient;
use yiciban_testkit::{ReservedPort, ServiceHandle, TestDb, TestIssuer, TestNats, eventually, spawn_service};
use yiciban_workbench::WorkbenchConfig;

pub type Tasks = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Issuance = IssuanceServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Tracking = TrackingServiceClient<InterceptedService<Channel, ClientAuth>>;
pub type Supervision = SupervisionServiceClient<InterceptedService<Channel, ClientAuth>>;

/// The departments of the newborn package's first two steps (s1, s2).
pub const MATERNITY: &str = "health-maternity";
pub const CDC: &str = "cdc";
/// A department without a step in the newborn package.
pub const OUTSIDER: &str = "samr";

/// The largest result file the tests' workbench takes.
pub const RESULT_MAX_BYTES: usize = 64 * 1024;
/// The case officer intake assigns first (the least loaded of its default
/// officers), and another one.
pub const OFFICER: &str = "officer-001";
pub const OTHER_OFFICER: &str = "officer-002";

pub const WAIT: Duration = Duration::from_secs(30);

pub struct TestApp {
    /// First, so the services stop before their database is dropped.
    _handles: Vec<ServiceHandle>,
    pub url: String,
    pub clock: ManualClock,
    pub issuer: TestIssuer,
    channels: HashMap<&'static str, Channel>,
    /// The task service's state, to run its SLA sweep at the test's clock.
    tasks: Arc<yiciban_tasks::Tasks>,
    _ports: Vec<ReservedPort>,
    _nats: TestNats,
    db: TestDb,
}

/// The departments of the newborn package's later steps (s3 to s7).
pub const LATER_NEWBORN_DEPARTMENTS: [&str; 4] = ["police-hukou", "medins", "hrss", "tax"];

/// An agent of `department`, named after it as people read it
/// (`妇幼保健院经办人`).
fn agent(username: &str, department: &str) -> User {
    let names = yiciban_workbench::Names::seed().expect("the seeded names");
    User {
        username: username.to_owned(),
        display_name: format!("{}经办人", names.department(department)),
        role: "yiciban-agent".to_owned(),
        department: Some(department.to_owned()),
        id_number: None,
    }
}

pub async fn spawn_app() -> TestApp {
    let db = TestDb::new(30).await;
    let nats = TestNats::new().await;
    // A working Tuesday, 10:00 in Beijing.
    let clock = ManualClock::new("2026-09-29T02:00:00Z".parse().unwrap());
    let [intake, routing, tasks, tracking, issuance, workbench, notifier, supervision] =
        [(); 8].map(|()| ReservedPort::new());
    let workbench_url = workbench.url();
    let issuer = TestIssuer::start_with(|config| {
        config.users.push(agent("agent-maternity-1", MATERNITY));
        config.users.push(agent("agent-maternity-2", MATERNITY));
        config.users.push(agent("agent-cdc-1", CDC));
        config.users.push(agent("agent-samr-1", OUTSIDER));
        for department in LATER_NEWBORN_DEPARTMENTS {
            config.users.push(agent(&format!("agent-{department}-1"), department));
        }
        assert!(config.allow_redirect(WORKBENCH_CLIENT_ID, &format!("{workbench_url}/auth/callback")));
    })
    .await;
    let mut env: HashMap<String, String> = [
        ("YICIBAN_NATS_PREFIX", nats.subjects.prefix().to_owned()),
        ("YICIBAN_INTAKE_URL", intake.url()),
        ("YICIBAN_ROUTING_URL", routing.url()),
        ("YICIBAN_TASKS_URL", tasks.url()),
        ("YICIBAN_TRACKING_URL", tracking.url()),
        ("YICIBAN_ISSUANCE_URL", issuance.url()),
        ("YICIBAN_NOTIFIER_URL", notifier.url()),
        ("YICIBAN_SUPERVISION_URL", supervision.url()),
        // The notifier keeps its text messages in its local sink.
        ("YICIBAN_SMS_GATEWAY", "local".to_owned()),
        ("YICIBAN_SMS_POLL", "50ms".to_owned()),
        ("YICIBAN_EXPIRY_SCAN", "1h".to_owned()),
        ("YICIBAN_SLA_SCAN", "1h".to_owned()),
        ("YICIBAN_WORKBENCH_PUBLIC_URL", workbench_url.clone()),
        ("YICIBAN_WORKBENCH_RESULT_MAX_BYTES", RESULT_MAX_BYTES.to_string()),
        // The progress page's tests stand for several clients by this header.
        ("YICIBAN_WORKBENCH_CLIENT_ADDRESS_HEADER", "x-forwarded-for".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    issuer.configure(&mut env);
    let now: Arc<ManualClock> = Arc::new(clock.clone());
    let (pool, js) = (db.pool.clone(), nats.js.clone());
    let mut handles = Vec::new();
    let mut channels = HashMap::new();

    let mut config = yiciban_tasks::TasksConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(tasks.listener());
    let app = spawn_service(yiciban_tasks::build_with(config, now.clone(), pool.clone(), js.clone())).await;
    channels.insert("tasks", app.channel);
    handles.push(app.handle);
    let tasks_state = app.state;

    // Issuance first: tracking reads the owning stores on a gap.
    let mut config = yiciban_issuance::IssuanceConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(issuance.listener());
    let app = spawn_service(yiciban_issuance::build_with(config, now.clone(), pool.clone(), js.clone())).await;
    channels.insert("issuance", app.channel);
    handles.push(app.handle);

    let mut config = yiciban_tracking::TrackingConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(tracking.listener());
    let app = spawn_service(yiciban_tracking::build_with(config, now.clone(), pool.clone(), js.clone())).await;
    channels.insert("tracking", app.channel);
    handles.push(app.handle);

    let mut config = yiciban_routing::RoutingConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(routing.listener());
    handles
        .push(spawn_service(yiciban_routing::build_with(config, now.clone(), pool.clone(), js.clone())).await.handle);

    let mut config = yiciban_intake::IntakeConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(intake.listener());
    let app = spawn_service(yiciban_intake::build_with(config, now.clone(), pool.clone(), js.clone())).await;
    channels.insert("intake", app.channel);
    handles.push(app.handle);

    let mut config = yiciban_notifier::NotifierConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(notifier.listener());
    handles
        .push(spawn_service(yiciban_notifier::build_with(config, now.clone(), pool.clone(), js.clone())).await.handle);

    // The supervision service asks intake's catalog as itself.
    let mut config = yiciban_supervision::SupervisionConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(supervision.listener());
    let app = spawn_service(yiciban_supervision::build_with(config, now.clone(), pool.clone(), js, None)).await;
    channels.insert("supervision", app.channel);
    handles.push(app.handle);

    let mut config = WorkbenchConfig::from_source(&env).unwrap();
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config.http_listener = Some(workbench.listener());
    let app = spawn_service(yiciban_workbench::build_with(config, now, pool)).await;
    handles.insert(0, app.handle);

    TestApp {
        _handles: handles,
        url: workbench_url,
        clock,
        issuer,
        channels,
        tasks: tasks_state,
        _ports: vec![intake, routing, tasks, tracking, issuance, workbench, notifier, supervision],
        _nats: nats,
        db,
    }
}

impl TestApp {
    /// A fresh browser (no cookies).
    pub fn browser(&self) -> Browser {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        Browser {
            http: reqwest::Client::builder()
                .cookie_provider(jar.clone())
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            jar,
            base: self.url.clone(),
        }
    }

    /// A browser signed in as `username` (the sign-in's every step checked
    /// by [`Browser::sign_in`]).
    pub async fn signed_in(&self, username: &str) -> Browser {
        let browser = self.browser();
        let home = browser.sign_in(username).await;
        assert_eq!(home.status, StatusCode::OK, "{}", home.body);
        browser
    }

    pub fn tasks(&self, role: Role, subject: &str, department: Option<&str>) -> Tasks {
        let token = self.issuer.token(role, subject, department, None);
        TaskServiceClient::with_interceptor(self.channels["tasks"].clone(), ClientAuth::new(Some(&token)))
    }

    pub fn issuance(&self, role: Role, subject: &str) -> Issuance {
        let token = self.issuer.token(role, subject, None, None);
        IssuanceServiceClient::with_interceptor(self.channels["issuance"].clone(), ClientAuth::new(Some(&token)))
    }

    pub fn tracking(&self, role: Role, subject: &str, department: Option<&str>) -> Tracking {
        let token = self.issuer.token(role, subject, department, None);
        TrackingServiceClient::with_interceptor(self.channels["tracking"].clone(), ClientAuth::new(Some(&token)))
    }

    /// Waits until tracking's summary of `case_id`, as a supervisor reads
    /// it, satisfies `check`.
    pub async fn summary_when(
        &self,
        case_id: &str,
        what: &str,
        check: impl Fn(&tracking::CaseSummary) -> bool,
    ) -> tracking::CaseSummary {
        let supervisor = self.tracking(Role::Supervisor, "sup-001", None);
        eventually(what, WAIT, || {
            let (mut supervisor, case_id) = (supervisor.clone(), case_id.to_owned());
            let check = &check;
            async move {
                let request = tracking::GetCaseSummaryRequest { case_id };
                let summary = supervisor.get_case_summary(request).await.ok()?.into_inner().summary?;
                check(&summary).then_some(summary)
            }
        })
        .await
    }

    /// Moves the clock on by `days` and runs the task service's SLA sweep
    /// (yellow and red warnings) at the new time.
    pub async fn days_pass(&self, days: i64) {
        self.clock.advance(chrono::Duration::days(days));
        self.tasks.sweep_sla().await.unwrap();
    }

    /// The supervision service's assessments as `role`.
    pub fn supervision_assessments(
        &self,
        role: Role,
        subject: &str,
    ) -> yiciban_proto::supervision::v1::assessment_service_client::AssessmentServiceClient<
        InterceptedService<Channel, ClientAuth>,
    > {
        let token = self.issuer.token(role, subject, None, None);
        yiciban_proto::supervision::v1::assessment_service_client::AssessmentServiceClient::with_interceptor(
            self.channels["supervision"].clone(),
            ClientAuth::new(Some(&token)),
        )
    }

    pub fn supervision(&self, role: Role, subject: &str, department: Option<&str>) -> Supervision {
        let token = self.issuer.token(role, subject, department, None);
        SupervisionServiceClient::with_interceptor(self.channels["supervision"].clone(), ClientAuth::new(Some(&token)))
    }

    pub fn intake_as_clerk(&self) -> Intake {
        let token = self.issuer.token(Role::Clerk, "clerk-001", None, None);
        IntakeServiceClient::with_interceptor(self.channels["intake"].clone(), ClientAuth::new(Some(&token)))
    }

    /// An administrator publishes `file_json` as the catalog version in
    /// force (CatalogPublishingService.ImportCatalog).
    pub async fn publish_catalog(&self, file_json: String) {
        use yiciban_proto::catalog::v1::ImportCatalogRequest;
        use yiciban_proto::catalog::v1::catalog_publishing_service_client::CatalogPublishingServiceClient;
        let token = self.issuer.token(Role::Admin, "admin-001", None, None);
        let mut publishing = CatalogPublishingServiceClient::with_interceptor(
            self.channels["intake"].clone(),
            ClientAuth::new(Some(&token)),
        );
        let request = ImportCatalogRequest { file_json, note: "test".into() };
        assert!(publishing.import_catalog(request).await.unwrap().into_inner().changed);
    }

    /// An administrator erases the personal data of the applicant of
    /// `case_id` (PrivacyService.ErasePersonalData).
    pub async fn erase_applicant_of(&self, case_id: &str) {
        use yiciban_proto::intake::v1::privacy_service_client::PrivacyServiceClient;
        let token = self.issuer.token(Role::Admin, "admin-001", None, None);
        let mut privacy =
            PrivacyServiceClient::with_interceptor(self.channels["intake"].clone(), ClientAuth::new(Some(&token)));
        let request = yiciban_proto::intake::v1::ErasePersonalDataRequest {
            case_id: case_id.to_owned(),
            id_number: String::new(),
            reason: "个人信息删除申请".into(),
        };
        assert!(privacy.erase_personal_data(request).await.unwrap().into_inner().erased_now);
    }

    /// The personal-data reads intake recorded for people (not for a
    /// service: the notifier reads a case's phone when it sends, at a moment
    /// of its own, so counting its reads would race), newest first (as a
    /// supervisor reads them).
    pub async fn intake_reads(&self) -> Vec<yiciban_proto::audit::v1::PersonalDataRead> {
        let mut reads = self.all_intake_reads().await;
        reads.retain(|r| r.role != "service");
        reads
    }

    /// Every personal-data read intake recorded, newest first.
    pub async fn all_intake_reads(&self) -> Vec<yiciban_proto::audit::v1::PersonalDataRead> {
        use yiciban_proto::audit::v1::audit_service_client::AuditServiceClient;
        let token = self.issuer.token(Role::Supervisor, "sup-001", None, None);
        let mut audit =
            AuditServiceClient::with_interceptor(self.channels["intake"].clone(), ClientAuth::new(Some(&token)));
        audit
            .list_personal_data_reads(yiciban_proto::audit::v1::ListPersonalDataReadsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .reads
    }

    /// Submits `request` at the window and waits until the case's first
    /// steps are dispatched (health-maternity's and cdc's tasks exist);
    /// the case id and those tasks.
    pub async fn case_with_tasks(
        &self,
        request: yiciban_proto::intake::v1::SubmitApplicationRequest,
    ) -> (String, Vec<tasks::Task>) {
        let case_id = self.intake_as_clerk().submit_application(request).await.unwrap().into_inner().case_id;
        let supervisor = self.tasks(Role::Supervisor, "sup-001", None);
        let found = eventually("the case's first tasks", WAIT, || {
            let (mut supervisor, case_id) = (supervisor.clone(), case_id.clone());
            async move {
                let listed =
                    supervisor.list_case_tasks(tasks::ListCaseTasksRequest { case_id }).await.ok()?.into_inner().tasks;
                (listed.len() >= 2).then_some(listed)
            }
        })
        .await;
        (case_id, found)
    }

    /// How many events intake has stored (a refused submission stores none).
    pub async fn intake_event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM intake.events").fetch_one(&self.db.pool).await.unwrap()
    }

    /// The test's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.db.pool
    }

    /// The sealed tokens of every session, as the table holds them.
    pub async fn sealed_tokens(&self) -> Vec<Vec<u8>> {
        sqlx::query_scalar("SELECT tokens FROM workbench.sessions ORDER BY created_at")
            .fetch_all(&self.db.pool)
            .await
            .unwrap()
    }

    /// A task as the service holds it now.
    pub async fn task(&self, task_id: &str) -> tasks::Task {
        let mut supervisor = self.tasks(Role::Supervisor, "sup-001", None);
        supervisor
            .get_task(tasks::GetTaskRequest { task_id: task_id.to_owned() })
            .await
            .unwrap()
            .into_inner()
            .task
            .unwrap()
    }
}

/// The SHA-256 of `content` in hex, as intake names stored content.
pub fn sha(content: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(content).iter().map(|b| format!("{b:02x}")).collect()
}

/// The task of `department` among `tasks`.
pub fn of(tasks: &[tasks::Task], department: &str) -> tasks::Task {
    tasks.iter().find(|t| t.department == department).cloned().unwrap_or_else(|| panic!("a task of {department}"))
}

/// An answer as a test reads it.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get(LOCATION).and_then(|l| l.to_str().ok()).unwrap_or_default()
    }

    /// The value of the first hidden input `name` after `after` in the page.
    pub fn field_after(&self, after: &str, name: &str) -> String {
        let start = self.body.find(after).unwrap_or_else(|| panic!("{after:?} in the page:\n{}", self.body));
        let marker = format!("name=\"{name}\" value=\"");
        let rest = &self.body[start..];
        let at =
            rest.find(&marker).unwrap_or_else(|| panic!("field {name} after {after:?}:\n{}", self.body)) + marker.len();
        rest[at..].split('"').next().unwrap().to_owned()
    }

    /// The session's form token (in the logout form of every signed-in page).
    pub fn csrf(&self) -> String {
        self.field_after("action=\"/auth/logout\"", "csrf")
    }
}

/// A browser: keeps cookies, follows no redirect by itself.
#[derive(Clone)]
pub struct Browser {
    pub http: reqwest::Client,
    jar: Arc<reqwest::cookie::Jar>,
    pub base: String,
}

impl Browser {
    /// The session id this browser sends (as a thief copying it would hold it).
    pub fn session_id(&self) -> Option<String> {
        use reqwest::cookie::CookieStore as _;
        let sent = self.jar.cookies(&self.base.parse().unwrap())?;
        sent.to_str()
            .unwrap()
            .split("; ")
            .find_map(|pair| pair.strip_prefix("__Host-yiciban-session="))
            .map(str::to_owned)
    }

    async fn read(response: reqwest::Response) -> Page {
        let (status, headers) = (response.status(), response.headers().clone());
        Page { status, headers, body: response.text().await.unwrap() }
    }

    /// `GET` a path of the workbench, or any absolute URL.
    pub async fn get(&self, path: &str) -> Page {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        Self::read(self.http.get(url).send().await.unwrap()).await
    }

    /// `GET`, following redirects (as a browser does) up to ten times.
    pub async fn follow(&self, path: &str) -> Page {
        let mut page = self.get(path).await;
        for _ in 0..10 {
            if !page.status.is_redirection() {
                break;
            }
            let next = page.location().to_owned();
            page = self.get(&next).await;
        }
        page
    }

    /// `POST` a form to a path of the workbench, with extra headers.
    pub async fn post(&self, path: &str, form: &[(&str, &str)], headers: &[(&str, &str)]) -> Page {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(form);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        Self::read(request.send().await.unwrap()).await
    }

    /// `POST` a `multipart/form-data` form, as a browser sends a form with
    /// a file input: the text `fields`, then `file` as
    /// (field, file name, content type, bytes).
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        file: Option<(&str, &str, &str, &[u8])>,
    ) -> Page {
        self.post_multipart_files(path, fields, file.as_slice()).await
    }

    /// Like [`Browser::post_multipart`] with several file inputs.
    pub async fn post_multipart_files(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Page {
        const BOUNDARY: &str = "----yiciban-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file_name, content_type, content) in files {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\n\
                     Content-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(body);
        Self::read(request.send().await.unwrap()).await
    }

    /// Signs in as `username` (the issuer's `login_hint`): the page the
    /// browser lands on.
    pub async fn sign_in(&self, username: &str) -> Page {
        self.follow(&format!("/auth/login?login_hint={username}")).await
    }
}
