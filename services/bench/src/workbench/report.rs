//! The workbench benchmark's figures as a section of `docs/BENCHMARKS.md`,
//! between markers of its own (the whole-system run keeps its own).

use std::fmt::Write as _;

use sqlx::PgPool;
use yiciban_bench::procfs::Machine;
use yiciban_bench::stats::Summary;

use super::Options;
use super::load::Loaded;

/// Marks the generated part of the workbench section.
pub const BEGIN: &str = "<!-- bench-workbench:begin (written by `make bench-workbench`; edit outside the markers) -->";
pub const END: &str = "<!-- bench-workbench:end -->";

/// The setting of the run and what the read models held.
#[derive(Debug, Clone)]
pub struct Setting {
    pub date: String,
    pub machine: Machine,
    pub postgres: String,
    pub loaded: Loaded,
    pub load_concurrency: usize,
    pub requests: u64,
    /// Cases by status in tracking's case views.
    pub statuses: Vec<(String, i64)>,
    /// Open tasks by warning (0 none, 1 yellow, 2 red) in tracking.
    pub warnings: Vec<(i16, i64)>,
    /// Cases by officer.
    pub officers: Vec<(String, i64)>,
    /// Rows of the read models: (table, rows).
    pub rows: Vec<(&'static str, i64)>,
}

const ROWS: [&str; 5] =
    ["tracking.case_views", "tracking.task_rows", "tracking.timeline", "tasks.task_index", "workbench.sessions"];

impl Setting {
    /// Reads what the load left in the read models.
    pub async fn read(machine: Machine, pool: &PgPool, options: &Options, loaded: Loaded) -> anyhow::Result<Setting> {
        let postgres: String = sqlx::query_scalar("SELECT current_setting('server_version')").fetch_one(pool).await?;
        let statuses = sqlx::query_as("SELECT status, count(*) FROM tracking.case_views GROUP BY 1 ORDER BY 2 DESC")
            .fetch_all(pool)
            .await?;
        let warnings =
            sqlx::query_as("SELECT warning, count(*) FROM tracking.task_rows WHERE open GROUP BY 1 ORDER BY 1")
                .fetch_all(pool)
                .await?;
        let officers =
            sqlx::query_as("SELECT coalesce(officer_id, '-'), count(*) FROM tracking.case_views GROUP BY 1 ORDER BY 1")
                .fetch_all(pool)
                .await?;
        let rows = vec![
            (ROWS[0], sqlx::query_scalar("SELECT count(*) FROM tracking.case_views").fetch_one(pool).await?),
            (ROWS[1], sqlx::query_scalar("SELECT count(*) FROM tracking.task_rows").fetch_one(pool).await?),
            (ROWS[2], sqlx::query_scalar("SELECT count(*) FROM tracking.timeline").fetch_one(pool).await?),
            (ROWS[3], sqlx::query_scalar("SELECT count(*) FROM tasks.task_index").fetch_one(pool).await?),
        ];
        Ok(Setting {
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            machine,
            postgres,
            loaded,
            load_concurrency: options.load_concurrency,
            requests: options.requests,
            statuses,
            warnings,
            officers,
            rows,
        })
    }

    /// One line of what the read models hold.
    pub fn read_models_line(&self) -> String {
        let rows: Vec<String> = self.rows.iter().map(|(t, n)| format!("{t} {n}")).collect();
        format!("read models: {}", rows.join(", "))
    }
}

/// One measured thing at one concurrency: the page, and the layers under it.
#[derive(Debug, Clone)]
pub struct Layers {
    pub name: &'static str,
    pub concurrency: usize,
    pub page: Summary,
    pub grpc: Option<Summary>,
    pub sql: Option<Summary>,
}

impl Layers {
    pub fn page(name: &'static str, concurrency: usize, page: Summary, grpc: Summary, sql: Summary) -> Layers {
        Layers { name, concurrency, page, grpc: Some(grpc), sql: Some(sql) }
    }

    /// A request of the server with no service behind it.
    pub fn floor(name: &'static str, concurrency: usize, page: Summary) -> Layers {
        Layers { name, concurrency, page, grpc: None, sql: None }
    }
}

/// Everything measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub setting: Setting,
    pub layers: Vec<Layers>,
}

fn p50_p95(s: Option<&Summary>) -> String {
    s.map_or_else(|| "–".to_owned(), |s| format!("{:.1} / {:.1}", s.p50, s.p95))
}

fn warning_name(level: i16) -> &'static str {
    match level {
        0 => "on time",
        1 => "yellow (黄牌)",
        _ => "red (红牌)",
    }
}

/// Renders the figures (between the markers).
pub fn render(run: &Run) -> String {
    let s = &run.setting;
    let l = &s.loaded;
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "{BEGIN}");
    let _ = writeln!(w, "### Latest workbench run: {}\n", s.date);
    let _ = writeln!(
        w,
        "Machine: {} × {} ({} GiB RAM), {}, Linux {}; Postgres {}. The services, the workbench and the load \
         generator in one process (`yiciban-bench --workbench`), Postgres and nats-server beside it.\n",
        s.machine.cores,
        s.machine.cpu,
        s.machine.memory_gib.round(),
        s.machine.os,
        s.machine.kernel,
        s.postgres
    );
    let loaded: u64 = l.batches.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        w,
        "**Load**: {loaded} `newborn-birth` cases through the command path ({} at a time; {} commands, {} events, \
         {} failed) in {:.0} s:\n",
        s.load_concurrency, l.commands, l.events, l.failed, l.seconds
    );
    let _ = writeln!(w, "| Cases | count |\n|---|---|");
    for (what, n) in &l.batches {
        let _ = writeln!(w, "| {what} | {n} |");
    }
    let _ = writeln!(w);
    let statuses: Vec<String> = s.statuses.iter().map(|(st, n)| format!("{st} {n}")).collect();
    let warnings: Vec<String> = s.warnings.iter().map(|(lv, n)| format!("{} {n}", warning_name(*lv))).collect();
    let officers: Vec<String> = s.officers.iter().map(|(o, n)| format!("{o} {n}")).collect();
    let rows: Vec<String> = s.rows.iter().map(|(t, n)| format!("`{t}` {n}")).collect();
    let _ = writeln!(w, "Read models after the load: cases by status: {}.", statuses.join(", "));
    let _ = writeln!(w, "Open tasks by warning: {}.", warnings.join(", "));
    let _ = writeln!(w, "Cases by officer: {}.", officers.join(", "));
    let _ = writeln!(w, "Rows: {}.\n", rows.join(", "));
    let _ = writeln!(
        w,
        "**Pages**: {} timed requests of each after 20 untimed, each worker a browser with a session of its own \
         (signed in at the development issuer); the gRPC calls behind each page made directly with the same \
         role's token, and the read models' SQL behind them on a pool of the benchmark's, at the same \
         concurrency in the same run. Milliseconds.\n",
        s.requests
    );
    let _ =
        writeln!(w, "| Page | at once | p50 | p95 | p99 | max | gRPC behind it p50 / p95 | SQL behind it p50 / p95 |");
    let _ = writeln!(w, "|---|---|---|---|---|---|---|---|");
    for x in &run.layers {
        let _ = writeln!(
            w,
            "| {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
            x.name,
            x.concurrency,
            x.page.p50,
            x.page.p95,
            x.page.p99,
            x.page.max,
            p50_p95(x.grpc.as_ref()),
            p50_p95(x.sql.as_ref())
        );
    }
    let _ = writeln!(w);
    let worst = run.layers.iter().filter(|x| x.grpc.is_some()).map(|x| x.page.p95).fold(0.0_f64, f64::max);
    let _ = writeln!(
        w,
        "Target (issue 15, item 8): every page p95 ≤ 100 ms with 10,000 cases; the slowest page's p95 here: \
         {worst:.1} ms ({}).",
        if worst <= 100.0 { "met" } else { "**not met**" }
    );
    let _ = writeln!(w, "{END}");
    out
}

/// `document` with the generated section replaced (or appended).
pub fn splice(document: &str, generated: &str) -> String {
    yiciban_bench::markdown::splice(document, BEGIN, END, generated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_section_replaces_only_its_own_markers() {
        let doc = format!("# B\n<!-- bench:begin -->\nx\n<!-- bench:end -->\n{BEGIN}\nold\n{END}\ntail\n");
        let new = splice(&doc, &format!("{BEGIN}\nnew\n{END}\n"));
        assert_eq!(new, format!("# B\n<!-- bench:begin -->\nx\n<!-- bench:end -->\n{BEGIN}\nnew\n{END}\ntail\n"));
    }
}
