//! Argument parsing, supplement items, paging and the task tables.

use super::*;
use crate::Cli;
use clap::Parser as _;

fn parse(args: &[&str]) -> Result<TaskCommand, clap::Error> {
    let cli = Cli::try_parse_from(std::iter::once("casectl").chain(args.iter().copied()))?;
    match cli.command {
        crate::Command::Tasks(c) => Ok(c),
        other => panic!("not a task command: {other:?}"),
    }
}

fn kind_of(args: &[&str]) -> clap::error::ErrorKind {
    parse(args).unwrap_err().kind()
}

#[test]
fn the_inbox_takes_every_filter() {
    let TaskCommand::Inbox(a) = parse(&[
        "inbox",
        "--department",
        "samr",
        "--state",
        "pending",
        "--state",
        "in-progress,waiting",
        "--due-before",
        "2026-10-09",
        "--package",
        "open-restaurant",
        "--assignee",
        "agent-samr-2",
        "--warning",
        "red",
        "--limit",
        "700",
    ])
    .unwrap() else {
        panic!()
    };
    assert_eq!(a.department.as_deref(), Some("samr"));
    assert_eq!(a.states, [StateArg::Pending, StateArg::InProgress, StateArg::Waiting]);
    assert_eq!(a.due_before, Some(common::Date { year: 2026, month: 10, day: 9 }));
    assert_eq!(a.package.as_deref(), Some("open-restaurant"));
    assert_eq!(a.assignee.as_deref(), Some("agent-samr-2"));
    assert_eq!(a.warning, Some(WarningArg::Red));
    assert_eq!(a.limit, 700);
    assert!(!a.mine);
}

#[test]
fn the_inbox_defaults_to_fifty_open_tasks_of_anyone() {
    let TaskCommand::Inbox(a) = parse(&["inbox"]).unwrap() else { panic!() };
    assert!(a.states.is_empty() && a.assignee.is_none() && !a.mine && a.warning.is_none());
    assert_eq!(a.limit, 50);
}

#[test]
fn mine_and_assignee_exclude_each_other() {
    assert_eq!(kind_of(&["inbox", "--mine", "--assignee", "x"]), clap::error::ErrorKind::ArgumentConflict);
    let TaskCommand::Inbox(a) = parse(&["inbox", "--mine"]).unwrap() else { panic!() };
    assert!(a.mine);
}

#[test]
fn the_inbox_refuses_an_unknown_state_a_bad_date_and_a_zero_limit() {
    assert_eq!(kind_of(&["inbox", "--state", "open"]), clap::error::ErrorKind::InvalidValue);
    let e = parse(&["inbox", "--due-before", "9.10.2026"]).unwrap_err().to_string();
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    assert_eq!(kind_of(&["inbox", "--limit", "0"]), clap::error::ErrorKind::ValueValidation);
}

#[test]
fn task_and_tasks_take_an_id() {
    assert!(matches!(parse(&["task", "t-1"]).unwrap(), TaskCommand::Task { task_id } if task_id == "t-1"));
    assert!(matches!(parse(&["tasks", "c-1"]).unwrap(), TaskCommand::Tasks { case_id } if case_id == "c-1"));
    assert_eq!(kind_of(&["task"]), clap::error::ErrorKind::MissingRequiredArgument);
}

#[test]
fn a_command_has_a_fresh_key_and_no_version_check_unless_given() {
    let TaskCommand::Claim(a) = parse(&["claim", "t-1"]).unwrap() else { panic!() };
    assert_eq!((a.options.idempotency_key.as_deref(), a.options.expected_version), (None, 0));
    assert_ne!(a.options.key(), a.options.key());
    assert!(uuid::Uuid::parse_str(&a.options.key()).is_ok());
    let TaskCommand::Claim(a) =
        parse(&["claim", "t-1", "--idempotency-key", "k-7", "--expected-version", "3"]).unwrap()
    else {
        panic!()
    };
    assert_eq!((a.options.key().as_str(), a.options.expected_version), ("k-7", 3));
}

#[test]
fn approve_takes_the_result_document() {
    let TaskCommand::Approve(a) = parse(&[
        "approve",
        "t-1",
        "--kind",
        "licence",
        "--name",
        "食品经营许可证",
        "--number",
        "JY11502030000123",
        "--valid-from",
        "2026-10-09",
        "--valid-until",
        "2031-10-08",
        "--physical",
        "--comment",
        "ok",
    ])
    .unwrap() else {
        panic!()
    };
    assert_eq!(a.kind, KindArg::Licence);
    assert_eq!((a.name.as_str(), a.number.as_str(), a.comment.as_str()), ("食品经营许可证", "JY11502030000123", "ok"));
    assert_eq!(a.valid_until, Some(common::Date { year: 2031, month: 10, day: 8 }));
    assert!(a.physical);
    let TaskCommand::Approve(a) =
        parse(&["approve", "t-1", "--kind", "certificate", "--name", "n", "--number", "1"]).unwrap()
    else {
        panic!()
    };
    assert!(a.valid_from.is_none() && a.valid_until.is_none() && !a.physical);
}

#[test]
fn approve_needs_kind_name_and_number() {
    assert_eq!(
        kind_of(&["approve", "t-1", "--name", "n", "--number", "1"]),
        clap::error::ErrorKind::MissingRequiredArgument
    );
    assert_eq!(
        kind_of(&["approve", "t-1", "--kind", "permit", "--name", "n", "--number", "1"]),
        clap::error::ErrorKind::InvalidValue
    );
}

#[test]
fn deny_needs_reason_and_legal_basis() {
    let TaskCommand::Deny(a) =
        parse(&["deny", "t-1", "--reason", "场所不符", "--legal-basis", "《食品经营许可管理办法》第十条"]).unwrap()
    else {
        panic!()
    };
    assert_eq!((a.reason.as_str(), a.remedy.as_str()), ("场所不符", ""));
    assert_eq!(kind_of(&["deny", "t-1", "--reason", "r"]), clap::error::ErrorKind::MissingRequiredArgument);
}

#[test]
fn return_takes_repeated_items_and_a_due_date() {
    let TaskCommand::Return(a) = parse(&[
        "return",
        "t-1",
        "--item",
        "material_id=m_site_layout;requirement=平面图缺少尺寸",
        "--item",
        "field=form.shop_area;requirement=面积与平面图不符",
        "--due-by",
        "2026-10-20",
    ])
    .unwrap() else {
        panic!()
    };
    assert_eq!(a.items.len(), 2);
    assert_eq!(a.items[1].field_path, "form.shop_area");
    assert_eq!(a.due_by, Some(common::Date { year: 2026, month: 10, day: 20 }));
    assert_eq!(kind_of(&["return", "t-1"]), clap::error::ErrorKind::MissingRequiredArgument);
    let e = parse(&["return", "t-1", "--item", "material_id=m"]).unwrap_err().to_string();
    assert!(e.contains("requirement"), "{e}");
}

#[test]
fn resume_and_transfer_take_their_arguments() {
    let TaskCommand::Resume(a) = parse(&["resume", "t-1", "--request", "r-1"]).unwrap() else { panic!() };
    assert_eq!(a.request, "r-1");
    let TaskCommand::Transfer(a) = parse(&["transfer", "t-1", "--to", "agent-samr-2", "--reason", "休假"]).unwrap()
    else {
        panic!()
    };
    assert_eq!((a.to.as_str(), a.reason.as_str()), ("agent-samr-2", "休假"));
    assert_eq!(kind_of(&["transfer", "t-1", "--to", "x"]), clap::error::ErrorKind::MissingRequiredArgument);
}

#[test]
fn a_post_check_passes_or_fails_and_revokes_only_a_failure_with_a_legal_basis() {
    let TaskCommand::PostCheck(a) = parse(&["post-check", "t-1", "--passed"]).unwrap() else { panic!() };
    assert!(a.passed && !a.failed && !a.revoke && a.finding.is_none());
    let TaskCommand::PostCheck(a) = parse(&[
        "post-check",
        "t-1",
        "--failed",
        "--finding",
        "场所面积不实",
        "--revoke",
        "--legal-basis",
        "《行政许可法》第六十九条",
        "--material",
        "m_site",
    ])
    .unwrap() else {
        panic!()
    };
    assert!(a.failed && a.revoke);
    assert_eq!(a.materials, ["m_site"]);
    use clap::error::ErrorKind as K;
    assert_eq!(kind_of(&["post-check", "t-1"]), K::MissingRequiredArgument);
    assert_eq!(kind_of(&["post-check", "t-1", "--passed", "--failed", "--finding", "f"]), K::ArgumentConflict);
    assert_eq!(kind_of(&["post-check", "t-1", "--failed"]), K::MissingRequiredArgument);
    assert_eq!(kind_of(&["post-check", "t-1", "--failed", "--finding", "f", "--revoke"]), K::MissingRequiredArgument);
    assert_eq!(kind_of(&["post-check", "t-1", "--passed", "--revoke", "--legal-basis", "l"]), K::ArgumentConflict);
}

#[test]
fn a_supplement_item_names_a_material_or_a_field_and_the_requirement() {
    let i = parse_supplement_item("material_id=m_birth_cert;requirement=出生医学证明复印件不清晰").unwrap();
    assert_eq!((i.material_id.as_str(), i.field_path.as_str()), ("m_birth_cert", ""));
    assert_eq!(i.requirement, "出生医学证明复印件不清晰");
    let i = parse_supplement_item("requirement=姓名与户口簿不一致; field=newborn_name").unwrap();
    assert_eq!(i.field_path, "form.newborn_name");
    let i = parse_supplement_item("material=m_a;field_path=form.x;requirement=r").unwrap();
    assert_eq!((i.material_id.as_str(), i.field_path.as_str()), ("m_a", "form.x"));
}

#[test]
fn a_semicolon_inside_the_requirement_stays_in_it() {
    let i = parse_supplement_item("material_id=m;requirement=a; b;c=d").unwrap();
    assert_eq!(i.requirement, "a; b;c=d");
}

#[test]
fn a_malformed_supplement_item_is_refused_with_what_is_wrong() {
    let cases = [
        ("material_id=m", "requirement=TEXT is missing"),
        ("requirement=r", "material_id=ID and/or field"),
        ("material_id=m;material_id=n;requirement=r", "given twice"),
        ("material_id=;requirement=r", "material_id is empty"),
        ("colour=red;requirement=r", "unknown key \"colour\""),
        ("just text", "not key=value"),
        ("field=form.;requirement=r", "field needs a form key"),
    ];
    for (spec, expected) in cases {
        let e = parse_supplement_item(spec).unwrap_err();
        assert!(e.contains(expected), "{spec}: {e}");
    }
}

fn task(id: &str, due: Option<(i32, i32, i32)>, warning: common::WarningLevel) -> pb::Task {
    pb::Task {
        task_id: id.into(),
        case_number: "YCB-20261009-0001".into(),
        department: "samr".into(),
        item_code: "DEMO-RS-02".into(),
        item_name: "食品经营许可".into(),
        state: common::TaskState::InProgress as i32,
        assignee: "agent-samr-1".into(),
        due_by: due.map(|(year, month, day)| common::Date { year, month, day }),
        warning: warning as i32,
        ..Default::default()
    }
}

/// A fake inbox of `total` tasks served in pages of at most `max_page`;
/// records the page sizes asked for.
fn fake_inbox(
    total: u32,
    max_page: u32,
    asked: &std::cell::RefCell<Vec<u32>>,
) -> impl FnMut(u32, String) -> std::future::Ready<anyhow::Result<pb::ListInboxResponse>> + '_ {
    move |page_size, token| {
        asked.borrow_mut().push(page_size);
        let start: u32 = if token.is_empty() { 0 } else { token.parse().unwrap() };
        let end = (start + page_size.min(max_page)).min(total);
        std::future::ready(Ok(pb::ListInboxResponse {
            tasks: (start..end).map(|i| pb::Task { task_id: i.to_string(), ..Default::default() }).collect(),
            next_page_token: if end < total { end.to_string() } else { String::new() },
            total_count: total,
        }))
    }
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
}

#[test]
fn a_limit_beyond_one_page_fetches_the_following_pages() {
    let asked = std::cell::RefCell::new(Vec::new());
    let (tasks, total) = block_on(collect_pages(1200, fake_inbox(1300, 500, &asked))).unwrap();
    assert_eq!((tasks.len(), total), (1200, 1300));
    assert_eq!(tasks[1199].task_id, "1199");
    assert_eq!(*asked.borrow(), [500, 500, 200]);
}

#[test]
fn pages_stop_when_the_inbox_runs_out_or_the_limit_is_reached() {
    let asked = std::cell::RefCell::new(Vec::new());
    let (tasks, total) = block_on(collect_pages(700, fake_inbox(620, 500, &asked))).unwrap();
    assert_eq!((tasks.len(), total), (620, 620));
    assert_eq!(*asked.borrow(), [500, 200]);
    asked.borrow_mut().clear();
    // A server returning smaller pages than asked is followed too.
    let (tasks, _) = block_on(collect_pages(50, fake_inbox(73, 20, &asked))).unwrap();
    assert_eq!(tasks.len(), 50);
    assert_eq!(*asked.borrow(), [50, 30, 10]);
}

#[test]
fn the_inbox_is_sorted_by_due_date_keeping_the_server_order_for_ties() {
    let mut tasks = vec![
        task("c", None, common::WarningLevel::Unspecified),
        task("b", Some((2026, 10, 9)), common::WarningLevel::Yellow),
        task("a", Some((2026, 9, 30)), common::WarningLevel::Red),
        task("d", Some((2026, 10, 9)), common::WarningLevel::Yellow),
    ];
    by_urgency(&mut tasks);
    let ids: Vec<&str> = tasks.iter().map(|t| t.task_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "d", "c"]);
}

#[test]
fn the_task_table_prints_full_ids_and_warning_marks() {
    let id = "0192f0c4-1b2a-7cde-8f00-1234567890ab";
    let mut red = task(id, Some((2026, 9, 30)), common::WarningLevel::Red);
    red.escalated = true;
    let mut pending = task("t-2", None, common::WarningLevel::Unspecified);
    pending.state = common::TaskState::Pending as i32;
    pending.assignee.clear();
    let text = task_table(&[red, pending], false);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("TASK ID") && lines[0].ends_with("ITEM"), "{}", lines[0]);
    assert!(lines[1].starts_with(id), "{}", lines[1]);
    assert!(lines[1].contains("in-progress") && lines[1].contains("2026-09-30"), "{}", lines[1]);
    assert!(lines[1].contains("🔴 red, escalated") && lines[1].ends_with("DEMO-RS-02 食品经营许可"));
    assert!(lines[2].contains("pending") && lines[2].contains("  -  "), "{}", lines[2]);
    // The ITEM column starts at the same display column on every line.
    let col = |l: &str| crate::text::display_width(&l[..l.find("DEMO").or_else(|| l.find("ITEM")).unwrap()]);
    assert_eq!(col(lines[0]), col(lines[1]));
    assert_eq!(col(lines[1]), col(lines[2]));
    assert!(task_table(&[], true).starts_with("TASK ID  CASE NUMBER  DEPT  STATE"));
}

#[test]
fn warning_marks_are_coloured_dots_with_words() {
    assert_eq!(warning_mark(common::WarningLevel::Yellow, false), "🟡 yellow");
    assert_eq!(warning_mark(common::WarningLevel::Red, true), "🔴 red, escalated");
    assert_eq!(warning_mark(common::WarningLevel::Unspecified, false), "");
}

#[test]
fn the_footer_counts_shown_of_total() {
    assert_eq!(footer(50, 73), "50 of 73 tasks");
    assert_eq!(footer(1, 1), "1 of 1 task");
    assert_eq!(footer(0, 0), "0 of 0 tasks");
}

#[test]
fn a_task_in_detail_shows_its_supplement_result_and_commitments() {
    let mut t = task("t-1", Some((2026, 10, 9)), common::WarningLevel::Yellow);
    t.state = common::TaskState::Approved as i32;
    t.supplement_request_id = "r-1".into();
    t.supplement_items = vec![common::SupplementItem {
        material_id: "m_a".into(),
        field_path: String::new(),
        requirement: "不清晰".into(),
    }];
    t.result = Some(common::ResultDocument {
        kind: common::ResultDocumentKind::Licence as i32,
        name: "食品经营许可证".into(),
        number: "JY1".into(),
        issuing_department: "samr".into(),
        physical: true,
        ..Default::default()
    });
    t.commitments = vec![common::Commitment {
        material_id: "m_site".into(),
        material_name: "场所证明".into(),
        commitment_text: "属实".into(),
        post_check_department: "samr".into(),
        post_check_by: Some(common::Date { year: 2026, month: 11, day: 30 }),
    }];
    t.post_check = pb::PostCheckState::Pending as i32;
    let text = detail(&t);
    for expected in [
        "state         approved 准予",
        "warning       🟡 yellow; yellow on -",
        "supplement    request r-1, due -",
        "  item        m_a: 不清晰",
        "result        licence 食品经营许可证 no. JY1 (samr, no expiry, paper)",
        "commitment    m_site 场所证明 — post-check by 2026-11-30 (samr): 属实",
        "post-check    pending",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}
