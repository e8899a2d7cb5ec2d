//! The monthly report as CSV (RFC 4180, UTF-8 with a byte-order mark).

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

fn field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

fn csv_row(out: &mut String, period: Month, kind: &str, row: &Row) {
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
    debug_assert_eq!(cells.len(), CSV_HEADER.len());
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, cell);
    }
    out.push_str("\r\n");
}

/// The report as RFC 4180 CSV, UTF-8 with a byte-order mark: the header,
/// the total, then the department and package rows.
pub fn to_csv(report: &Report) -> String {
    let mut out = String::from("\u{feff}");
    let _ = write!(out, "{}\r\n", CSV_HEADER.join(","));
    csv_row(&mut out, report.period, "合计", &report.total);
    for row in &report.by_department {
        csv_row(&mut out, report.period, "部门", row);
    }
    for row in &report.by_package {
        csv_row(&mut out, report.period, "事项包", row);
    }
    out
}
