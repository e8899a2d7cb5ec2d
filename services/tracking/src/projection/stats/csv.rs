//! The monthly report as CSV (RFC 4180, UTF-8 with a byte-order mark),
//! written by the `csv` crate, which does the quoting.

use super::*;

/// The CSV header (Chinese), one column per figure.
pub const CSV_HEADER: [&str; 41] = [
    "统计月份",
    "行类型",
    "代码",
    "名称",
    "申请数",
    "受理",
    "容缺受理",
    "告知承诺",
    "不予受理",
    "办理决定",
    "准予",
    "不予准予",
    "撤回",
    "终止",
    "办结",
    "按时办结",
    "按时办结率",
    "平均办理工作日",
    "部门环节办结",
    "部门环节按时",
    "部门环节按时率",
    "黄牌",
    "红牌",
    "有效评价",
    "差评",
    "无效评价",
    "非常不满意(1)",
    "不满意(2)",
    "基本满意(3)",
    "满意(4)",
    "非常满意(5)",
    "满意率",
    "整改新开",
    "整改办结",
    "整改按时办结",
    "整改未结",
    "回访",
    "回访联系上",
    "实名差评",
    "实名差评已回访",
    "实名差评回访率",
];

/// One report row as CSV fields, in the order of [`CSV_HEADER`].
fn csv_row(period: Month, kind: &str, row: &Row) -> Vec<String> {
    let mut cells: Vec<String> = vec![period.to_string(), kind.to_owned(), row.key.clone(), row.label.clone()];
    let counts = [
        row.submitted,
        row.accepted,
        row.accepted_with_deficiency,
        row.commitments,
        row.not_accepted,
        row.decided,
        row.approved,
        row.denied,
        row.withdrawn,
        row.terminated,
        row.closed,
        row.decided_on_time,
    ];
    cells.extend(counts.iter().map(u32::to_string));
    cells.push(format!("{:.4}", row.on_time_rate()));
    cells.push(format!("{:.2}", row.average_working_days()));
    cells.push(row.tasks_finished.to_string());
    cells.push(row.tasks_on_time.to_string());
    cells.push(format!("{:.4}", row.task_on_time_rate()));
    let counts = [row.yellow_warnings, row.red_warnings, row.ratings, row.bad_ratings, row.invalid_ratings];
    cells.extend(counts.iter().chain(&row.ratings_by_score).map(u32::to_string));
    cells.push(format!("{:.4}", row.satisfaction_rate()));
    let counts = [
        row.rectifications_opened,
        row.rectifications_closed,
        row.rectifications_closed_on_time,
        row.rectifications_open,
        row.return_visits,
        row.return_visits_reached,
        row.real_name_bad_ratings,
        row.real_name_bad_visited,
    ];
    cells.extend(counts.iter().map(u32::to_string));
    cells.push(format!("{:.4}", row.bad_rating_visit_rate()));
    cells
}

/// The report as RFC 4180 CSV (CRLF line ends; a field is quoted, with its
/// quotes doubled, only when it holds a comma, a quote or a line break),
/// UTF-8 with a byte-order mark so that spreadsheet programs read the
/// Chinese text: the header, the total, then the department and package rows.
pub fn to_csv(report: &Report) -> String {
    let bom = "\u{feff}".as_bytes().to_vec();
    let mut writer = ::csv::WriterBuilder::new().terminator(::csv::Terminator::CRLF).from_writer(bom);
    let rows = std::iter::once(("合计", &report.total))
        .chain(report.by_department.iter().map(|row| ("部门", row)))
        .chain(report.by_package.iter().map(|row| ("事项包", row)));
    // The writer writes to memory, and every row has as many fields as the
    // header (the writer checks; the tests pin it): neither can fail.
    writer.write_record(CSV_HEADER).expect("the CSV header is written to memory");
    for (kind, row) in rows {
        writer.write_record(csv_row(report.period, kind, row)).expect("a CSV row has one field per header column");
    }
    let bytes = writer.into_inner().expect("the CSV is written to memory");
    String::from_utf8(bytes).expect("the CSV is made of UTF-8 strings")
}
