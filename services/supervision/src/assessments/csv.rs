//! The CSV of an assessment for the management committee (pure): UTF-8
//! with a byte-order mark, a header in Chinese, one row per department or
//! person with its total and each indicator's points and figures, then one
//! row per finding.

use yiciban_proto::supervision::v1 as pb;

/// The indicators in the order of the columns.
const INDICATORS: [(pb::AssessmentIndicator, &str); 5] = [
    (pb::AssessmentIndicator::OnTimeRate, "按时办结率"),
    (pb::AssessmentIndicator::BadRatingRate, "差评率"),
    (pb::AssessmentIndicator::Rectifications, "整改"),
    (pb::AssessmentIndicator::ReportPunctuality, "报送及时率"),
    (pb::AssessmentIndicator::OpinionsUpheld, "投诉属实"),
];

/// The label of an accountability measure.
pub fn measure_label(measure: pb::AccountabilityMeasure) -> &'static str {
    match measure {
        pb::AccountabilityMeasure::Unspecified => "",
        pb::AccountabilityMeasure::Talk => "约谈",
        pb::AccountabilityMeasure::CirculatedCriticism => "通报批评",
        pb::AccountabilityMeasure::OrderedRectification => "责令整改",
        pb::AccountabilityMeasure::Admonition => "诫勉",
    }
}

fn field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

fn row(cells: &[String]) -> String {
    let mut line = cells.iter().map(|c| field(c)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// The CSV of `a`.
pub fn to_csv(a: &pb::Assessment) -> String {
    let mut out = String::from('\u{feff}');
    let mut header: Vec<String> = ["考核", "考核期", "规则版本", "对象", "总分"].map(String::from).to_vec();
    for (_, label) in INDICATORS {
        header.extend([format!("{label}得分"), format!("{label}计数"), format!("{label}基数")]);
    }
    out.push_str(&row(&header));
    let period = format!("{}至{}", a.from_month, a.to_month);
    let version = a.rules.as_ref().map_or(0, |r| r.version).to_string();
    for s in &a.subjects {
        let mut cells =
            vec![a.name.clone(), period.clone(), version.clone(), s.subject.clone(), format!("{:.2}", s.total)];
        for (indicator, _) in INDICATORS {
            match s.lines.iter().find(|l| l.indicator == indicator as i32) {
                Some(l) => cells.extend([format!("{:.2}", l.points), l.count.to_string(), l.out_of.to_string()]),
                None => cells.extend([String::new(), String::new(), String::new()]),
            }
        }
        out.push_str(&row(&cells));
    }
    if !a.findings.is_empty() {
        out.push_str(&row(&["发现问题", "对象", "问责措施", "内容", "记录人"].map(String::from)));
        for f in &a.findings {
            let measure = measure_label(pb::AccountabilityMeasure::try_from(f.measure).unwrap_or_default());
            out.push_str(&row(&[
                a.name.clone(),
                f.subject.clone(),
                measure.to_owned(),
                f.text.clone(),
                f.recorded_by.clone(),
            ]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_subject_is_a_row_with_its_points_and_figures_and_the_findings_follow() {
        let a = pb::Assessment {
            name: "上半年, 部门".into(),
            from_month: "2026-01".into(),
            to_month: "2026-06".into(),
            rules: Some(pb::ScoringRulesVersion { version: 2, ..Default::default() }),
            subjects: vec![pb::SubjectScore {
                subject: "samr".into(),
                total: 87.5,
                lines: vec![pb::ScoreLine {
                    indicator: pb::AssessmentIndicator::OnTimeRate as i32,
                    points: 35.0,
                    count: 7,
                    out_of: 8,
                    ..Default::default()
                }],
            }],
            findings: vec![pb::Finding {
                subject: "samr".into(),
                measure: pb::AccountabilityMeasure::Talk as i32,
                text: "超期\"两件\"".into(),
                recorded_by: "sup-001".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let csv = to_csv(&a);
        let mut reader =
            ::csv::ReaderBuilder::new().flexible(true).from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        assert_eq!(reader.headers().unwrap().len(), 5 + 3 * 5);
        let records: Vec<::csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(&records[0][0], "上半年, 部门");
        assert_eq!((&records[0][2], &records[0][3], &records[0][4]), ("2", "samr", "87.50"));
        assert_eq!((&records[0][5], &records[0][6], &records[0][7], &records[0][8]), ("35.00", "7", "8", ""));
        assert_eq!((&records[2][2], &records[2][3]), ("约谈", "超期\"两件\""));
        assert!(csv.starts_with('\u{feff}'));
    }
}
