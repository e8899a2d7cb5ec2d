//! Text in and out of casectl: calendar dates as `YYYY-MM-DD`, timestamps,
//! and plain tables aligned by display width (a Chinese character or an
//! emoji takes two terminal columns).

use unicode_width::UnicodeWidthStr as _;
use yiciban_proto::common::v1 as common;

/// Parses a calendar day written `YYYY-MM-DD` (clap value parser).
pub fn parse_date(text: &str) -> Result<common::Date, String> {
    let shape_ok = text.len() == 10
        && text.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
    if !shape_ok {
        return Err(format!("expected a date as YYYY-MM-DD, e.g. 2026-10-09, not {text:?}"));
    }
    let (year, month, day) =
        (text[0..4].parse().unwrap_or(0), text[5..7].parse().unwrap_or(0), text[8..10].parse().unwrap_or(0));
    if chrono::NaiveDate::from_ymd_opt(year, month, day).is_none() {
        return Err(format!("{text} is not a day of the calendar"));
    }
    Ok(common::Date { year, month: month as i32, day: day as i32 })
}

/// `YYYY-MM-DD`, or `-` when unset.
pub fn date(d: Option<&common::Date>) -> String {
    d.map(|d| format!("{:04}-{:02}-{:02}", d.year, d.month, d.day)).unwrap_or_else(|| "-".into())
}

/// A protobuf timestamp in UTC to the minute, or `-` when unset.
pub fn timestamp(t: Option<&prost_types::Timestamp>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| "-".into())
}

/// `-` for an empty string.
pub fn or_dash(s: &str) -> &str {
    if s.is_empty() { "-" } else { s }
}

/// Terminal columns a string takes (Unicode's East Asian Width: a Chinese
/// character or an emoji takes two, a combining mark none).
pub fn display_width(s: &str) -> usize {
    s.width()
}

/// Lays out `rows` under `headers`, columns separated by two spaces and
/// padded to the widest cell; the last column is not padded, no line has
/// trailing spaces. Every line ends with a newline.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(display_width(cell));
            }
        }
    }
    let mut out = String::new();
    let mut line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut text = String::new();
        for (i, cell) in cells.enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            text.push_str(cell);
            if i + 1 < widths.len() {
                text.extend(std::iter::repeat_n(' ', widths[i].saturating_sub(display_width(cell))));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_is_read_as_year_month_day() {
        assert_eq!(parse_date("2026-10-09"), Ok(common::Date { year: 2026, month: 10, day: 9 }));
        assert_eq!(parse_date("2028-02-29"), Ok(common::Date { year: 2028, month: 2, day: 29 }));
    }

    #[test]
    fn a_date_in_another_shape_is_refused_with_the_expected_shape() {
        for bad in ["2026-1-9", "09.10.2026", "2026/10/09", "20261009", "", "2026-10-09x", "２０２６-10-09"] {
            let e = parse_date(bad).unwrap_err();
            assert!(e.contains("YYYY-MM-DD"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_day_missing_from_the_calendar_is_refused() {
        for bad in ["2026-02-29", "2026-13-01", "2026-04-31", "2026-00-10", "2026-01-00"] {
            assert_eq!(parse_date(bad), Err(format!("{bad} is not a day of the calendar")));
        }
    }

    #[test]
    fn dates_and_timestamps_print_in_full_or_as_a_dash() {
        assert_eq!(date(Some(&common::Date { year: 2026, month: 3, day: 5 })), "2026-03-05");
        assert_eq!(date(None), "-");
        let t = prost_types::Timestamp { seconds: 1_790_000_000, nanos: 0 };
        assert_eq!(timestamp(Some(&t)), "2026-09-21 14:13 UTC");
        assert_eq!(timestamp(None), "-");
    }

    #[test]
    fn chinese_characters_and_warning_marks_take_two_columns() {
        assert_eq!(display_width("abc"), 3);
        assert_eq!(display_width("食品经营许可"), 12);
        assert_eq!(display_width("🟡 yellow"), 9);
        assert_eq!(display_width("🔴"), 2);
    }

    #[test]
    fn a_table_aligns_columns_by_display_width_without_trailing_spaces() {
        let rows = vec![
            vec!["1".into(), "食品经营许可".into(), "🔴 red".into()],
            vec!["22".into(), "ab".into(), String::new()],
        ];
        let text = table(&["N", "ITEM", "WARN"], &rows);
        assert_eq!(text, "N   ITEM          WARN\n1   食品经营许可  🔴 red\n22  ab\n");
    }

    #[test]
    fn a_table_without_rows_is_its_header() {
        assert_eq!(table(&["A", "B"], &[]), "A  B\n");
    }
}
