//! `yiciban-bench --workbench` (`make bench-workbench`): the workbench's
//! pages with 10,000 cases in the read models. It starts the services and
//! the workbench in this process on a manual clock ([`stack`]), loads the
//! cases through the real command path in a mix of stages ([`load`]),
//! signs people in at the development issuer and requests the inbox, the
//! worklist, case pages and the overdue board over HTTP, beside the gRPC
//! calls behind each page and the read models' SQL, measured in the same
//! run ([`measure`]); [`report`] writes the figures. It measures; it never
//! passes or fails on a figure.

mod load;
mod measure;
mod report;
mod stack;

use std::path::PathBuf;

use anyhow::Context as _;
use yiciban_bench::driver::Driver;
use yiciban_bench::feed::Feed;
use yiciban_bench::procfs;
use yiciban_bench::stats::Summary;
use yiciban_testkit::{TestDb, TestNats};

use self::measure::{Browser, Grpc, Sql, timed};
use self::report::{Layers, Run, Setting};

pub use self::report::splice;

/// What the workbench benchmark is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Cases loaded into the read models.
    pub cases: u64,
    /// Cases driven at once while loading.
    pub load_concurrency: usize,
    /// Timed requests of each page at each concurrency.
    pub requests: u64,
    /// The concurrencies the pages are requested at.
    pub concurrencies: Vec<usize>,
    /// Where the read models' query plans are written.
    pub explain: Option<PathBuf>,
}

/// A Monday, 10:00 in Beijing: the clock the load starts at.
const START: &str = "2026-11-02T02:00:00Z";

/// Requests made before timing (connections, caches, the first token refresh).
const WARM_UP: u64 = 20;

/// Loads the cases, measures the pages, returns the report (between its markers).
pub async fn run(options: &Options) -> anyhow::Result<String> {
    let machine = procfs::machine();
    let db = TestDb::new(8).await;
    let nats = TestNats::new().await;
    eprintln!("==> database {} and NATS prefix {} (both removed at the end)", db.name, nats.subjects.prefix());
    let interrupted = yiciban_platform::runtime::shutdown_on_signal();
    let result = tokio::select! {
        result = measure_all(options, machine, &db, &nats) => result,
        _ = interrupted.cancelled() => Err(anyhow::anyhow!("interrupted; the database and stream are removed")),
    };
    drop(nats);
    drop(db);
    Ok(report::render(&result?))
}

async fn measure_all(options: &Options, machine: procfs::Machine, db: &TestDb, nats: &TestNats) -> anyhow::Result<Run> {
    let start = START.parse().context("the start instant")?;
    eprintln!("==> starting intake, routing, tasks, issuance, tracking and the workbench in this process");
    let stack = stack::Stack::start(db, nats, start).await?;
    let feed = Feed::start(&nats.client, &nats.subjects).await?;
    let driver = Driver::connect(
        stack.url("intake"),
        stack.url("tasks"),
        stack.url("issuance"),
        stack.issuer.clone(),
        feed,
        nats.subjects.prefix(),
    )
    .await?;
    eprintln!("==> loading {} cases, {} at a time", options.cases, options.load_concurrency);
    let loaded = load::load(&stack, &driver, &db.pool, options.cases, options.load_concurrency).await?;
    let setting = Setting::read(machine, &db.pool, options, loaded).await?;
    eprintln!("==> {}", setting.read_models_line());

    let sql =
        Sql::new(sqlx::postgres::PgPoolOptions::new().max_connections(16).connect_with(db.connect_options()).await?);
    let cases = measure::officer_cases(&db.pool).await?;
    anyhow::ensure!(!cases.is_empty(), "{} follows no case", measure::OFFICER);
    if let Some(path) = &options.explain {
        let plans = sql.explain(cases[cases.len() / 2]).await?;
        std::fs::write(path, plans).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("==> query plans written to {}", path.display());
    }
    let grpc = Grpc::connect(&stack).await?;
    let mut layers = Vec::new();
    for &c in &options.concurrencies {
        eprintln!("==> pages at concurrency {c}, {} requests each", options.requests);
        layers.extend(at_concurrency(&stack, &grpc, &sql, &cases, c, options.requests).await?);
    }
    Ok(Run { setting, layers })
}

/// Each page and its floors, `c` at a time.
async fn at_concurrency(
    stack: &stack::Stack,
    grpc: &Grpc,
    sql: &Sql,
    cases: &[uuid::Uuid],
    c: usize,
    requests: u64,
) -> anyhow::Result<Vec<Layers>> {
    let base = &stack.workbench_url;
    let people = |username: &'static str| async move {
        let mut browsers = Vec::new();
        for _ in 0..c {
            browsers.push(Browser::signed_in(base, username).await?);
        }
        Ok::<_, anyhow::Error>(browsers)
    };
    let agents = people("agent-health-maternity-1").await?;
    let officers = people(measure::OFFICER).await?;
    let supervisors = people("sup-001").await?;
    let grpcs = vec![grpc.clone(); c];
    let sqls = vec![sql.clone(); c];
    let case_at = |i: u64| cases[(i as usize * 7919) % cases.len()];
    let time = |what: &'static str| async move { eprintln!("    {what}") };

    let mut out = Vec::new();
    // The server's floor: a static file, then a page that reads only the session.
    time("stylesheet, home").await;
    let stylesheet = pages(&supervisors, requests, |b, _| async move { b.page("/assets/workbench.css").await }).await?;
    let home = pages(&supervisors, requests, |b, _| async move { b.page("/").await }).await?;
    out.push(Layers::floor("stylesheet (static, no session)", c, stylesheet));
    out.push(Layers::floor("home of a supervisor (the session read, no service call)", c, home));

    time("inbox").await;
    let page = pages(&agents, requests, |b, _| async move { b.page("/inbox").await }).await?;
    let g = calls(&grpcs, requests, |g, _| async move { g.inbox().await }).await?;
    let s = calls(&sqls, requests, |s, _| async move { s.inbox().await }).await?;
    out.push(Layers::page("inbox (`/inbox`, an agent of health-maternity)", c, page, g, s));

    time("worklist").await;
    let page = pages(&officers, requests, |b, _| async move { b.page("/worklist").await }).await?;
    let g = calls(&grpcs, requests, |g, _| async move { g.worklist().await }).await?;
    let s = calls(&sqls, requests, |s, _| async move { s.worklist().await }).await?;
    out.push(Layers::page("worklist (`/worklist`, officer-001)", c, page, g, s));

    time("case pages").await;
    let page =
        pages(&officers, requests, |b, i| async move { b.page(&format!("/cases/{}", case_at(i))).await }).await?;
    let g = calls(&grpcs, requests, |g, i| async move { g.case(&case_at(i).to_string()).await }).await?;
    let s = calls(&sqls, requests, |s, i| async move { s.case(case_at(i)).await }).await?;
    out.push(Layers::page("case page (`/cases/{id}`, officer-001's cases in turn)", c, page, g, s));

    time("overdue board").await;
    let page = pages(&supervisors, requests, |b, _| async move { b.page("/overdue").await }).await?;
    let g = calls(&grpcs, requests, |g, _| async move { g.overdue().await }).await?;
    let s = calls(&sqls, requests, |s, _| async move { s.overdue().await }).await?;
    out.push(Layers::page("overdue board (`/overdue`, sup-001)", c, page, g, s));
    Ok(out)
}

/// `requests` pages after a warm-up; their latencies.
async fn pages<F, Fut>(browsers: &[Browser], requests: u64, get: F) -> anyhow::Result<Summary>
where
    F: Fn(Browser, u64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<usize>>,
{
    let get = &get;
    timed(browsers, WARM_UP, |b, i| async move { get(b, i + requests).await.map(drop) }).await?;
    Ok(Summary::of(&timed(browsers, requests, |b, i| async move { get(b, i).await.map(drop) }).await?))
}

/// `requests` calls after a warm-up; their latencies.
async fn calls<W, F, Fut>(workers: &[W], requests: u64, call: F) -> anyhow::Result<Summary>
where
    W: Clone,
    F: Fn(W, u64) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let call = &call;
    timed(workers, WARM_UP, |w, i| async move { call(w, i + requests).await }).await?;
    Ok(Summary::of(&timed(workers, requests, call).await?))
}
