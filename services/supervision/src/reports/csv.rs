//! A month's reports as CSV (RFC 4180, CRLF, UTF-8 with a byte-order mark
//! so spreadsheet programs read the Chinese text): the header in Chinese,
//! then one row per department as ListReports answers them.

use yiciban_proto::supervision::v1 as pb;

/// The columns, in order.
pub const HEADER: [&str; 24] = [
    "月份",
    "部门代码",
    "部门",
    "状态",
    "报送次数",
    "按时报送",
    "逾期未报标记日",
    "咨询",
    "申请",
    "受理",
    "容缺受理",
    "告知承诺",
    "不予受理",
    "办结环节",
    "按时办结环节",
    "超期（红牌）",
    "评价",
    "差评",
    "收到意见",
    "办结意见",
    "按时办结意见",
    "困难问题",
    "宣传活动",
    "退回原因",
];

/// The status in Chinese.
pub fn status_label(status: pb::ReportStatus) -> &'static str {
    match status {
        pb::ReportStatus::Unspecified | pb::ReportStatus::NotStarted => "未填报",
        pb::ReportStatus::Draft => "草稿",
        pb::ReportStatus::Submitted => "已报送",
        pb::ReportStatus::Returned => "已退回",
        pb::ReportStatus::Accepted => "已采纳",
    }
}

fn date(d: Option<&yiciban_proto::common::v1::Date>) -> String {
    d.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_default()
}

fn row(r: &pb::Report) -> Vec<String> {
    let mut fields = vec![
        r.period.clone(),
        r.department.clone(),
        r.department_name.clone(),
        status_label(r.status()).to_owned(),
        r.submissions.to_string(),
        if r.submitted_on_time { "是" } else { "否" }.to_owned(),
        date(r.flagged_late_on.as_ref()),
    ];
    let figures = r.figures.as_ref().map(|f| {
        [
            f.consultations,
            f.applications,
            f.accepted,
            f.accepted_with_deficiency,
            f.commitments,
            f.not_accepted,
            f.tasks_finished,
            f.tasks_on_time,
            f.overdue,
            f.ratings,
            f.bad_ratings,
            f.opinions_received,
            f.opinions_closed,
            f.opinions_closed_on_time,
        ]
    });
    match figures {
        Some(values) => fields.extend(values.iter().map(ToString::to_string)),
        None => fields.extend(std::iter::repeat_n(String::new(), 14)),
    }
    let text = r.text.clone().unwrap_or_default();
    fields.extend([text.difficulties, text.publicity, r.returned_reason.clone()]);
    fields
}

/// The reports as CSV.
pub fn to_csv(reports: &[pb::Report]) -> Vec<u8> {
    let bom = "\u{feff}".as_bytes().to_vec();
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(bom);
    // The writer writes to memory and every row has a field per column (the
    // test pins it): neither can fail.
    writer.write_record(HEADER).expect("the CSV header is written to memory");
    for r in reports {
        writer.write_record(row(r)).expect("a CSV row has one field per header column");
    }
    writer.into_inner().expect("the CSV is written to memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_has_a_field_per_column_and_texts_with_commas_are_quoted() {
        let submitted = pb::Report {
            period: "2026-11".into(),
            department: "samr".into(),
            status: pb::ReportStatus::Submitted as i32,
            figures: Some(pb::ReportFigures { consultations: 4, ..Default::default() }),
            text: Some(pb::ReportText { difficulties: "人手少, \"系统\"慢".into(), publicity: "无".into() }),
            ..Default::default()
        };
        let not_started = pb::Report { period: "2026-11".into(), department: "health".into(), ..Default::default() };
        let bytes = to_csv(&[submitted, not_started]);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let mut reader = ::csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let records: Vec<_> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), 2);
        assert!(records.iter().all(|r| r.len() == HEADER.len()));
        assert_eq!((&records[0][3], &records[0][7], &records[0][21]), ("已报送", "4", "人手少, \"系统\"慢"));
        assert_eq!((&records[1][3], &records[1][7]), ("未填报", ""));
        assert!(text.contains("\r\n"));
    }
}
