//! The staff console in a real browser: a case submitted through gRPC
//! appears on its page in headless Chromium, and advances there when the
//! departments approve their tasks. Takes a screenshot of the page
//! (`YICIBAN_UPDATE_SCREENSHOT=1` writes it to docs/console.png).
//!
//! Chromium is Debian's `chromium`; when /usr/bin/chromium is missing the
//! setup installs it (as root, with apt-get), and fails with the reason
//! when it cannot.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use yiciban_platform::Role;
use yiciban_proto::common::v1 as common;
use yiciban_proto::tracking::v1 as pb;
use yiciban_testkit::eventually;

use crate::joint_processing::{approve, case_tasks, submit};
use crate::stack::Stack;

const WAIT: Duration = Duration::from_secs(30);
const CHROMIUM: &str = "/usr/bin/chromium";

/// Makes sure /usr/bin/chromium exists, installing Debian's package if not.
fn ensure_chromium() -> PathBuf {
    let path = PathBuf::from(CHROMIUM);
    if path.exists() {
        return path;
    }
    let uid = Command::new("id").arg("-u").output().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    if uid.as_deref().ok() != Some("0") {
        panic!(
            "{CHROMIUM} is missing and the test does not run as root, so it cannot install it: \
             run `sudo apt-get install -y chromium` (Debian's package) and try again"
        );
    }
    let install = |update: bool| {
        if update {
            eprintln!("console test: running `apt-get update`");
            let _ = Command::new("apt-get").arg("update").status();
        }
        eprintln!("console test: {CHROMIUM} is missing; running `apt-get install -y chromium`");
        Command::new("apt-get")
            .args(["install", "-y", "chromium"])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .is_ok_and(|s| s.success())
    };
    if !install(false) && !install(true) {
        panic!("{CHROMIUM} is missing and `apt-get install -y chromium` failed; install Debian's chromium package");
    }
    assert!(path.exists(), "`apt-get install -y chromium` succeeded but {CHROMIUM} is still missing");
    eprintln!("console test: chromium installed");
    path
}

/// Chinese text in the screenshot needs a CJK font: installs Debian's small
/// `fonts-wqy-microhei` when none is present and the test runs as root;
/// otherwise only says so (the page's text, which the test reads, does not
/// depend on fonts).
fn ensure_cjk_font() {
    let fonts = Command::new("fc-list").arg(":lang=zh").output().map(|o| o.stdout).unwrap_or_default();
    if !fonts.is_empty() {
        return;
    }
    eprintln!("console test: no Chinese font; running `apt-get install -y fonts-wqy-microhei` for the screenshot");
    let ok = Command::new("apt-get")
        .args(["install", "-y", "fonts-wqy-microhei"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("console test: could not install a Chinese font; the screenshot will show boxes for Chinese text");
    }
}

/// A headless Chromium run with its own profile directory.
fn chromium(profile: &Path, args: &[&str]) -> String {
    let output = Command::new(CHROMIUM)
        .args(["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {CHROMIUM}: {e}"));
    assert!(
        output.status.success(),
        "chromium {args:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The DOM of `url` after Chromium loaded it.
async fn dump_dom(profile: &Path, url: &str) -> String {
    let (profile, url) = (profile.to_owned(), url.to_owned());
    tokio::time::timeout(
        Duration::from_secs(90),
        tokio::task::spawn_blocking(move || chromium(&profile, &["--dump-dom", &url])),
    )
    .await
    .expect("chromium did not finish within 90 s")
    .unwrap()
}

async fn timeline(stack: &Stack, case_id: &str) -> Option<pb::GetTimelineResponse> {
    stack
        .tracking(Role::Supervisor, "sup-1", None)
        .get_timeline(pb::GetTimelineRequest { case_id: case_id.into(), ..Default::default() })
        .await
        .ok()
        .map(|r| r.into_inner())
}

/// `in_joint_processing` for CASE_STATUS_IN_JOINT_PROCESSING.
fn status_name(status: i32) -> String {
    let name = common::CaseStatus::try_from(status).unwrap().as_str_name();
    name.trim_start_matches("CASE_STATUS_").to_lowercase()
}

#[tokio::test]
async fn a_case_submitted_through_grpc_appears_and_advances_on_the_console() {
    let started = std::time::Instant::now();
    ensure_chromium();
    ensure_cjk_font();
    let profile = std::env::temp_dir().join(format!("yiciban-console-chromium-{}", std::process::id()));
    let stack = Stack::start("2026-09-29T02:00:00Z").await;
    let case_id = submit(&stack, "console-1").await;
    let first = eventually("tracking has the case and its first tasks", WAIT, || async {
        let t = timeline(&stack, &case_id).await?;
        (t.entries.iter().filter(|e| e.event_type == "TaskCreated").count() >= 2).then_some(t)
    })
    .await;
    let summary = first.summary.unwrap();
    let token = stack.token(Role::Supervisor, "sup-1", None);
    let url = format!("{}/cases/{}?token={}", stack.console_url(), summary.case_number, token);

    // The case as submitted: its number, its status, its first lanes.
    let dom = dump_dom(&profile, &url).await;
    assert!(dom.contains(&summary.case_number), "the case number is on the page:\n{dom}");
    let status = status_name(summary.status);
    assert!(dom.contains(&format!("status-{status}")), "the status {status} is on the page:\n{dom}");
    assert!(dom.contains(r#"data-event="TaskCreated""#), "the timeline shows the tasks:\n{dom}");
    assert!(!dom.contains(r#"data-event="TaskApproved""#), "nothing approved yet");

    // The departments of the first round approve; a dependent step starts.
    let round: Vec<_> = case_tasks(&stack, &case_id)
        .await
        .into_iter()
        .filter(|t| t.state == common::TaskState::Pending as i32)
        .collect();
    assert!(!round.is_empty());
    for t in &round {
        approve(&stack, t).await;
    }
    let next = eventually("a dependent task and the approvals reach tracking", WAIT, || async {
        let next =
            case_tasks(&stack, &case_id).await.into_iter().find(|t| round.iter().all(|r| r.task_id != t.task_id))?;
        let t = timeline(&stack, &case_id).await?;
        let approved = t.entries.iter().filter(|e| e.event_type == "TaskApproved").count();
        let created = t.entries.iter().any(|e| e.event_type == "TaskCreated" && e.department == next.department);
        (approved >= round.len() && created).then_some(next)
    })
    .await;
    let dom = dump_dom(&profile, &url).await;
    assert!(dom.matches(r#"class="entry done c"#).count() >= round.len(), "approvals marked:\n{dom}");
    for t in &round {
        assert!(
            dom.contains(&format!(r#"data-event="TaskApproved" data-dept="{}""#, t.department)),
            "the approval of {} shows in its lane:\n{dom}",
            t.department
        );
    }
    assert!(
        dom.contains(&format!(r#"data-dept="{}""#, next.department)),
        "the next department {} has its lane:\n{dom}",
        next.department
    );

    // A screenshot of the case page with its lanes: into the profile
    // directory, or over the docs' picture with YICIBAN_UPDATE_SCREENSHOT=1
    // (so that running the tests changes no tracked file).
    let png = if std::env::var_os("YICIBAN_UPDATE_SCREENSHOT").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/console.png")
    } else {
        profile.join("console.png")
    };
    let (shot_profile, shot, shot_url) = (profile.clone(), png.clone(), url.clone());
    tokio::task::spawn_blocking(move || {
        chromium(
            &shot_profile,
            &["--hide-scrollbars", &format!("--screenshot={}", shot.display()), "--window-size=1400,900", &shot_url],
        )
    })
    .await
    .unwrap();
    let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
    assert!(size > 10_000, "the screenshot {} was written ({size} bytes)", png.display());
    eprintln!("console test: screenshot {} ({size} bytes)", png.display());
    let _ = std::fs::remove_dir_all(&profile);
    eprintln!("console test took {:.1} s", started.elapsed().as_secs_f64());
}
