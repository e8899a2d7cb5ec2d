//! 考核 (ADR 0040): the assessments of departments and staff, for
//! supervisors (and admins, reading). `/assessments` lists them with the
//! form to run one; `/assessments/rules` shows the scoring rules in force
//! and a small form for the next version; `/assessments/{id}` shows one:
//! a table of departments or persons with the total and each indicator's
//! points, every count a link to the items behind it — each task, rating
//! and rectification to its case, each opinion and monthly report to its
//! page — the findings
//! and their form, finalisation and the CSV. The supervision service
//! decides who may read and record what.

use askama::Template;
use yiciban_proto::supervision::v1::{
    AccountabilityMeasure, Assessment, AssessmentIndicator, AssessmentKind, AssessmentListing, AssessmentStatus,
    Evidence, GetScoringRulesResponse, ListAssessmentsResponse, ScoringMethod, ScoringRule, ScoringRules,
};

use super::decide::Sent;
use super::inbox::Choice;
use super::{Layout, format};

/// The indicators in the order of the columns, with their form names.
pub const INDICATORS: [(AssessmentIndicator, &str, &str); 5] = [
    (AssessmentIndicator::OnTimeRate, "on_time_rate", "按时办结率"),
    (AssessmentIndicator::BadRatingRate, "bad_rating_rate", "差评率"),
    (AssessmentIndicator::Rectifications, "rectifications", "整改"),
    (AssessmentIndicator::ReportPunctuality, "report_punctuality", "报送及时率"),
    (AssessmentIndicator::OpinionsUpheld, "opinions_upheld", "投诉属实"),
];

/// The scoring methods, as the rules form offers them.
pub const METHODS: [(&str, &str, ScoringMethod); 3] = [
    ("rate", "比率（越高越好）", ScoringMethod::Rate),
    ("inverse_rate", "比率（越低越好）", ScoringMethod::InverseRate),
    ("deduction", "逐项扣分", ScoringMethod::Deduction),
];

/// The accountability measures, as the findings form offers them.
pub const MEASURES: [(&str, &str, AccountabilityMeasure); 5] = [
    ("", "仅记录问题", AccountabilityMeasure::Unspecified),
    ("talk", "约谈", AccountabilityMeasure::Talk),
    ("criticism", "通报批评", AccountabilityMeasure::CirculatedCriticism),
    ("rectify", "责令整改", AccountabilityMeasure::OrderedRectification),
    ("admonish", "诫勉", AccountabilityMeasure::Admonition),
];

/// The measure a form value names (none for anything else).
pub fn measure_of(value: &str) -> AccountabilityMeasure {
    MEASURES.iter().find(|(v, _, _)| *v == value).map_or(AccountabilityMeasure::Unspecified, |(_, _, m)| *m)
}

fn measure_label(m: i32) -> &'static str {
    MEASURES.iter().find(|(_, _, x)| *x as i32 == m).map_or("", |(_, label, _)| *label)
}

fn kind_label(k: i32) -> &'static str {
    match AssessmentKind::try_from(k).unwrap_or_default() {
        AssessmentKind::Departments => "部门考核",
        AssessmentKind::Persons => "个人考核",
        AssessmentKind::Unspecified => "—",
    }
}

fn status_label(s: i32) -> &'static str {
    match AssessmentStatus::try_from(s).unwrap_or_default() {
        AssessmentStatus::Draft => "待定稿",
        AssessmentStatus::Finalized => "已定稿",
        AssessmentStatus::Unspecified => "—",
    }
}

/// The form input a service's field violation is about (`None`: the whole
/// form).
pub fn input_of(field: &str) -> Option<String> {
    let input = match field {
        "from_month" | "to_month" | "kind" | "name" | "subject" | "text" => field,
        f if f.starts_with("rules") => "rules",
        _ => return None,
    };
    Some(input.to_owned())
}

/// One assessment in the list.
#[derive(Debug, Clone)]
pub struct ListingRow {
    pub href: String,
    pub name: String,
    pub kind: &'static str,
    pub period: String,
    pub status: &'static str,
    pub rules_version: u32,
    pub subjects: u32,
    pub run_at: String,
}

impl ListingRow {
    fn new(a: &AssessmentListing) -> ListingRow {
        ListingRow {
            href: format!("/assessments/{}", a.assessment_id),
            name: a.name.clone(),
            kind: kind_label(a.kind),
            period: format!("{} 至 {}", a.from_month, a.to_month),
            status: status_label(a.status),
            rules_version: a.rules_version,
            subjects: a.subjects,
            run_at: format::timestamp(a.run_at.as_ref()),
        }
    }
}

/// `/assessments`.
#[derive(Debug, Template)]
#[template(path = "assessments.html")]
pub struct AssessmentsPage {
    pub layout: Layout,
    /// `None` when the list could not be read (see `error`).
    pub rows: Option<Vec<ListingRow>>,
    pub next_page: Option<String>,
    /// The run form: what was sent and what the service said about it.
    pub sent: Sent,
    pub kinds: Vec<Choice>,
    /// This form's idempotency key: a double submit runs once.
    pub key: String,
    /// Supervisors run assessments; admins only read.
    pub may_run: bool,
    pub error: Option<String>,
}

impl AssessmentsPage {
    pub fn new(layout: Layout, sent: Sent, may_run: bool, answer: Option<&ListAssessmentsResponse>) -> AssessmentsPage {
        let picked = sent.value("kind").to_owned();
        let kinds = [("departments", "部门考核"), ("persons", "个人考核")]
            .into_iter()
            .map(|(value, label)| Choice { value: value.into(), label: label.into(), selected: picked == value })
            .collect();
        AssessmentsPage {
            layout,
            rows: answer.map(|a| a.assessments.iter().map(ListingRow::new).collect()),
            next_page: answer
                .filter(|a| !a.next_page_token.is_empty())
                .map(|a| format!("/assessments?page={}", a.next_page_token)),
            sent,
            kinds,
            key: uuid::Uuid::now_v7().to_string(),
            may_run,
            error: None,
        }
    }
}

/// The kind a run form names (UNSPECIFIED otherwise: the service refuses
/// it next to the field).
pub fn kind_of(value: &str) -> AssessmentKind {
    match value {
        "departments" => AssessmentKind::Departments,
        "persons" => AssessmentKind::Persons,
        _ => AssessmentKind::Unspecified,
    }
}

/// One indicator of one subject.
#[derive(Debug, Clone)]
pub struct Cell {
    pub points: String,
    /// "7/8" for a rate, "2" for a deduction; empty when it did not apply.
    pub figure: String,
    /// The evidence block's anchor on the page.
    pub anchor: String,
}

/// One department's or person's line.
#[derive(Debug, Clone)]
pub struct SubjectRow {
    /// A department by its name and code, a person by their login.
    pub subject: String,
    pub total: String,
    pub cells: Vec<Cell>,
}

/// One item behind a figure, linked to its page.
#[derive(Debug, Clone)]
pub struct EvidenceLink {
    pub label: String,
    /// Empty when the item has no page of its own.
    pub href: String,
    /// It counts for the figure (on time, bad, upheld …).
    pub counts: bool,
}

/// The items behind one figure.
#[derive(Debug, Clone)]
pub struct EvidenceBlock {
    pub anchor: String,
    pub title: String,
    pub items: Vec<EvidenceLink>,
}

/// One finding.
#[derive(Debug, Clone)]
pub struct FindingRow {
    pub subject: String,
    pub measure: &'static str,
    pub text: String,
    pub by: String,
    pub at: String,
}

fn link(e: &Evidence) -> EvidenceLink {
    let (what, href) = match e.kind.as_str() {
        "task" => ("办件环节", format!("/cases/{}", e.case_id)),
        "rating" => ("评价", format!("/cases/{}", e.case_id)),
        "rectification" => ("整改", format!("/cases/{}/rectifications/{}", e.case_id, e.id)),
        "opinion" => ("投诉", format!("/opinions/{}", e.id)),
        // "2026-09/samr": the report page of that month and department
        "report" => ("月报", format!("/reports/{}", e.id)),
        _ => ("", String::new()),
    };
    let own_page = matches!(e.kind.as_str(), "opinion" | "report");
    let href = if href.ends_with('/') || (e.case_id.is_empty() && !own_page) { String::new() } else { href };
    EvidenceLink { label: format!("{what} {}", e.id), href, counts: e.counts }
}

/// `/assessments/{id}`.
#[derive(Debug, Template)]
#[template(path = "assessment.html")]
pub struct AssessmentPage {
    pub layout: Layout,
    pub id: String,
    pub name: String,
    pub kind: &'static str,
    pub period: String,
    pub status: &'static str,
    pub finalized: bool,
    pub rules_version: u32,
    pub run_by: String,
    pub run_at: String,
    pub columns: Vec<&'static str>,
    pub rows: Vec<SubjectRow>,
    pub evidence: Vec<EvidenceBlock>,
    pub findings: Vec<FindingRow>,
    pub subjects: Vec<Choice>,
    pub measures: Vec<Choice>,
    /// The findings form: what was sent and what the service said.
    pub sent: Sent,
    pub key: String,
    pub finalize_key: String,
    /// Supervisors record findings and finalise; admins only read.
    pub may_act: bool,
    pub done: Option<&'static str>,
}

impl AssessmentPage {
    /// The page of `a`; `department` names a department code.
    pub fn new(
        layout: Layout,
        a: &Assessment,
        may_act: bool,
        sent: Sent,
        department: impl Fn(&str) -> String,
    ) -> AssessmentPage {
        let of_departments = a.kind == AssessmentKind::Departments as i32;
        let label = |subject: &str| {
            let name = department(subject);
            if of_departments && name != subject { format!("{name}（{subject}）") } else { subject.to_owned() }
        };
        // A rate shows count/out_of, a deduction its count.
        let deduction = |indicator: AssessmentIndicator| {
            a.rules.as_ref().and_then(|r| r.rules.as_ref()).is_some_and(|r| {
                r.rules.iter().any(|l| l.indicator == indicator as i32 && l.method == ScoringMethod::Deduction as i32)
            })
        };
        let mut evidence = Vec::new();
        let rows = a
            .subjects
            .iter()
            .enumerate()
            .map(|(i, s)| SubjectRow {
                subject: label(&s.subject),
                total: format!("{:.2}", s.total),
                cells: INDICATORS
                    .iter()
                    .map(|(indicator, name, label)| match s.lines.iter().find(|l| l.indicator == *indicator as i32) {
                        Some(l) => {
                            let anchor = format!("evidence-{i}-{name}");
                            evidence.push(EvidenceBlock {
                                anchor: anchor.clone(),
                                title: format!("{} · {label}", s.subject),
                                items: l.evidence.iter().map(link).collect(),
                            });
                            let figure = if deduction(*indicator) {
                                l.count.to_string()
                            } else {
                                format!("{}/{}", l.count, l.out_of)
                            };
                            Cell { points: format!("{:.2}", l.points), figure, anchor }
                        }
                        None => Cell { points: "—".into(), figure: String::new(), anchor: String::new() },
                    })
                    .collect(),
            })
            .collect();
        let picked = sent.value("subject").to_owned();
        let subjects = a
            .subjects
            .iter()
            .map(|s| Choice { value: s.subject.clone(), label: label(&s.subject), selected: picked == s.subject })
            .collect();
        let picked = sent.value("measure").to_owned();
        let measures = MEASURES
            .iter()
            .map(|(v, label, _)| Choice { value: (*v).into(), label: (*label).into(), selected: picked == *v })
            .collect();
        let finalized = a.status == AssessmentStatus::Finalized as i32;
        AssessmentPage {
            layout,
            id: a.assessment_id.clone(),
            name: a.name.clone(),
            kind: kind_label(a.kind),
            period: format!("{} 至 {}", a.from_month, a.to_month),
            status: status_label(a.status),
            finalized,
            rules_version: a.rules.as_ref().map_or(0, |r| r.version),
            run_by: a.run_by.clone(),
            run_at: format::timestamp(a.run_at.as_ref()),
            columns: INDICATORS.iter().map(|(_, _, label)| *label).collect(),
            rows,
            evidence,
            findings: a
                .findings
                .iter()
                .map(|f| FindingRow {
                    subject: f.subject.clone(),
                    measure: measure_label(f.measure),
                    text: f.text.clone(),
                    by: f.recorded_by.clone(),
                    at: format::timestamp(f.recorded_at.as_ref()),
                })
                .collect(),
            subjects,
            measures,
            sent,
            key: uuid::Uuid::now_v7().to_string(),
            finalize_key: uuid::Uuid::now_v7().to_string(),
            may_act: may_act && !finalized,
            done: None,
        }
    }
}

/// One line of the rules form.
#[derive(Debug, Clone)]
pub struct RuleRow {
    pub name: &'static str,
    pub label: &'static str,
    pub weight: String,
    pub methods: Vec<Choice>,
    pub points_each: String,
}

/// `/assessments/rules`.
#[derive(Debug, Template)]
#[template(path = "assessment_rules.html")]
pub struct RulesPage {
    pub layout: Layout,
    pub version: u32,
    pub set_by: String,
    pub rows: Vec<RuleRow>,
    pub sent: Sent,
    pub key: String,
    pub may_set: bool,
    pub done: bool,
    pub error: Option<String>,
}

impl RulesPage {
    /// The page of the rules in force, the form filled with them (or with
    /// what was sent, when it was refused).
    pub fn new(layout: Layout, answer: Option<&GetScoringRulesResponse>, sent: Sent, may_set: bool) -> RulesPage {
        let version = answer.and_then(|a| a.rules.as_ref());
        let rules = version.and_then(|v| v.rules.clone()).unwrap_or_default();
        let rows = INDICATORS
            .iter()
            .map(|(indicator, name, label)| {
                let rule = rules.rules.iter().find(|r| r.indicator == *indicator as i32);
                let (weight, method, points) = if sent.has_errors() {
                    (
                        sent.value(&format!("weight_{name}")).to_owned(),
                        sent.value(&format!("method_{name}")).to_owned(),
                        sent.value(&format!("points_{name}")).to_owned(),
                    )
                } else {
                    let method = rule
                        .and_then(|r| METHODS.iter().find(|(_, _, m)| *m as i32 == r.method))
                        .map_or("", |(v, _, _)| *v);
                    let points =
                        rule.filter(|r| r.points_each > 0.0).map_or(String::new(), |r| r.points_each.to_string());
                    (rule.map_or(String::new(), |r| r.weight.to_string()), method.to_owned(), points)
                };
                RuleRow {
                    name,
                    label,
                    weight,
                    methods: METHODS
                        .iter()
                        .map(|(v, l, _)| Choice { value: (*v).into(), label: (*l).into(), selected: method == *v })
                        .collect(),
                    points_each: points,
                }
            })
            .collect();
        RulesPage {
            layout,
            version: version.map_or(0, |v| v.version),
            set_by: version.map_or(String::new(), |v| v.set_by.clone()),
            rows,
            sent,
            key: uuid::Uuid::now_v7().to_string(),
            may_set,
            done: false,
            error: None,
        }
    }
}

/// The rules a form sends: one line per indicator with a weight; a weight
/// or points that are not numbers are sent as 0, for the service to refuse
/// next to the field.
pub fn rules_of(value: impl Fn(&str) -> String) -> ScoringRules {
    let number = |text: String| text.trim().parse::<f64>().unwrap_or(0.0);
    ScoringRules {
        rules: INDICATORS
            .iter()
            .filter(|(_, name, _)| !value(&format!("weight_{name}")).trim().is_empty())
            .map(|(indicator, name, _)| {
                let method = value(&format!("method_{name}"));
                ScoringRule {
                    indicator: *indicator as i32,
                    weight: number(value(&format!("weight_{name}"))),
                    method: METHODS.iter().find(|(v, _, _)| *v == method).map_or(0, |(_, _, m)| *m as i32),
                    points_each: number(value(&format!("points_{name}"))),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use yiciban_proto::supervision::v1::{ScoreLine, SubjectScore};

    use super::*;

    #[test]
    fn every_figure_links_to_its_evidence_and_each_item_to_its_page() {
        let case = "0190f3c2-7a1e-7c3e-8f00-0000000000a1";
        let evidence = |kind: &str, id: &str, case_id: &str| Evidence {
            kind: kind.into(),
            id: id.into(),
            case_id: case_id.into(),
            counts: true,
        };
        let rules = ScoringRules {
            rules: vec![ScoringRule {
                indicator: AssessmentIndicator::OpinionsUpheld as i32,
                method: ScoringMethod::Deduction as i32,
                ..Default::default()
            }],
        };
        let a = Assessment {
            kind: AssessmentKind::Departments as i32,
            rules: Some(yiciban_proto::supervision::v1::ScoringRulesVersion {
                rules: Some(rules),
                ..Default::default()
            }),
            subjects: vec![SubjectScore {
                subject: "samr".into(),
                total: 80.0,
                lines: vec![
                    ScoreLine {
                        indicator: AssessmentIndicator::OnTimeRate as i32,
                        count: 1,
                        out_of: 2,
                        points: 20.0,
                        evidence: vec![evidence("task", "t1", case)],
                        ..Default::default()
                    },
                    ScoreLine {
                        indicator: AssessmentIndicator::OpinionsUpheld as i32,
                        count: 1,
                        points: 5.0,
                        evidence: vec![
                            evidence("opinion", "o1", ""),
                            evidence("rectification", "x1", case),
                            evidence("report", "2026-09/samr", ""),
                        ],
                        ..Default::default()
                    },
                ],
            }],
            ..Default::default()
        };
        let page = AssessmentPage::new(Layout::default(), &a, true, Sent::default(), |code| match code {
            "samr" => "市场监督管理局".into(),
            other => other.into(),
        });
        assert_eq!(page.rows[0].subject, "市场监督管理局（samr）");
        let cells = &page.rows[0].cells;
        assert_eq!((cells[0].figure.as_str(), cells[0].anchor.as_str()), ("1/2", "evidence-0-on_time_rate"));
        assert_eq!((cells[3].figure.as_str(), cells[4].figure.as_str()), ("", "1"), "a deduction shows its count");
        let hrefs: Vec<&str> = page.evidence.iter().flat_map(|b| &b.items).map(|e| e.href.as_str()).collect();
        assert_eq!(
            hrefs,
            [
                format!("/cases/{case}"),
                "/opinions/o1".into(),
                format!("/cases/{case}/rectifications/x1"),
                "/reports/2026-09/samr".into()
            ]
        );
    }

    #[test]
    fn the_rules_form_sends_a_line_per_indicator_with_a_weight() {
        let form = |name: &str| -> String {
            match name {
                "weight_on_time_rate" => "60".into(),
                "method_on_time_rate" => "rate".into(),
                "weight_opinions_upheld" => "40".into(),
                "method_opinions_upheld" => "deduction".into(),
                "points_opinions_upheld" => "x".into(),
                _ => String::new(),
            }
        };
        let rules = rules_of(form);
        assert_eq!(rules.rules.len(), 2);
        assert_eq!((rules.rules[1].method, rules.rules[1].points_each), (ScoringMethod::Deduction as i32, 0.0));
    }
}
