//! `casectl plan | confirm-denial`: a case's routing plan (联办) and the lead
//! department's confirmation of a denial, over the routing service
//! (`--routing-addr`).

use anyhow::Context as _;
use clap::{Args, Subcommand};
use yiciban_proto::common::v1 as common;
use yiciban_proto::routing::v1 as pb;
use yiciban_proto::routing::v1::routing_service_client::RoutingServiceClient;

use crate::connect::{CommandOptions, Connection, explain, explain_command};
use crate::tasks::result_line;
use crate::text::{self, date, or_dash, timestamp};

#[derive(Debug, Subcommand)]
pub enum RoutingCommand {
    /// A case's routing plan: every step, its department and progress.
    Plan {
        /// Id of the case (UUID).
        case_id: String,
    },
    /// As the lead department, confirm the denial of a case after a step was denied.
    ConfirmDenial(ConfirmDenialArgs),
}

#[derive(Debug, Args)]
pub struct ConfirmDenialArgs {
    /// Id of the case (UUID).
    case_id: String,
    /// The statement to the applicant, including the right to review or litigation (复议、诉讼).
    #[arg(long)]
    explanation: String,
    #[command(flatten)]
    options: CommandOptions,
}

pub async fn run(conn: &Connection, command: RoutingCommand) -> anyhow::Result<()> {
    let mut client = RoutingServiceClient::new(conn.routing_channel().await?);
    match command {
        RoutingCommand::Plan { case_id } => {
            let plan = client
                .get_plan(pb::GetPlanRequest { case_id })
                .await
                .map_err(explain)?
                .into_inner()
                .plan
                .context("the routing service sent no plan")?;
            print!("{}", plan_text(&plan));
        }
        RoutingCommand::ConfirmDenial(a) => {
            let key = a.options.key();
            let r = client
                .confirm_denial(pb::ConfirmDenialRequest {
                    idempotency_key: key.clone(),
                    case_id: a.case_id.clone(),
                    expected_version: a.options.expected_version,
                    explanation: a.explanation,
                })
                .await
                .map_err(|s| explain_command(s, &key))?
                .into_inner();
            println!("case {} decided {} (version {})", a.case_id, outcome_name(r.outcome()), r.version);
        }
    }
    Ok(())
}

fn outcome_name(outcome: common::CaseOutcome) -> &'static str {
    match outcome {
        common::CaseOutcome::Unspecified => "open",
        common::CaseOutcome::Approved => "approved 准予",
        common::CaseOutcome::Denied => "denied 不予许可",
    }
}

fn step_state(s: &pb::PlanStep) -> &'static str {
    match s.state() {
        pb::StepState::Unspecified => "-",
        pb::StepState::Waiting => "waiting",
        pb::StepState::Dispatched if s.waiting_for_supplement => "supplement",
        pb::StepState::Dispatched => "dispatched",
        pb::StepState::Approved => "approved",
        pb::StepState::Denied => "denied",
        pb::StepState::Cancelled => "cancelled",
    }
}

/// The plan: a header, the steps as a table, then each step's result or
/// denial.
fn plan_text(p: &pb::Plan) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<14}{value}\n"));
    line("case", &format!("{} ({})", p.case_number, p.case_id));
    line("package", &format!("{}, lead department {}", p.package_id, p.lead_department));
    line(
        "clock",
        &format!(
            "{} of {} working days used, promised by {}, {}",
            p.working_days_used,
            p.promised_working_days,
            date(p.promised_by.as_ref()),
            if p.clock_stopped { "stopped (waiting for a supplement)" } else { "running" }
        ),
    );
    let mut outcome = outcome_name(p.outcome()).to_owned();
    if p.outcome() != common::CaseOutcome::Unspecified {
        outcome.push_str(&format!(" at {}", timestamp(p.decided_at.as_ref())));
    }
    if p.denial_pending_confirmation {
        outcome.push_str("; a denial awaits the lead department's confirm-denial");
    }
    if p.handed_to_issuance {
        outcome.push_str("; handed to issuance");
    }
    line("outcome", &outcome);
    line("version", &p.version.to_string());
    out.push('\n');
    let rows: Vec<Vec<String>> = p
        .steps
        .iter()
        .map(|s| {
            vec![
                s.step_id.clone(),
                s.department.clone(),
                if s.depends_on.is_empty() { "-".into() } else { s.depends_on.join(",") },
                step_state(s).into(),
                s.promised_working_days.to_string(),
                or_dash(&s.task_id).into(),
                format!("{} {}", s.item_code, s.item_name),
            ]
        })
        .collect();
    out.push_str(&text::table(&["STEP", "DEPT", "DEPENDS ON", "STATE", "DAYS", "TASK ID", "ITEM"], &rows));
    for s in &p.steps {
        if let Some(r) = &s.result {
            out.push_str(&format!("{}: {}\n", s.step_id, result_line(r)));
        }
        if !s.denial_reason.is_empty() {
            out.push_str(&format!(
                "{}: denied — {} ({})\n",
                s.step_id,
                s.denial_reason,
                or_dash(&s.denial_legal_basis)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> Result<RoutingCommand, clap::Error> {
        let cli = Cli::try_parse_from(std::iter::once("casectl").chain(args.iter().copied()))?;
        match cli.command {
            crate::Command::Routing(c) => Ok(c),
            other => panic!("not a routing command: {other:?}"),
        }
    }

    #[test]
    fn plan_takes_a_case_id() {
        assert!(matches!(parse(&["plan", "c-1"]).unwrap(), RoutingCommand::Plan { case_id } if case_id == "c-1"));
        assert_eq!(parse(&["plan"]).unwrap_err().kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }

    #[test]
    fn confirm_denial_needs_the_explanation() {
        let RoutingCommand::ConfirmDenial(a) =
            parse(&["confirm-denial", "c-1", "--explanation", "不予许可；可申请复议", "--expected-version", "7"])
                .unwrap()
        else {
            panic!()
        };
        assert_eq!((a.case_id.as_str(), a.explanation.as_str()), ("c-1", "不予许可；可申请复议"));
        assert_eq!(a.options.expected_version, 7);
        assert_eq!(
            parse(&["confirm-denial", "c-1"]).unwrap_err().kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }

    #[test]
    fn the_plan_shows_steps_with_dependencies_tasks_and_outcomes() {
        let plan = pb::Plan {
            case_id: "c-1".into(),
            case_number: "YCB-20261009-0001".into(),
            package_id: "open-restaurant".into(),
            lead_department: "samr".into(),
            promised_working_days: 10,
            promised_by: Some(common::Date { year: 2026, month: 10, day: 23 }),
            clock_stopped: true,
            working_days_used: 3,
            denial_pending_confirmation: true,
            version: 5,
            steps: vec![
                pb::PlanStep {
                    step_id: "s1".into(),
                    item_code: "DEMO-RS-01".into(),
                    item_name: "营业执照".into(),
                    department: "samr".into(),
                    promised_working_days: 3,
                    state: pb::StepState::Approved as i32,
                    task_id: "t-1".into(),
                    result: Some(common::ResultDocument {
                        kind: common::ResultDocumentKind::Licence as i32,
                        name: "营业执照".into(),
                        number: "91110000".into(),
                        issuing_department: "samr".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                pb::PlanStep {
                    step_id: "s2".into(),
                    item_code: "DEMO-RS-03".into(),
                    item_name: "消防".into(),
                    department: "fire".into(),
                    depends_on: vec!["s1".into()],
                    state: pb::StepState::Denied as i32,
                    task_id: "t-2".into(),
                    denial_reason: "通道不足".into(),
                    denial_legal_basis: "消防法第十五条".into(),
                    ..Default::default()
                },
                pb::PlanStep {
                    step_id: "s3".into(),
                    department: "tax".into(),
                    depends_on: vec!["s1".into(), "s2".into()],
                    state: pb::StepState::Waiting as i32,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let text = plan_text(&plan);
        for expected in [
            "clock         3 of 10 working days used, promised by 2026-10-23, stopped (waiting for a supplement)",
            "outcome       open; a denial awaits the lead department's confirm-denial",
            "STEP  DEPT  DEPENDS ON  STATE     DAYS  TASK ID  ITEM",
            "s1    samr  -           approved  3     t-1      DEMO-RS-01 营业执照",
            "s3    tax   s1,s2       waiting   0     -",
            "s1: licence 营业执照 no. 91110000 (samr, no expiry, electronic)",
            "s2: denied — 通道不足 (消防法第十五条)",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
    }
}
