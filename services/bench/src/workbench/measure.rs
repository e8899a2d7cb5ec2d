//! The timed requests: each page over HTTP as a signed-in browser asks for
//! it (its own session per worker), the gRPC calls behind the page made
//! directly with the same person's role, and the read-model SQL the
//! services run, straight on the database — three layers of the same
//! answer, measured in the same run at the same concurrency, beside the
//! workbench's static stylesheet and the home page (a session read, no
//! service call) as the server's own floor.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use sqlx::PgPool;
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::common::v1::WarningLevel;
use yiciban_proto::routing::v1::{GetPlanRequest, routing_service_client::RoutingServiceClient};
use yiciban_proto::tasks::v1::{ListCaseTasksRequest, ListInboxRequest, task_service_client::TaskServiceClient};
use yiciban_proto::tracking::v1::{
    GetTimelineRequest, OfficerWorklistRequest, OverdueBoardRequest, tracking_service_client::TrackingServiceClient,
};

use super::stack::Stack;

/// The department whose inbox is measured (the first step of every case).
pub const INBOX_DEPARTMENT: &str = "health-maternity";
/// The officer whose worklist and case pages are measured.
pub const OFFICER: &str = "officer-001";
/// The pages' own page size (the workbench asks for 100 rows).
const PAGE_ROWS: i64 = 100;

/// A browser: keeps its session cookie, follows redirects itself.
#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    base: String,
}

impl Browser {
    fn new(base: &str) -> anyhow::Result<Browser> {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()?;
        Ok(Browser { http, base: base.to_owned() })
    }

    /// Signs in as `username` (the development issuer's `login_hint`).
    pub async fn signed_in(base: &str, username: &str) -> anyhow::Result<Browser> {
        let browser = Browser::new(base)?;
        let mut url = format!("{base}/auth/login?login_hint={username}");
        for _ in 0..10 {
            let response = browser.http.get(&url).send().await?;
            if response.status().is_redirection() {
                let next = response.headers().get(LOCATION).and_then(|l| l.to_str().ok()).unwrap_or_default();
                url = if next.starts_with("http") { next.to_owned() } else { format!("{base}{next}") };
                continue;
            }
            if response.status() != StatusCode::OK {
                bail!("signing in as {username} ended at {url} with {}", response.status());
            }
            return Ok(browser);
        }
        bail!("signing in as {username} did not end after ten redirects")
    }

    /// `GET path`: the body of a 200 answer, else an error.
    pub async fn page(&self, path: &str) -> anyhow::Result<usize> {
        let response = self.http.get(format!("{}{path}", self.base)).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        if status != StatusCode::OK {
            bail!("GET {path}: {status}: {}", String::from_utf8_lossy(&body[..body.len().min(300)]));
        }
        Ok(body.len())
    }
}

/// Runs `requests` calls of `call`, `workers.len()` at a time (worker `w`
/// makes its calls with a clone of `workers[w]`); the latency of each in ms.
pub async fn timed<W, F, Fut>(workers: &[W], requests: u64, call: F) -> anyhow::Result<Vec<f64>>
where
    W: Clone,
    F: Fn(W, u64) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let next = AtomicU64::new(0);
    let samples = std::sync::Mutex::new(Vec::with_capacity(requests as usize));
    let runs = workers.iter().map(|worker| {
        let (next, samples, call) = (&next, &samples, &call);
        async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return Ok::<(), anyhow::Error>(());
                }
                let t = Instant::now();
                call(worker.clone(), i).await?;
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                samples.lock().expect("samples lock").push(ms);
            }
        }
    });
    for run in futures::future::join_all(runs).await {
        run?;
    }
    Ok(samples.into_inner().expect("samples lock"))
}

type Tasks = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;
type Tracking = TrackingServiceClient<InterceptedService<Channel, ClientAuth>>;
type Routing = RoutingServiceClient<InterceptedService<Channel, ClientAuth>>;

/// The services' clients as the measured people (tokens from the issuer,
/// as the workbench's own would be).
#[derive(Clone)]
pub struct Grpc {
    agent_tasks: Tasks,
    officer_tracking: Tracking,
    officer_tasks: Tasks,
    officer_routing: Routing,
    supervisor_tracking: Tracking,
}

async fn channel(url: &str) -> anyhow::Result<Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.to_owned())?.tcp_nodelay(true).connect().await?)
}

impl Grpc {
    pub async fn connect(stack: &Stack) -> anyhow::Result<Grpc> {
        let auth = |role, subject: &str, department: Option<&str>| {
            ClientAuth::new(Some(&stack.issuer.token(role, subject, department, None)))
        };
        let (tasks, tracking, routing) = (
            channel(stack.url("tasks")).await?,
            channel(stack.url("tracking")).await?,
            channel(stack.url("routing")).await?,
        );
        Ok(Grpc {
            agent_tasks: TaskServiceClient::with_interceptor(
                tasks.clone(),
                auth(Role::Agent, &format!("agent-{INBOX_DEPARTMENT}-1"), Some(INBOX_DEPARTMENT)),
            ),
            officer_tracking: TrackingServiceClient::with_interceptor(
                tracking.clone(),
                auth(Role::Officer, OFFICER, None),
            ),
            officer_tasks: TaskServiceClient::with_interceptor(tasks, auth(Role::Officer, OFFICER, None)),
            officer_routing: RoutingServiceClient::with_interceptor(routing, auth(Role::Officer, OFFICER, None)),
            supervisor_tracking: TrackingServiceClient::with_interceptor(
                tracking,
                auth(Role::Supervisor, "sup-001", None),
            ),
        })
    }

    /// ListInbox as the inbox page asks it.
    pub async fn inbox(&self) -> anyhow::Result<()> {
        let request = ListInboxRequest { page_size: PAGE_ROWS as u32, ..Default::default() };
        self.agent_tasks.clone().list_inbox(request).await.context("ListInbox")?;
        Ok(())
    }

    /// OfficerWorklist as the worklist page asks it.
    pub async fn worklist(&self) -> anyhow::Result<()> {
        let request = OfficerWorklistRequest { page_size: PAGE_ROWS as u32, ..Default::default() };
        self.officer_tracking.clone().officer_worklist(request).await.context("OfficerWorklist")?;
        Ok(())
    }

    /// The case page's three reads: GetTimeline, then GetPlan and
    /// ListCaseTasks together.
    pub async fn case(&self, case_id: &str) -> anyhow::Result<()> {
        let request = GetTimelineRequest { case_id: case_id.to_owned(), page_size: 1000, page_token: String::new() };
        self.officer_tracking.clone().get_timeline(request).await.context("GetTimeline")?;
        let (mut routing, mut tasks) = (self.officer_routing.clone(), self.officer_tasks.clone());
        let (plan, listed) = tokio::join!(
            routing.get_plan(GetPlanRequest { case_id: case_id.to_owned() }),
            tasks.list_case_tasks(ListCaseTasksRequest { case_id: case_id.to_owned() }),
        );
        plan.context("GetPlan")?;
        listed.context("ListCaseTasks")?;
        Ok(())
    }

    /// OverdueBoard as the supervisor's page asks it.
    pub async fn overdue(&self) -> anyhow::Result<()> {
        let request = OverdueBoardRequest {
            min_level: WarningLevel::Yellow as i32,
            page_size: PAGE_ROWS as u32,
            ..Default::default()
        };
        self.supervisor_tracking.clone().overdue_board(request).await.context("OverdueBoard")?;
        Ok(())
    }
}

// The read models' statements behind each page, run through the services'
// own read functions (tasks' `repo::inbox` and `repo::case_tasks`,
// tracking's `Repo`), on the default schemas: the floor under each page.
// The EXPLAIN option prints the plans of the same statements, written out
// here because the read functions do not expose their text.

macro_rules! inbox_count {
    () => {
        "SELECT count(*) FROM tasks.task_index WHERE department = $1 AND state = ANY($2)"
    };
}

macro_rules! inbox_rows {
    () => {
        "SELECT task, clock, open FROM tasks.task_index WHERE department = $1 AND state = ANY($2)
     ORDER BY warning DESC, due_by, created_at, task_id OFFSET 0 LIMIT $3"
    };
}

macro_rules! worklist {
    () => {
        "SELECT c.doc, (SELECT coalesce(jsonb_agg(t.doc), '[]') FROM tracking.task_rows t WHERE t.case_id = c.case_id)
     AS tasks FROM tracking.case_views c WHERE c.officer_id = $1 AND c.open AND c.warning >= 0
     ORDER BY c.warning DESC, c.promised_by ASC NULLS LAST, c.case_number OFFSET 0 LIMIT $2"
    };
}

macro_rules! worklist_count {
    () => {
        "SELECT count(*) FROM tracking.case_views WHERE officer_id = $1 AND open AND warning >= 0"
    };
}

macro_rules! timeline {
    () => {
        "SELECT entry, count(*) OVER () AS total FROM tracking.timeline WHERE case_id = $1
     ORDER BY occurred_at, seq OFFSET 0 LIMIT 1000"
    };
}

macro_rules! case_tasks {
    () => {
        "SELECT task, clock, open FROM tasks.task_index WHERE case_id = $1 ORDER BY created_at, task_id"
    };
}

macro_rules! overdue_counts {
    () => {
        "SELECT count(*) FILTER (WHERE warning = 1), count(*) FILTER (WHERE warning = 2) FROM tracking.task_rows t
     WHERE t.open AND t.warning >= 1"
    };
}

macro_rules! overdue_rows {
    () => {
        "SELECT t.doc, t.case_id, c.case_number, c.package_id, c.lead_department, c.officer_id
     FROM tracking.task_rows t JOIN tracking.case_views c ON c.case_id = t.case_id
     WHERE t.open AND t.warning > 0 AND t.warning >= 1
     ORDER BY t.warning DESC, t.due_by ASC NULLS LAST, t.created_at, t.task_id OFFSET 0 LIMIT $1"
    };
}

/// The open task states the inbox lists by default.
const OPEN_STATES: [&str; 3] = ["pending", "in_progress", "waiting_for_supplement"];

/// The read-model statements behind each page.
#[derive(Clone)]
pub struct Sql {
    pool: PgPool,
    tracking: yiciban_tracking::repo::Repo,
}

impl Sql {
    pub fn new(pool: PgPool) -> Sql {
        let tracking = yiciban_tracking::repo::Repo::new(pool.clone(), "tracking");
        Sql { pool, tracking }
    }

    pub async fn inbox(&self) -> anyhow::Result<()> {
        let filter = yiciban_tasks::repo::InboxFilter {
            department: INBOX_DEPARTMENT.to_owned(),
            states: OPEN_STATES.iter().map(|s| (*s).to_owned()).collect(),
            due_before: None,
            package_id: None,
            assignee: None,
            min_warning: 0,
        };
        yiciban_tasks::repo::inbox(&self.pool, "tasks", &filter, 0, PAGE_ROWS).await?;
        Ok(())
    }

    pub async fn worklist(&self) -> anyhow::Result<()> {
        self.tracking.worklist(OFFICER, &[], 0, 0, PAGE_ROWS).await?;
        Ok(())
    }

    pub async fn case(&self, case_id: uuid::Uuid) -> anyhow::Result<()> {
        self.tracking.case(case_id).await?.context("the case is in the read model")?;
        self.tracking.timeline(case_id, 0, 1000).await?;
        yiciban_tasks::repo::case_tasks(&self.pool, "tasks", case_id).await?;
        Ok(())
    }

    pub async fn overdue(&self) -> anyhow::Result<()> {
        self.tracking.overdue(None, None, 1, 0, PAGE_ROWS).await?;
        Ok(())
    }

    /// `EXPLAIN (ANALYZE, BUFFERS)` of each statement, for the log.
    pub async fn explain(&self, case_id: uuid::Uuid) -> anyhow::Result<String> {
        let states: Vec<String> = OPEN_STATES.iter().map(|s| (*s).to_owned()).collect();
        let mut out = String::new();
        let statements: [(&str, &'static str); 8] = [
            ("inbox count", concat!("EXPLAIN (ANALYZE, BUFFERS) ", inbox_count!())),
            ("inbox rows", concat!("EXPLAIN (ANALYZE, BUFFERS) ", inbox_rows!())),
            ("worklist", concat!("EXPLAIN (ANALYZE, BUFFERS) ", worklist!())),
            ("worklist count", concat!("EXPLAIN (ANALYZE, BUFFERS) ", worklist_count!())),
            ("timeline", concat!("EXPLAIN (ANALYZE, BUFFERS) ", timeline!())),
            ("case tasks", concat!("EXPLAIN (ANALYZE, BUFFERS) ", case_tasks!())),
            ("overdue counts", concat!("EXPLAIN (ANALYZE, BUFFERS) ", overdue_counts!())),
            ("overdue rows", concat!("EXPLAIN (ANALYZE, BUFFERS) ", overdue_rows!())),
        ];
        for (name, explain) in statements {
            let mut q = sqlx::query_scalar::<_, String>(explain);
            q = match name {
                "inbox count" => q.bind(INBOX_DEPARTMENT).bind(states.clone()),
                "inbox rows" => q.bind(INBOX_DEPARTMENT).bind(states.clone()).bind(PAGE_ROWS),
                "worklist" => q.bind(OFFICER).bind(PAGE_ROWS),
                "worklist count" => q.bind(OFFICER),
                "timeline" | "case tasks" => q.bind(case_id),
                "overdue rows" => q.bind(PAGE_ROWS),
                _ => q,
            };
            let lines = q.fetch_all(&self.pool).await?;
            out.push_str(&format!("-- {name}\n{}\n\n", lines.join("\n")));
        }
        Ok(out)
    }
}

/// The officer's cases to open one after another, in every stage.
pub async fn officer_cases(pool: &PgPool) -> anyhow::Result<Vec<uuid::Uuid>> {
    Ok(sqlx::query_scalar("SELECT case_id FROM tracking.case_views WHERE officer_id = $1 ORDER BY case_number")
        .bind(OFFICER)
        .fetch_all(pool)
        .await?)
}
