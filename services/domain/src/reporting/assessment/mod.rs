//! The assessment (考核) of departments and staff for a period: a
//! configurable scoring over measured indicators — on-time rate, bad-rating
//! rate, rectifications, report punctuality, opinions upheld — where every
//! number keeps the evidence behind it (the tasks, ratings, rectifications,
//! reports and opinions it counts), so the office can open any figure. The
//! service measures; this module scores, purely, and keeps the office's
//! rules ([`RulesBook`], one version per change) and each assessment run
//! ([`AssessmentRecord`]: its frozen figures, findings, finalisation).

use serde::{Deserialize, Serialize};

use crate::refusal::{Rejection, Violations};

mod record;
#[cfg(test)]
mod record_tests;

pub use record::{
    AccountabilityMeasure, AssessmentCommand, AssessmentError, AssessmentEvent, AssessmentFinalized, AssessmentKind,
    AssessmentRecord, AssessmentRecorded, FINDING_MAX_CHARS, FindingRecorded, NAME_MAX_CHARS, RulesBook, RulesCommand,
    RulesError, RulesEvent, RulesSet, SubjectScore,
};

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Indicator {
    /// Tasks finished within their limit / tasks finished (按时办结率).
    OnTimeRate,
    /// Valid bad ratings / valid ratings (差评率): lower is better.
    BadRatingRate,
    /// Rectifications found justified (整改): each costs points.
    Rectifications,
    /// Monthly reports submitted by the 15th / reports due (报送及时率);
    /// departments only.
    ReportPunctuality,
    /// Complaints found justified (投诉属实): each costs points.
    OpinionsUpheld,
}

impl Indicator {
    /// Its name on the assessment.
    pub fn label(self) -> &'static str {
        match self {
            Indicator::OnTimeRate => "按时办结率",
            Indicator::BadRatingRate => "差评率",
            Indicator::Rectifications => "整改",
            Indicator::ReportPunctuality => "报送及时率",
            Indicator::OpinionsUpheld => "投诉属实",
        }
    }
}

/// How an indicator turns into points, out of its `weight`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scoring {
    /// weight × rate (higher is better); the full weight with nothing to count.
    Rate,
    /// weight × (1 − rate) (lower is better); the full weight with nothing to
    /// count.
    InverseRate,
    /// weight − `points_each` × count, never below zero.
    Deduction {
        /// Points taken for each counted item.
        points_each: f64,
    },
}

/// One line of the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// What it scores.
    pub indicator: Indicator,
    /// The most points it gives.
    pub weight: f64,
    /// How.
    pub scoring: Scoring,
}

/// The scoring rules of an assessment, configurable by the office: weights
/// summing to 100, each indicator once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoringRules {
    /// The lines, in the order the assessment shows them.
    pub rules: Vec<Rule>,
}

impl Default for ScoringRules {
    /// On time 40, bad ratings 20, rectifications 15 (5 each), report
    /// punctuality 15, complaints upheld 10 (5 each).
    fn default() -> Self {
        let rule = |indicator, weight, scoring| Rule { indicator, weight, scoring };
        ScoringRules {
            rules: vec![
                rule(Indicator::OnTimeRate, 40.0, Scoring::Rate),
                rule(Indicator::BadRatingRate, 20.0, Scoring::InverseRate),
                rule(Indicator::Rectifications, 15.0, Scoring::Deduction { points_each: 5.0 }),
                rule(Indicator::ReportPunctuality, 15.0, Scoring::Rate),
                rule(Indicator::OpinionsUpheld, 10.0, Scoring::Deduction { points_each: 5.0 }),
            ],
        }
    }
}

impl ScoringRules {
    /// Checks the rules: at least one line, each indicator once, weights and
    /// deductions positive and finite, weights summing to 100. Every problem
    /// at once.
    pub fn validate(&self) -> Result<(), Rejection> {
        let mut v = Violations::default();
        if self.rules.is_empty() {
            v.add("rules", "至少需要一项考核指标");
        }
        for (i, rule) in self.rules.iter().enumerate() {
            if self.rules[..i].iter().any(|r| r.indicator == rule.indicator) {
                v.add(format!("rules[{i}].indicator"), "考核指标重复");
            }
            if !(rule.weight.is_finite() && rule.weight > 0.0) {
                v.add(format!("rules[{i}].weight"), "分值应为正数");
            }
            if let Scoring::Deduction { points_each } = rule.scoring
                && !(points_each.is_finite() && points_each > 0.0)
            {
                v.add(format!("rules[{i}].scoring.points_each"), "每项扣分应为正数");
            }
        }
        let total: f64 = self.rules.iter().map(|r| r.weight).sum();
        if !self.rules.is_empty() && (total - 100.0).abs() > 1e-9 {
            v.add("rules", "各项分值之和应为100");
        }
        v.finish()
    }

    /// Scores `measured` (indicators the rules do not name are ignored; a
    /// rule with nothing measured — e.g. report punctuality for a person —
    /// is left out and the total scaled to 100 over the rules that apply).
    pub fn score(&self, measured: &[Measured]) -> Assessment {
        let mut lines = Vec::new();
        for rule in &self.rules {
            let Some(m) = measured.iter().find(|m| m.indicator == rule.indicator) else { continue };
            let points = match rule.scoring {
                Scoring::Rate => m.rate().map_or(rule.weight, |r| rule.weight * r),
                Scoring::InverseRate => m.rate().map_or(rule.weight, |r| rule.weight * (1.0 - r)),
                Scoring::Deduction { points_each } => (rule.weight - points_each * f64::from(m.count)).max(0.0),
            };
            lines.push(ScoreLine { indicator: rule.indicator, weight: rule.weight, points, measured: m.clone() });
        }
        let (points, weight): (f64, f64) = lines.iter().fold((0.0, 0.0), |(p, w), l| (p + l.points, w + l.weight));
        let total = if weight > 0.0 { points / weight * 100.0 } else { 0.0 };
        Assessment { total, lines }
    }
}

/// Something counted behind a figure: a task, rating, rectification,
/// report or opinion, by its id (the workbench links each to its page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// "task", "rating", "rectification", "report", "opinion".
    pub kind: String,
    /// Its id.
    pub id: String,
    /// The case it belongs to, if any.
    pub case_id: Option<String>,
    /// True when it counts for the figure's `count` (a task on time, a bad
    /// rating, a report on time, every item of a deduction); false for the
    /// rest of a rate's `out_of`.
    #[serde(default)]
    pub counts: bool,
}

/// One indicator as measured for one department or person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// What.
    pub indicator: Indicator,
    /// For a rate, the items that count for it (tasks on time, bad ratings,
    /// reports on time); for a deduction, the items counted.
    pub count: u32,
    /// For a rate, all items (tasks finished, ratings, reports due); for a
    /// deduction, unused (0).
    pub out_of: u32,
    /// The items behind `count` (and, for a rate, those behind `out_of`
    /// that do not count), each one click away.
    pub evidence: Vec<Evidence>,
}

impl Measured {
    /// count / out_of; `None` with nothing to count.
    pub fn rate(&self) -> Option<f64> {
        (self.out_of > 0).then(|| f64::from(self.count.min(self.out_of)) / f64::from(self.out_of))
    }
}

/// The score of one department or person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// 0..=100.
    pub total: f64,
    /// One line per rule that applied, in the rules' order.
    pub lines: Vec<ScoreLine>,
}

/// One indicator's points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLine {
    /// What.
    pub indicator: Indicator,
    /// The most it could give.
    pub weight: f64,
    /// What it gave.
    pub points: f64,
    /// The figure and its evidence.
    pub measured: Measured,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(indicator: Indicator, count: u32, out_of: u32) -> Measured {
        let evidence = (0..count)
            .map(|i| Evidence {
                kind: "task".into(),
                id: format!("t{i}"),
                case_id: Some(format!("c{i}")),
                counts: true,
            })
            .collect();
        Measured { indicator, count, out_of, evidence }
    }

    #[test]
    fn the_default_rules_are_valid_and_weigh_100() {
        assert_eq!(ScoringRules::default().validate(), Ok(()));
    }

    #[test]
    fn a_department_is_scored_line_by_line_with_its_evidence() {
        let a = ScoringRules::default().score(&[
            measured(Indicator::OnTimeRate, 18, 20),
            measured(Indicator::BadRatingRate, 1, 10),
            measured(Indicator::Rectifications, 1, 0),
            measured(Indicator::ReportPunctuality, 2, 3),
            measured(Indicator::OpinionsUpheld, 3, 0),
        ]);
        let points: Vec<f64> = a.lines.iter().map(|l| (l.points * 100.0).round() / 100.0).collect();
        assert_eq!(points, [36.0, 18.0, 10.0, 10.0, 0.0], "a deduction stops at zero");
        assert!((a.total - 74.0).abs() < 1e-9, "{}", a.total);
        assert_eq!(a.lines[0].measured.evidence.len(), 18, "the evidence behind the figure");
    }

    #[test]
    fn a_person_without_reports_is_scored_over_the_rules_that_apply() {
        let a = ScoringRules::default().score(&[
            measured(Indicator::OnTimeRate, 10, 10),
            measured(Indicator::BadRatingRate, 0, 0),
            measured(Indicator::Rectifications, 0, 0),
            measured(Indicator::OpinionsUpheld, 0, 0),
        ]);
        assert_eq!(a.lines.len(), 4);
        assert!((a.total - 100.0).abs() < 1e-9, "nothing rated counts as no bad rating: {}", a.total);
        assert!(ScoringRules::default().score(&[]).lines.is_empty());
    }

    #[test]
    fn rules_that_do_not_weigh_100_or_repeat_an_indicator_are_refused_all_at_once() {
        let mut rules = ScoringRules::default();
        rules.rules[1].indicator = Indicator::OnTimeRate;
        rules.rules[2].weight = 0.0;
        rules.rules[4].scoring = Scoring::Deduction { points_each: -1.0 };
        let fields: Vec<String> = rules.validate().unwrap_err().violations.into_iter().map(|v| v.field).collect();
        assert_eq!(fields, ["rules[1].indicator", "rules[2].weight", "rules[4].scoring.points_each", "rules"]);
        assert!(ScoringRules { rules: vec![] }.validate().is_err());
    }

    #[test]
    fn rules_are_configured_as_json() {
        let json = r#"{"rules":[{"indicator":"on_time_rate","weight":70,"scoring":{"kind":"rate"}},
            {"indicator":"opinions_upheld","weight":30,"scoring":{"kind":"deduction","points_each":10}}]}"#;
        let rules: ScoringRules = serde_json::from_str(json).unwrap();
        assert_eq!(rules.validate(), Ok(()));
        let a = rules.score(&[measured(Indicator::OnTimeRate, 1, 2), measured(Indicator::OpinionsUpheld, 1, 0)]);
        assert!((a.total - 55.0).abs() < 1e-9, "{}", a.total);
    }
}
