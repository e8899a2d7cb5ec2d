//! A small PDF writer for the printed notices: A4 pages of Chinese text,
//! wrapped and paginated, with a page number at the foot of each page.
//!
//! The text is set in STSong-Light, one of the CJK fonts every PDF reader
//! provides for the Adobe-GB1 character collection, addressed through the
//! predefined `UniGB-UCS2-H` encoding: the file embeds no font (a few
//! kilobytes a notice, no font file to ship in the image) and carries a
//! ToUnicode map, so the text can be searched and copied. Characters
//! outside the Basic Multilingual Plane (which UCS-2 cannot name) print as
//! `?`; control characters are dropped. The content streams are left
//! uncompressed: notices are short.

use std::fmt::Write as _;

/// A4 in points.
const PAGE_WIDTH: f32 = 595.0;
const PAGE_HEIGHT: f32 = 842.0;
const MARGIN_X: f32 = 64.0;
const MARGIN_TOP: f32 = 64.0;
/// Room for the page number below the text.
const MARGIN_BOTTOM: f32 = 72.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.6;

/// Characters that must not begin a line (they stay with the one before).
const NO_LINE_START: &str = "，。、；：？！）》」』】”’,.;:?!)";

/// Where a paragraph sits across the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Centre,
    Right,
}

/// A piece of a document, laid out top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph in `size` points, wrapped to the page; `indent` points
    /// from the left margin.
    Text { text: String, size: f32, align: Align, indent: f32 },
    /// Vertical space, in points.
    Gap(f32),
    /// The rest goes on a new page.
    PageBreak,
}

impl Block {
    pub fn text(text: impl Into<String>, size: f32) -> Block {
        Block::Text { text: text.into(), size, align: Align::Left, indent: 0.0 }
    }

    pub fn centred(text: impl Into<String>, size: f32) -> Block {
        Block::Text { text: text.into(), size, align: Align::Centre, indent: 0.0 }
    }

    pub fn right(text: impl Into<String>, size: f32) -> Block {
        Block::Text { text: text.into(), size, align: Align::Right, indent: 0.0 }
    }

    pub fn indented(text: impl Into<String>, size: f32, indent: f32) -> Block {
        Block::Text { text: text.into(), size, align: Align::Left, indent }
    }
}

/// One line set on a page: its text, size and position (PDF user space,
/// origin at the bottom left).
#[derive(Debug, Clone, PartialEq)]
struct Placed {
    text: String,
    size: f32,
    x: f32,
    y: f32,
}

/// The document's pages as lines placed.
fn lay_out(blocks: &[Block]) -> Vec<Vec<Placed>> {
    let mut pages: Vec<Vec<Placed>> = vec![Vec::new()];
    let mut y = PAGE_HEIGHT - MARGIN_TOP;
    for block in blocks {
        match block {
            Block::Gap(points) => y -= points,
            Block::PageBreak => {
                pages.push(Vec::new());
                y = PAGE_HEIGHT - MARGIN_TOP;
            }
            Block::Text { text, size, align, indent } => {
                let width = PAGE_WIDTH - 2.0 * MARGIN_X - indent;
                for line in wrap(text, width / size) {
                    let height = size * LEADING;
                    if y - height < MARGIN_BOTTOM && !pages.last().is_some_and(Vec::is_empty) {
                        pages.push(Vec::new());
                        y = PAGE_HEIGHT - MARGIN_TOP;
                    }
                    y -= height;
                    let used = ems(&line) * size;
                    let x = match align {
                        Align::Left => MARGIN_X + indent,
                        Align::Centre => (PAGE_WIDTH - used) / 2.0,
                        Align::Right => PAGE_WIDTH - MARGIN_X - used,
                    };
                    if let Some(page) = pages.last_mut() {
                        page.push(Placed { text: line, size: *size, x, y });
                    }
                }
            }
        }
    }
    pages
}

/// A character's advance in ems: half for ASCII, full for the rest.
fn em(c: char) -> f32 {
    if c.is_ascii() { 0.5 } else { 1.0 }
}

fn ems(s: &str) -> f32 {
    s.chars().map(em).sum()
}

/// The printable characters of `text`: control characters dropped, a tab
/// or line break a space.
fn printable(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars().filter_map(|c| match c {
        '\t' | '\n' | '\r' => Some(' '),
        c if c.is_control() => None,
        c => Some(c),
    })
}

/// `text` in lines of at most `max_ems` (a longer unbreakable run is cut):
/// breaks between any two CJK characters, between ASCII words at spaces,
/// and never before closing punctuation.
fn wrap(text: &str, max_ems: f32) -> Vec<String> {
    // The units that may not be split: an ASCII word with the space after
    // it, or one other character.
    let mut units: Vec<String> = Vec::new();
    for c in printable(text) {
        let joins = c.is_ascii() || NO_LINE_START.contains(c);
        match units.last_mut() {
            Some(last) if joins && last.chars().last().is_some_and(|l| l.is_ascii() && l != ' ' || c == ' ') => {
                last.push(c);
            }
            Some(last) if NO_LINE_START.contains(c) => last.push(c),
            _ => units.push(c.to_string()),
        }
    }
    let mut lines = Vec::new();
    let mut line = String::new();
    for unit in units {
        // Closing punctuation and a trailing space may hang past the margin.
        let body = ems(unit.trim_end_matches(|c| c == ' ' || NO_LINE_START.contains(c)));
        if !line.is_empty() && ems(&line) + body > max_ems {
            lines.push(line.trim_end_matches(' ').to_owned());
            line = String::new();
        }
        if line.is_empty() && body > max_ems {
            // Longer than a line on its own: cut it where it must be.
            for c in unit.chars() {
                if !line.is_empty() && ems(&line) + em(c) > max_ems {
                    lines.push(std::mem::take(&mut line));
                }
                line.push(c);
            }
            continue;
        }
        if line.is_empty() {
            line.push_str(unit.trim_start_matches(' '));
        } else {
            line.push_str(&unit);
        }
    }
    if !line.trim().is_empty() || lines.is_empty() {
        lines.push(line.trim_end_matches(' ').to_owned());
    }
    lines
}

/// `text` as a PDF hex string in UCS-2 (big-endian).
fn ucs2_hex(text: &str) -> String {
    let mut hex = String::with_capacity(text.len() * 4 + 2);
    hex.push('<');
    for c in text.chars() {
        let code = u16::try_from(u32::from(c)).unwrap_or(u16::from(b'?'));
        let _ = write!(hex, "{code:04X}");
    }
    hex.push('>');
    hex
}

/// The ToUnicode map: every two-byte code is its own UCS-2 character.
fn to_unicode() -> String {
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    // A range may differ in its last byte only: one per high byte, at most
    // 100 to a section.
    for chunk in (0u16..256).collect::<Vec<_>>().chunks(100) {
        let _ = writeln!(cmap, "{} beginbfrange", chunk.len());
        for high in chunk {
            let _ = writeln!(cmap, "<{high:02X}00> <{high:02X}FF> <{high:02X}00>");
        }
        cmap.push_str("endbfrange\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    cmap
}

/// The document as a PDF file; `title` goes into its information
/// dictionary.
pub fn render(title: &str, blocks: &[Block]) -> Vec<u8> {
    let pages = lay_out(blocks);
    let count = pages.len();
    // Objects: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor,
    // 6 ToUnicode, 7 info, then a page and its content for each page.
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {count} >>",
            (0..count).map(|i| format!("{} 0 R", 8 + 2 * i)).collect::<Vec<_>>().join(" ")
        ),
        "<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H \
         /DescendantFonts [4 0 R] /ToUnicode 6 0 R >>"
            .to_owned(),
        "<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light \
         /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> \
         /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>"
            .to_owned(),
        "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] \
         /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
            .to_owned(),
        stream(&to_unicode()),
        format!("<< /Title {} /Producer (yiciban workbench) >>", ucs2_hex_bom(title)),
    ];
    for (i, page) in pages.iter().enumerate() {
        let mut content = String::new();
        for line in page {
            let _ = writeln!(
                content,
                "BT /F1 {:.1} Tf 1 0 0 1 {:.2} {:.2} Tm {} Tj ET",
                line.size,
                line.x,
                line.y,
                ucs2_hex(&line.text)
            );
        }
        let foot = format!("第 {} 页 共 {count} 页", i + 1);
        let x = (PAGE_WIDTH - ems(&foot) * 9.0) / 2.0;
        let _ = writeln!(content, "BT /F1 9.0 Tf 1 0 0 1 {x:.2} 40.00 Tm {} Tj ET", ucs2_hex(&foot));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] \
             /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
            9 + 2 * i
        ));
        objects.push(stream(&content));
    }
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    let mut tail = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
    for offset in offsets {
        let _ = writeln!(tail, "{offset:010} 00000 n ");
    }
    let _ =
        write!(tail, "trailer\n<< /Size {} /Root 1 0 R /Info 7 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1);
    out.extend_from_slice(tail.as_bytes());
    out
}

fn stream(content: &str) -> String {
    format!("<< /Length {} >>\nstream\n{content}endstream", content.len())
}

/// A text string outside a content stream: UTF-16BE with its byte-order mark.
fn ucs2_hex_bom(text: &str) -> String {
    let mut hex = String::from("<FEFF");
    for unit in text.encode_utf16() {
        let _ = write!(hex, "{unit:04X}");
    }
    hex.push('>');
    hex
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_wrap_between_chinese_characters_and_never_before_closing_punctuation() {
        assert_eq!(wrap("一二三四五六", 4.0), ["一二三四", "五六"]);
        // The comma stays on the line it closes, even a little over.
        assert_eq!(wrap("一二三四，五六", 4.0), ["一二三四，", "五六"]);
        assert_eq!(wrap("", 4.0), [""]);
    }

    #[test]
    fn ascii_words_stay_whole_and_a_word_longer_than_a_line_is_cut() {
        assert_eq!(wrap("编号 YCB-20260929-000001 已受理", 10.0), ["编号", "YCB-20260929-000001", "已受理"]);
        assert_eq!(wrap("abcdefghij", 2.0), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("ab cd", 2.0), ["ab", "cd"]);
    }

    #[test]
    fn an_ideographic_space_at_the_start_indents_the_first_line_only() {
        assert_eq!(wrap("\u{3000}\u{3000}一二三四", 4.0), ["\u{3000}\u{3000}一二", "三四"]);
    }

    #[test]
    fn control_characters_are_dropped_and_line_breaks_become_spaces() {
        assert_eq!(wrap("甲\u{0}乙\n丙", 40.0), ["甲乙 丙"]);
    }

    #[test]
    fn text_is_ucs2_and_a_character_beyond_it_a_question_mark() {
        assert_eq!(ucs2_hex("受A"), "<53D70041>");
        assert_eq!(ucs2_hex("𠀀"), "<003F>");
    }

    #[test]
    fn a_long_document_runs_onto_more_pages_and_each_is_numbered() {
        let blocks: Vec<Block> = (0..80).map(|i| Block::text(format!("第{i}行"), 12.0)).collect();
        let pages = lay_out(&blocks);
        assert!(pages.len() >= 2, "{}", pages.len());
        assert!(pages.iter().flatten().all(|l| l.y >= MARGIN_BOTTOM && l.y <= PAGE_HEIGHT - MARGIN_TOP));
        assert_eq!(pages.iter().map(Vec::len).sum::<usize>(), 80);
        let pdf = String::from_utf8_lossy(&render("t", &blocks)).into_owned();
        assert!(pdf.contains(&format!("/Count {}", pages.len())));
        assert!(pdf.contains(&ucs2_hex(&format!("第 2 页 共 {} 页", pages.len()))));
    }

    #[test]
    fn a_page_break_starts_a_page_and_centred_text_is_centred() {
        let pages = lay_out(&[Block::centred("一二", 10.0), Block::PageBreak, Block::right("三", 10.0)]);
        assert_eq!(pages.len(), 2);
        assert!((pages[0][0].x - (PAGE_WIDTH - 20.0) / 2.0).abs() < 0.01);
        assert!((pages[1][0].x - (PAGE_WIDTH - MARGIN_X - 10.0)).abs() < 0.01);
    }

    /// The cross-reference table points at each object, so readers find
    /// them without repairing the file.
    #[test]
    fn the_cross_reference_table_points_at_every_object() {
        let pdf = render("受理通知书", &[Block::text("受理通知书", 18.0), Block::text("编号：YCB-1", 12.0)]);
        let text = String::from_utf8_lossy(&pdf).into_owned();
        assert!(text.starts_with("%PDF-1.4\n"));
        assert!(text.ends_with("%%EOF\n"));
        let startxref: usize = text.rsplit("startxref\n").next().unwrap().lines().next().unwrap().parse().unwrap();
        assert!(pdf[startxref..].starts_with(b"xref\n"));
        let table = &text[text.find("xref\n0 ").unwrap()..];
        let count: usize = table.lines().nth(1).unwrap().split(' ').nth(1).unwrap().parse().unwrap();
        for (n, line) in table.lines().skip(3).take(count - 1).enumerate() {
            let offset: usize = line[..10].parse().unwrap();
            assert!(pdf[offset..].starts_with(format!("{} 0 obj\n", n + 1).as_bytes()), "object {}", n + 1);
        }
        // Each stream's length is its content's.
        for (at, _) in text.match_indices("/Length ") {
            let length: usize = text[at + 8..].split(' ').next().unwrap().parse().unwrap();
            let start = at + text[at..].find("stream\n").unwrap() + 7;
            assert_eq!(&text[start + length..start + length + 9], "endstream");
        }
        assert!(text.contains(&ucs2_hex("受理通知书")));
    }
}
