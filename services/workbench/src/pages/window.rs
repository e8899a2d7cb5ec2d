//! `/cases/{case}/handout`: the window's hand-out (一窗出件) and the rating
//! taken there (好差评), from IssuanceService.GetIssuance — each batch with
//! its documents and the form its state calls for (tell the applicant, hand
//! it over with the collector checked, mail it, record its delivery), the
//! ratings given, and the rating form once a batch was delivered and the
//! window has not rated yet. The collector's ID number is never shown back.

use askama::Template;
use yiciban_proto::common::v1::{Channel, CollectorKind, DeliveryMethod};
use yiciban_proto::issuance::v1::{Batch, BatchState, Issuance};

use super::decide::Sent;
use super::{Layout, format};
use crate::Names;

/// The indicators the window's rating form offers (好差评 的评价指标).
pub const INDICATORS: [&str; 3] = ["办事效率", "服务态度", "办事便利"];

/// Which form a batch offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAction {
    Notify,
    Pickup,
    Mailing,
    Delivery,
}

impl BatchAction {
    /// The form's path segment.
    pub fn segment(self) -> &'static str {
        match self {
            BatchAction::Notify => "notify",
            BatchAction::Pickup => "pickup",
            BatchAction::Mailing => "mailing",
            BatchAction::Delivery => "delivery",
        }
    }

    /// The input a violation of `field` goes next to.
    pub fn input_of(self, field: &str) -> Option<String> {
        let input = match field {
            "collector.kind" => "kind",
            "collector.name" => "name",
            "collector.id_number" => "id_number",
            "collector.power_of_attorney" => "power_of_attorney",
            "receipt" => "receipt",
            "channel" => "channel",
            "pickup_location" => "pickup_location",
            "pickup_by" => "pickup_by",
            "courier" => "courier",
            "tracking_number" => "tracking_number",
            _ => return None,
        };
        Some(input.to_owned())
    }
}

/// A refused form of the page: which and what was sent.
#[derive(Debug, Clone)]
pub enum Attempt {
    Batch(u32, BatchAction, Sent),
    Rating(Sent),
}

/// One batch and its form.
#[derive(Debug, Clone)]
pub struct BatchView {
    pub number: u32,
    pub method: &'static str,
    pub state: &'static str,
    pub final_batch: bool,
    pub documents: Vec<String>,
    pub issue_by: String,
    pub delivered_at: String,
    pub collector: &'static str,
    pub tracking_number: String,
    /// The forms offered now, each with a fresh key and what was sent.
    pub forms: Vec<BatchForm>,
}

/// One form of a batch.
#[derive(Debug, Clone)]
pub struct BatchForm {
    pub action: BatchAction,
    /// `notify`, `pickup`, `mailing`, `delivery`.
    pub segment: &'static str,
    pub key: String,
    pub sent: Sent,
}

impl BatchView {
    fn new(b: &Batch, names: &Names, key: &mut impl FnMut() -> String) -> BatchView {
        let state = BatchState::try_from(b.state).unwrap_or(BatchState::Unspecified);
        let window = b.method == DeliveryMethod::WindowPickup as i32;
        let actions: &[BatchAction] = match (window, state) {
            (true, BatchState::Prepared) => &[BatchAction::Notify, BatchAction::Pickup],
            (true, BatchState::Notified | BatchState::DeliveryFailed) => &[BatchAction::Pickup],
            (false, BatchState::Prepared | BatchState::DeliveryFailed) => &[BatchAction::Mailing],
            (false, BatchState::Mailed) => &[BatchAction::Delivery],
            _ => &[],
        };
        BatchView {
            number: b.batch_number,
            method: if window { "窗口领取" } else { "邮寄送达" },
            state: batch_state(state),
            final_batch: b.final_batch,
            documents: b
                .documents
                .iter()
                .map(|d| {
                    let number = if d.number.is_empty() { String::new() } else { format!("（{}）", d.number) };
                    format!("{}{number} · {}", d.name, names.department(&d.issuing_department))
                })
                .collect(),
            issue_by: format::date(b.issue_by.as_ref()),
            delivered_at: format::timestamp(b.delivered_at.as_ref()),
            collector: match CollectorKind::try_from(b.collector_kind).unwrap_or(CollectorKind::Unspecified) {
                CollectorKind::Applicant => "申请人本人",
                CollectorKind::Agent => "委托代理人",
                CollectorKind::Unspecified => "",
            },
            tracking_number: b.tracking_number.clone(),
            forms: actions
                .iter()
                .map(|a| BatchForm { action: *a, segment: a.segment(), key: key(), sent: Sent::default() })
                .collect(),
        }
    }
}

fn batch_state(state: BatchState) -> &'static str {
    match state {
        BatchState::Prepared => "待出件",
        BatchState::Notified => "已通知领取",
        BatchState::Mailed => "已寄出",
        BatchState::DeliveryFailed => "投递失败",
        BatchState::Delivered => "已送达",
        BatchState::Unspecified => "未知",
    }
}

/// A rating given.
#[derive(Debug, Clone)]
pub struct RatingView {
    pub score: u32,
    pub channel: &'static str,
    pub department: String,
    pub comment: String,
    pub indicators: String,
    pub real_name: bool,
    pub rated_at: String,
    pub invalid: bool,
}

/// The rating form.
#[derive(Debug, Clone)]
pub struct RatingForm {
    pub key: String,
    pub sent: Sent,
    /// Departments that may be rated (code, name): those whose results
    /// the batches carry.
    pub departments: Vec<(String, String)>,
}

/// The hand-out page.
#[derive(Debug, Template)]
#[template(path = "handout.html")]
pub struct HandoutPage {
    pub layout: Layout,
    pub case_id: String,
    pub case_number: String,
    pub closed: bool,
    pub closed_on: String,
    pub version: u64,
    pub batches: Vec<BatchView>,
    pub ratings: Vec<RatingView>,
    pub rating: Option<RatingForm>,
    pub indicators: [&'static str; 3],
    pub max_file: String,
    /// The confirmation after a done form.
    pub flash: Option<&'static str>,
    /// Why there is nothing (issuance's words), when nothing was issued.
    pub nothing: Option<String>,
}

impl HandoutPage {
    /// The page of `issuance` (`Err`: issuance's words why there is none).
    pub fn new(
        layout: Layout,
        case_id: &str,
        issuance: Result<&Issuance, String>,
        names: &Names,
        max_file: u64,
        flash: Option<&'static str>,
        attempt: Option<Attempt>,
    ) -> HandoutPage {
        let mut key = yiciban_platform::auth::pkce::random_token;
        let mut page = HandoutPage {
            layout,
            case_id: case_id.to_owned(),
            case_number: String::new(),
            closed: false,
            closed_on: String::new(),
            version: 0,
            batches: Vec::new(),
            ratings: Vec::new(),
            rating: None,
            indicators: INDICATORS,
            max_file: format::size(max_file),
            flash,
            nothing: None,
        };
        let issuance = match issuance {
            Ok(i) => i,
            Err(why) => {
                page.nothing = Some(why);
                return page;
            }
        };
        page.case_number = issuance.case_number.clone();
        page.closed = issuance.closed;
        page.closed_on = format::date(issuance.closed_on.as_ref());
        page.version = issuance.version;
        page.batches = issuance.batches.iter().map(|b| BatchView::new(b, names, &mut key)).collect();
        page.ratings = issuance
            .ratings
            .iter()
            .map(|r| RatingView {
                score: r.score,
                channel: match Channel::try_from(r.channel).unwrap_or(Channel::Unspecified) {
                    Channel::Window => "窗口评价器",
                    Channel::Online => "网上",
                    Channel::Hotline => "12345热线",
                    _ => "其他",
                },
                department: if r.department.is_empty() { "整件".to_owned() } else { names.department(&r.department) },
                comment: r.comment.clone(),
                indicators: r
                    .indicators
                    .iter()
                    .map(|i| format!("{} {}", i.name, i.score))
                    .collect::<Vec<_>>()
                    .join("，"),
                real_name: r.real_name,
                rated_at: format::timestamp(r.rated_at.as_ref()),
                invalid: r.invalid,
            })
            .collect();
        let delivered = issuance.batches.iter().any(|b| b.state == BatchState::Delivered as i32);
        let window_rated = issuance.ratings.iter().any(|r| r.channel == Channel::Window as i32);
        if delivered && !window_rated {
            let mut departments: Vec<(String, String)> = Vec::new();
            for d in issuance.batches.iter().flat_map(|b| &b.documents) {
                if !d.issuing_department.is_empty() && !departments.iter().any(|(c, _)| *c == d.issuing_department) {
                    departments.push((d.issuing_department.clone(), names.department(&d.issuing_department)));
                }
            }
            page.rating = Some(RatingForm { key: key(), sent: Sent::default(), departments });
        }
        match attempt {
            Some(Attempt::Batch(number, action, sent)) => {
                let form = page
                    .batches
                    .iter_mut()
                    .filter(|b| b.number == number)
                    .flat_map(|b| b.forms.iter_mut())
                    .find(|f| f.action == action);
                if let Some(form) = form {
                    form.sent = sent;
                }
            }
            Some(Attempt::Rating(sent)) => {
                if let Some(rating) = page.rating.as_mut() {
                    rating.sent = sent;
                }
            }
            None => {}
        }
        page
    }
}
