//! One complete case, as the people at the window and in the departments
//! would drive it through gRPC: the clerk submits a newborn application; each
//! department's agent claims and approves its task as it appears (the
//! parallel ones at once); the window notifies the applicant and hands the
//! results out, which closes the case (办结). Every command has its own
//! idempotency key and its latency is recorded. With [`Retries::For`] a
//! failed call is sent again, the same request with the same key, as a
//! client that lost its answer would (the fault tests); without, the case
//! fails at the first error (the benchmark).
//!
//! With several replicas of each service ([`Driver::connect_replicas`]),
//! every call goes to the next replica of its service in turn (round-robin
//! per call), not to one replica per case: nothing in a deployment pins a
//! case to a pod (a gRPC balancer spreads requests, the workbench's calls
//! come from any of its own replicas), so a claim on one replica followed by
//! the approval on another is the normal case, and the benchmark should
//! exercise it — any state a process keeps between commands (a cache of hot
//! task state, say) that is not safe across replicas then shows up as
//! failed commands or a failed correctness check. It also spreads the load
//! evenly whatever the mix of cases in flight. A call resent after a
//! transient failure goes to the next replica, as a client whose replica
//! went away would.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tonic::codegen::InterceptedService;
use tonic::transport::Channel;
use yiciban_platform::Role;
use yiciban_platform::grpc::ClientAuth;
use yiciban_proto::common::v1 as common;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;
use yiciban_proto::issuance::v1::{self as issuance, issuance_service_client::IssuanceServiceClient};
use yiciban_proto::tasks::v1::{self as tasks, task_service_client::TaskServiceClient};
use yiciban_testkit::TestIssuer;
use yiciban_testkit::applications::{MOTHER_ID, newborn, result_document};

use crate::feed::{Feed, Notice};

type Intake = IntakeServiceClient<InterceptedService<Channel, ClientAuth>>;
type Tasks = TaskServiceClient<InterceptedService<Channel, ClientAuth>>;
type Issuance = IssuanceServiceClient<InterceptedService<Channel, ClientAuth>>;

/// How long a case may wait for its next step before it counts as stuck, by default.
const STUCK: Duration = Duration::from_secs(120);
/// Without a notice, the driver looks anyway this often.
const LOOK_ANYWAY: Duration = Duration::from_secs(1);
/// The pause before a call is sent again.
const RETRY_PAUSE: Duration = Duration::from_millis(250);

/// What the driver does when a call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retries {
    /// The case fails at the first error.
    Never,
    /// A transient failure (unavailable, deadline, internal, aborted,
    /// exhausted, cancelled, unknown) is answered by sending the same
    /// request, with the same idempotency key, again, for up to this long.
    For(Duration),
}

/// Whether a call that failed with `code` may have failed for a passing
/// reason (a process or server away, a connection cut), so that the same
/// request sent again can succeed.
pub fn transient(code: tonic::Code) -> bool {
    use tonic::Code::*;
    matches!(code, Unavailable | DeadlineExceeded | Internal | Aborted | ResourceExhausted | Cancelled | Unknown)
}

/// Latencies by command (and by query), in milliseconds.
#[derive(Debug, Default)]
pub struct Latencies {
    samples: Mutex<HashMap<&'static str, Vec<f64>>>,
}

impl Latencies {
    fn record(&self, name: &'static str, since: Instant) {
        let ms = since.elapsed().as_secs_f64() * 1000.0;
        self.samples.lock().expect("latency lock").entry(name).or_default().push(ms);
    }

    /// The samples by name, and clears them.
    pub fn take(&self) -> HashMap<&'static str, Vec<f64>> {
        std::mem::take(&mut *self.samples.lock().expect("latency lock"))
    }
}

/// How far [`Driver`] takes a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Until {
    /// Issuance prepared the results (the case is decided).
    Prepared,
    /// The results were handed out, which closes the case.
    HandedOut,
}

/// Names of the commands (state changes) the driver sends; the rest are queries.
pub const COMMANDS: [&str; 5] = ["SubmitApplication", "ClaimTask", "ApproveTask", "NotifyPickup", "ConfirmPickup"];

/// Clients of the services, one HTTP/2 channel per replica of each, shared
/// by every case.
#[derive(Clone)]
pub struct Driver {
    /// One client per replica (the same for the others).
    intake: Vec<Intake>,
    issuance: Vec<Issuance>,
    supervisor_tasks: Vec<Tasks>,
    tasks_channels: Vec<Channel>,
    /// An agent's client per department, one per replica of tasks.
    agents: Arc<Mutex<HashMap<String, Vec<Tasks>>>>,
    /// The calls sent so far: the next one goes to replica `turn % N`.
    turn: Arc<AtomicUsize>,
    issuer: TestIssuer,
    feed: Feed,
    /// Distinguishes this run's idempotency keys.
    run: String,
    retries: Retries,
    stuck: Duration,
    /// Calls sent again after a transient failure.
    resent: Arc<AtomicU64>,
    accepted: Arc<Mutex<Vec<String>>>,
    pub latencies: Arc<Latencies>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").field("run", &self.run).finish()
    }
}

async fn channel(url: &str) -> anyhow::Result<Channel> {
    tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .tcp_nodelay(true)
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))
}

impl Driver {
    /// A driver of one process per service.
    pub async fn connect(
        intake_url: &str,
        tasks_url: &str,
        issuance_url: &str,
        issuer: TestIssuer,
        feed: Feed,
        run: &str,
    ) -> anyhow::Result<Driver> {
        Driver::connect_replicas(
            &[intake_url.to_owned()],
            &[tasks_url.to_owned()],
            &[issuance_url.to_owned()],
            issuer,
            feed,
            run,
        )
        .await
    }

    /// A driver spreading its calls over the replicas of each service
    /// (round-robin per call; see the module's documentation).
    pub async fn connect_replicas(
        intake_urls: &[String],
        tasks_urls: &[String],
        issuance_urls: &[String],
        issuer: TestIssuer,
        feed: Feed,
        run: &str,
    ) -> anyhow::Result<Driver> {
        if intake_urls.is_empty() || tasks_urls.is_empty() || issuance_urls.is_empty() {
            bail!("every service needs at least one address");
        }
        let token = |sub: &str, role: Role| -> anyhow::Result<ClientAuth> {
            let t = issuer.token(role, sub, None, None);
            Ok(ClientAuth::new(Some(&t)))
        };
        let mut intake = Vec::new();
        for url in intake_urls {
            intake.push(IntakeServiceClient::with_interceptor(channel(url).await?, token("clerk-001", Role::Clerk)?));
        }
        let mut issuance = Vec::new();
        for url in issuance_urls {
            issuance
                .push(IssuanceServiceClient::with_interceptor(channel(url).await?, token("clerk-001", Role::Clerk)?));
        }
        let mut tasks_channels = Vec::new();
        for url in tasks_urls {
            tasks_channels.push(channel(url).await?);
        }
        let mut supervisor_tasks = Vec::new();
        for c in &tasks_channels {
            supervisor_tasks.push(TaskServiceClient::with_interceptor(c.clone(), token("sup-001", Role::Supervisor)?));
        }
        Ok(Driver {
            intake,
            issuance,
            supervisor_tasks,
            tasks_channels,
            agents: Arc::default(),
            turn: Arc::default(),
            issuer,
            feed,
            run: run.to_owned(),
            retries: Retries::Never,
            stuck: STUCK,
            resent: Arc::default(),
            accepted: Arc::default(),
            latencies: Arc::default(),
        })
    }

    /// The replica the next call to a service of `n` replicas goes to.
    fn next_replica(&self, n: usize) -> usize {
        pick(self.turn.fetch_add(1, Ordering::Relaxed), n)
    }

    fn intake(&self) -> Intake {
        self.intake[self.next_replica(self.intake.len())].clone()
    }

    fn issuance(&self) -> Issuance {
        self.issuance[self.next_replica(self.issuance.len())].clone()
    }

    fn supervisor_tasks(&self) -> Tasks {
        self.supervisor_tasks[self.next_replica(self.supervisor_tasks.len())].clone()
    }

    /// The same driver answering failures with `retries`, counting a case
    /// stuck after `stuck` without progress.
    pub fn with_retries(mut self, retries: Retries, stuck: Duration) -> Driver {
        self.retries = retries;
        self.stuck = stuck;
        self
    }

    /// Calls sent again after a transient failure so far.
    pub fn resent(&self) -> u64 {
        self.resent.load(Ordering::Relaxed)
    }

    /// Sends what `send` makes, again after a transient failure when the
    /// retries allow it; records the latency of the call that answered.
    async fn call<T, F, Fut>(&self, name: &'static str, mut send: F) -> Result<T, tonic::Status>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let first = Instant::now();
        loop {
            let t = Instant::now();
            match send().await {
                Ok(response) => {
                    self.latencies.record(name, t);
                    return Ok(response.into_inner());
                }
                Err(status) => match self.retries {
                    Retries::For(patience) if transient(status.code()) && first.elapsed() < patience => {
                        self.resent.fetch_add(1, Ordering::Relaxed);
                        tokio::time::sleep(RETRY_PAUSE).await;
                    }
                    _ => return Err(status),
                },
            }
        }
    }

    /// The task clients of an agent of `department`, one per replica of tasks.
    fn agents(&self, department: &str) -> Vec<Tasks> {
        let mut agents = self.agents.lock().expect("agents lock");
        if let Some(clients) = agents.get(department) {
            return clients.clone();
        }
        let token = self.issuer.token(Role::Agent, &format!("agent-{department}"), Some(department), None);
        let clients: Vec<Tasks> = self
            .tasks_channels
            .iter()
            .map(|c| TaskServiceClient::with_interceptor(c.clone(), ClientAuth::new(Some(&token))))
            .collect();
        agents.insert(department.to_owned(), clients.clone());
        clients
    }

    /// The task client of an agent of `department` for the next call.
    fn agent(&self, department: &str) -> Tasks {
        let clients = self.agents(department);
        clients[self.next_replica(clients.len())].clone()
    }

    /// Drives case number `n` from submission to hand-out; returns the
    /// number of commands it sent.
    pub async fn run_case(&self, n: u64) -> anyhow::Result<u64> {
        let case_id = self.submit(n).await?;
        Ok(1 + self.complete(n, &case_id).await?)
    }

    /// Submits case number `n`; returns its case id once it was accepted.
    pub async fn submit(&self, n: u64) -> anyhow::Result<String> {
        let application = newborn(&format!("{}-{n}-submit", self.run));
        let submitted = self
            .call("SubmitApplication", || {
                let (mut intake, application) = (self.intake(), application.clone());
                async move { intake.submit_application(application).await }
            })
            .await
            .context("SubmitApplication")?;
        if submitted.decision() != yiciban_proto::intake::v1::AcceptanceDecision::Accepted {
            bail!("case {n} was not accepted: {:?}", submitted.reasons);
        }
        self.accepted.lock().expect("accepted lock").push(submitted.case_id.clone());
        Ok(submitted.case_id)
    }

    /// The ids of the cases accepted so far, in the order of acceptance.
    pub fn accepted(&self) -> Vec<String> {
        self.accepted.lock().expect("accepted lock").clone()
    }

    /// Drives the accepted case number `n` from its tasks to hand-out;
    /// returns the number of commands it sent.
    pub async fn complete(&self, n: u64, case_id: &str) -> anyhow::Result<u64> {
        self.drive(n, case_id, Until::HandedOut).await
    }

    /// Drives the accepted case number `n` until every department approved
    /// its task and issuance prepared the results (decided, not yet handed
    /// out); returns the number of commands it sent.
    pub async fn decide(&self, n: u64, case_id: &str) -> anyhow::Result<u64> {
        self.drive(n, case_id, Until::Prepared).await
    }

    /// Claims the case's open tasks (its departments' agents take them on)
    /// without deciding them; returns the number of claims.
    pub async fn claim_open(&self, n: u64, case_id: &str) -> anyhow::Result<u64> {
        let key = |what: &str| format!("{}-{n}-{what}", self.run);
        let open = self.pending_tasks(case_id, &HashSet::new()).await?;
        for task in &open {
            self.claim(task, &key).await?;
        }
        Ok(open.len() as u64)
    }

    /// Claims and approves the case's tasks open now (its first steps),
    /// leaving the steps that wait on them to their departments; returns
    /// the number of commands.
    pub async fn approve_open(&self, n: u64, case_id: &str) -> anyhow::Result<u64> {
        let key = |what: &str| format!("{}-{n}-{what}", self.run);
        let open = self.pending_tasks(case_id, &HashSet::new()).await?;
        let mut commands = 0;
        for done in futures::future::join_all(open.iter().map(|t| self.claim_and_approve(t, &key))).await {
            commands += done?;
        }
        Ok(commands)
    }

    async fn drive(&self, n: u64, case_id: &str, until: Until) -> anyhow::Result<u64> {
        let key = |what: &str| format!("{}-{n}-{what}", self.run);
        let case_id = case_id.to_owned();
        let mut commands = 0;
        let mut notices = self.feed.watch(&case_id);
        let result = async {
            let mut handled: HashSet<String> = HashSet::new();
            let mut prepared = false;
            let mut last_progress = Instant::now();
            loop {
                if !prepared {
                    let notice = tokio::time::timeout(LOOK_ANYWAY, notices.recv()).await.ok().flatten();
                    prepared |= notice == Some(Notice::IssuancePrepared);
                    while let Ok(more) = notices.try_recv() {
                        prepared |= more == Notice::IssuancePrepared;
                    }
                }
                let open = if prepared { Vec::new() } else { self.pending_tasks(&case_id, &handled).await? };
                // Under faults a notice may be lost (NATS restarted): with no
                // task open, the driver asks issuance anyway.
                let look = prepared || self.retries != Retries::Never;
                if open.is_empty() {
                    if prepared && until == Until::Prepared {
                        return Ok(commands);
                    }
                    if look && let Some(batch) = self.final_batch(&case_id).await? {
                        commands += self.hand_out(&case_id, batch, &key).await?;
                        return Ok::<u64, anyhow::Error>(commands);
                    }
                } else {
                    last_progress = Instant::now();
                    let approvals = open.iter().map(|t| self.claim_and_approve(t, &key));
                    for done in futures::future::join_all(approvals).await {
                        commands += done?;
                    }
                    handled.extend(open.into_iter().map(|t| t.task_id));
                    continue;
                }
                if last_progress.elapsed() > self.stuck {
                    bail!(
                        "case {n} ({case_id}) made no progress for {:?} ({} tasks approved)",
                        self.stuck,
                        handled.len()
                    );
                }
                if prepared {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        .await;
        self.feed.forget(&case_id);
        result
    }

    /// The case's tasks waiting for a department or claimed and not yet
    /// decided (a client cut off between its claim and its approval, or
    /// whose approval a restore undid, claims again on the same key and
    /// approves), not yet handled by us.
    async fn pending_tasks(&self, case_id: &str, handled: &HashSet<String>) -> anyhow::Result<Vec<tasks::Task>> {
        let request = tasks::ListCaseTasksRequest { case_id: case_id.to_owned() };
        let all = self
            .call("ListCaseTasks", || {
                let (mut client, request) = (self.supervisor_tasks(), request.clone());
                async move { client.list_case_tasks(request).await }
            })
            .await
            .context("ListCaseTasks")?
            .tasks;
        Ok(all
            .into_iter()
            .filter(|t| {
                let open = [common::TaskState::Pending as i32, common::TaskState::InProgress as i32];
                open.contains(&t.state) && !handled.contains(&t.task_id)
            })
            .collect())
    }

    async fn claim(&self, task: &tasks::Task, key: &impl Fn(&str) -> String) -> anyhow::Result<()> {
        let claim = tasks::ClaimTaskRequest {
            idempotency_key: key(&format!("claim-{}", task.task_id)),
            task_id: task.task_id.clone(),
            expected_version: 0,
        };
        self.call("ClaimTask", || {
            let (mut agent, claim) = (self.agent(&task.department), claim.clone());
            async move { agent.claim_task(claim).await }
        })
        .await
        .with_context(|| format!("ClaimTask {}", task.task_id))?;
        Ok(())
    }

    async fn claim_and_approve(&self, task: &tasks::Task, key: &impl Fn(&str) -> String) -> anyhow::Result<u64> {
        self.claim(task, key).await?;
        let approval = tasks::ApproveTaskRequest {
            idempotency_key: key(&format!("approve-{}", task.task_id)),
            task_id: task.task_id.clone(),
            expected_version: 0,
            result: Some(result_document(task)),
            comment: String::new(),
        };
        self.call("ApproveTask", || {
            let (mut agent, approval) = (self.agent(&task.department), approval.clone());
            async move { agent.approve_task(approval).await }
        })
        .await
        .with_context(|| format!("ApproveTask {}", task.task_id))?;
        Ok(2)
    }

    /// The final batch once issuance has prepared it.
    async fn final_batch(&self, case_id: &str) -> anyhow::Result<Option<u32>> {
        let request = issuance::GetIssuanceRequest { case_id: case_id.to_owned() };
        let found = self
            .call("GetIssuance", || {
                let (mut window, request) = (self.issuance(), request.clone());
                async move { window.get_issuance(request).await }
            })
            .await;
        match found {
            Ok(r) => Ok(r.issuance.and_then(|i| i.batches.iter().find(|b| b.final_batch).map(|b| b.batch_number))),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(None),
            Err(status) => Err(status).context("GetIssuance"),
        }
    }

    /// The window tells the mother and hands the results to her in person.
    async fn hand_out(&self, case_id: &str, batch: u32, key: &impl Fn(&str) -> String) -> anyhow::Result<u64> {
        let notify = issuance::NotifyPickupRequest {
            idempotency_key: key("notify"),
            case_id: case_id.to_owned(),
            batch_number: batch,
            channel: common::NotificationChannel::Sms as i32,
            pickup_location: "政务服务中心一楼综合窗口".into(),
            ..Default::default()
        };
        self.call("NotifyPickup", || {
            let (mut window, notify) = (self.issuance(), notify.clone());
            async move { window.notify_pickup(notify).await }
        })
        .await
        .context("NotifyPickup")?;
        let pickup = issuance::ConfirmPickupRequest {
            idempotency_key: key("pickup"),
            case_id: case_id.to_owned(),
            batch_number: batch,
            collector: Some(issuance::CollectorIdentity {
                kind: common::CollectorKind::Applicant as i32,
                name: "王丽".into(),
                id_number: MOTHER_ID.into(),
                power_of_attorney: None,
            }),
            ..Default::default()
        };
        let picked = self
            .call("ConfirmPickup", || {
                let (mut window, pickup) = (self.issuance(), pickup.clone());
                async move { window.confirm_pickup(pickup).await }
            })
            .await
            .context("ConfirmPickup")?;
        if !picked.case_closed {
            bail!("case {case_id} was handed out but not closed");
        }
        Ok(2)
    }
}

/// The replica (of `n`) the call numbered `turn` goes to: round-robin.
fn pick(turn: usize, n: usize) -> usize {
    turn % n.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_go_round_robin_over_the_replicas() {
        let picks: Vec<usize> = (0..5).map(|t| pick(t, 2)).collect();
        assert_eq!(picks, [0, 1, 0, 1, 0]);
        assert!((0..5).all(|t| pick(t, 1) == 0));
        assert_eq!(pick(7, 0), 0);
    }
}
