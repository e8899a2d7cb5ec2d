//! The notice of [`super::notice`] as a PDF file (`/cases/{case}/notice.pdf`):
//! the same view model, the same words as the printed page — 受理通知书
//! with the 一次性告知书 on its own page when something is owed, or
//! 不予受理通知书 with every reason and the legal remedy.

use super::notice::{Kind, NoticePage};
use crate::pdf::{self, Block};

const TITLE: f32 = 20.0;
const BODY: f32 = 12.0;
const SMALL: f32 = 10.5;

impl NoticePage {
    /// The file's name: the notice's title and the case number.
    pub fn pdf_file_name(&self) -> String {
        format!("{}-{}.pdf", self.kind.title(), self.case_number)
    }

    /// The notice as a PDF; `None` while intake has not decided.
    pub fn pdf(&self) -> Option<Vec<u8>> {
        let blocks = match self.kind {
            Kind::Accepted | Kind::AcceptedWithDeficiency => {
                let mut blocks = self.accepted();
                if !self.owed.is_empty() {
                    blocks.push(Block::PageBreak);
                    blocks.extend(self.owed_notice());
                }
                blocks
            }
            Kind::NotAccepted => self.not_accepted(),
            Kind::Undecided => return None,
        };
        Some(pdf::render(&format!("{} {}", self.kind.title(), self.case_number), &blocks))
    }

    fn head(&self, title: &str, number: &str) -> Vec<Block> {
        vec![
            Block::centred(&self.centre, BODY),
            Block::Gap(6.0),
            Block::centred(title, TITLE),
            Block::right(format!("编号：{number}"), SMALL),
            Block::Gap(8.0),
            Block::text(format!("{}：", self.applicant), BODY),
        ]
    }

    fn accepted(&self) -> Vec<Block> {
        let mut blocks = self.head("受理通知书", &self.notice_number);
        let deficiency = if self.kind == Kind::AcceptedWithDeficiency { "容缺" } else { "" };
        blocks.push(Block::text(
            format!(
                "\u{3000}\u{3000}你（单位）于 {} 提出的“{}”申请，经审查，符合受理条件，本中心决定{deficiency}受理。",
                self.submitted_on, self.package
            ),
            BODY,
        ));
        blocks.push(Block::Gap(6.0));
        for (label, value) in [
            ("办件编号", self.case_number.clone()),
            ("一件事", self.package.clone()),
            ("受理日期", self.accepted_on.clone()),
            ("承诺办结日期", format!("{}（{} 个工作日）", self.promised_by, self.promised_days)),
            ("结果领取", self.collect.clone()),
        ] {
            blocks.push(Block::text(format!("{label}：{value}"), BODY));
        }
        blocks.push(Block::Gap(6.0));
        blocks.push(Block::text("已收材料", BODY));
        if self.materials.is_empty() {
            blocks.push(Block::indented("无。", BODY, 24.0));
        }
        for (i, m) in self.materials.iter().enumerate() {
            blocks.push(Block::indented(format!("{}. {}（{}）", i + 1, m.name, m.file_name), BODY, 24.0));
        }
        if !self.commitments.is_empty() {
            blocks.push(Block::text("以告知承诺代替的材料", BODY));
            for (i, c) in self.commitments.iter().enumerate() {
                let line = format!("{}. {c}（申请人已签署承诺，部门将事后核查）", i + 1);
                blocks.push(Block::indented(line, BODY, 24.0));
            }
        }
        blocks.push(Block::Gap(6.0));
        blocks.push(Block::text("可凭办件编号查询办理进度。", BODY));
        blocks.extend(self.contact_line());
        blocks.extend(self.signatures());
        blocks
    }

    fn owed_notice(&self) -> Vec<Block> {
        let mut blocks = self.head("一次性告知书", &format!("{}-YCGZ", self.case_number));
        blocks.push(Block::text(
            format!(
                "\u{3000}\u{3000}你（单位）申请的“{}”（办件编号 {}）已容缺受理。下列材料尚未提交，请在各自期限内（含当日）一次补齐；\
                 逾期未补齐的，本办件将被终止。",
                self.package, self.case_number
            ),
            BODY,
        ));
        blocks.push(Block::Gap(6.0));
        for (i, o) in self.owed.iter().enumerate() {
            blocks.push(Block::indented(format!("{}. {}（{} 前补齐）", i + 1, o.name, o.due_by), BODY, 24.0));
        }
        blocks.push(Block::Gap(6.0));
        blocks.extend(self.contact_line());
        blocks.extend(self.signatures());
        blocks
    }

    fn not_accepted(&self) -> Vec<Block> {
        let mut blocks = self.head("不予受理通知书", &self.notice_number);
        blocks.push(Block::text(
            format!(
                "\u{3000}\u{3000}你（单位）于 {} 提出的“{}”申请（办件编号 {}），经审查，因下列理由，本中心决定不予受理：",
                self.submitted_on, self.package, self.case_number
            ),
            BODY,
        ));
        blocks.push(Block::Gap(6.0));
        for (i, r) in self.reasons.iter().enumerate() {
            let about = if r.about.is_empty() { String::new() } else { format!("{}：", r.about) };
            blocks.push(Block::indented(format!("{}. {about}{}", i + 1, r.message), BODY, 24.0));
        }
        blocks.push(Block::Gap(6.0));
        blocks.push(Block::text(format!("\u{3000}\u{3000}{}", self.remedy), BODY));
        blocks.extend(self.contact_line());
        blocks.extend(self.signatures());
        blocks
    }

    /// 咨询电话 as on the printed page; nothing when the catalog could not say.
    fn contact_line(&self) -> Option<Block> {
        (!self.contact.is_empty()).then(|| Block::text(format!("咨询电话：{}", self.contact), BODY))
    }

    fn signatures(&self) -> Vec<Block> {
        let day = if self.accepted_on.is_empty() { &self.submitted_on } else { &self.accepted_on };
        vec![
            Block::Gap(28.0),
            Block::text("受理人（签字）：________________", BODY),
            Block::Gap(10.0),
            Block::text("申请人（签字）：________________", BODY),
            Block::Gap(24.0),
            Block::right(format!("{}（受理专用章）", self.centre), BODY),
            Block::right(day.clone(), BODY),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::Layout;
    use super::super::notice::{Owed, ReasonRow, Received};
    use super::*;

    fn page_of(kind: Kind) -> NoticePage {
        NoticePage {
            layout: Layout::default(),
            centre: "示例市政务服务中心".into(),
            kind,
            case_id: "c".into(),
            case_number: "YCB-20260929-000001".into(),
            notice_number: "YCB-20260929-000001-SL".into(),
            package: "新生儿出生一件事".into(),
            applicant: "王*".into(),
            submitted_on: "2026-09-29".into(),
            accepted_on: "2026-09-29".into(),
            promised_by: "2026-10-20".into(),
            promised_days: 10,
            materials: vec![Received { name: "出生医学证明".into(), file_name: "birth.pdf".into() }],
            commitments: vec![],
            owed: vec![Owed { name: "户口簿".into(), due_by: "2026-10-09".into() }],
            reasons: vec![ReasonRow { about: "申请人".into(), message: "身份证号码校验位不符".into() }],
            collect: "本中心综合窗口领取".into(),
            remedy: super::super::notice::REMEDY,
            contact: "0472-5163108（“一件事一次办”综合窗口）；全国政务服务便民热线 12345".into(),
            just_filed: false,
        }
    }

    fn has(pdf: &[u8], text: &str) -> bool {
        let hex: String = text.chars().map(|c| format!("{:04X}", u32::from(c))).collect();
        String::from_utf8_lossy(pdf).contains(&hex)
    }

    #[test]
    fn an_acceptance_with_something_owed_prints_both_notices_on_their_own_pages() {
        let pdf = page_of(Kind::AcceptedWithDeficiency).pdf().unwrap();
        for text in [
            "受理通知书",
            "本中心决定容缺受理",
            "一次性告知书",
            "户口簿",
            "出生医学证明",
            "YCB-20260929-000001",
            // (the line wraps after the desk)
            "咨询电话：0472-5163108（“一件事一次办”综合窗口）",
        ] {
            assert!(has(&pdf, text), "{text}");
        }
        assert!(String::from_utf8_lossy(&pdf).contains("/Count 2"));
    }

    #[test]
    fn a_non_acceptance_prints_every_reason_and_the_remedy() {
        let pdf = page_of(Kind::NotAccepted).pdf().unwrap();
        assert!(has(&pdf, "不予受理通知书"));
        assert!(has(&pdf, "申请人：身份证号码校验位不符"));
        assert!(has(&pdf, "行政复议"));
        assert!(has(&pdf, "咨询电话：0472-5163108"));
        assert!(!has(&pdf, "一次性告知书"));
    }

    #[test]
    fn a_notice_without_a_known_contact_prints_no_empty_phone_line() {
        let page = NoticePage { contact: String::new(), ..page_of(Kind::Accepted) };
        let pdf = page.pdf().unwrap();
        assert!(has(&pdf, "受理通知书") && !has(&pdf, "咨询电话"));
    }

    #[test]
    fn nothing_is_printed_before_intake_decides() {
        assert!(page_of(Kind::Undecided).pdf().is_none());
        assert_eq!(page_of(Kind::Accepted).pdf_file_name(), "受理通知书-YCB-20260929-000001.pdf");
    }
}
