//! The one-line summaries of timeline entries, in plain Chinese, for people:
//! who did what to which item ("市场监督管理局 agent-samr-1 认领 食品经营许可").
//! Built only from staff data, catalog names, dates and counts — never from
//! the applicant's name, ID number, phone, address or free-text comments.

use yiciban_proto::common::v1 as common;
use yiciban_proto::events::v1 as ev;

use super::Names;
use super::decode::{Decoded, EventInfo, Fact};
use super::view::CaseView;

/// The task an event is about, if any.
pub fn task_id_of(fact: &Fact) -> Option<&str> {
    Some(match fact {
        Fact::StepDispatched(e) => &e.task_id,
        Fact::StepOutcomeRecorded(e) => &e.task_id,
        Fact::StepCancelled(e) => &e.task_id,
        Fact::TaskCreated(e) => &e.task_id,
        Fact::TaskClaimed(e) => &e.task_id,
        Fact::TaskTransferred(e) => &e.task_id,
        Fact::TaskApproved(e) => &e.task_id,
        Fact::TaskDenied(e) => &e.task_id,
        Fact::TaskReturnedForSupplement(e) => &e.task_id,
        Fact::TaskResumed(e) => &e.task_id,
        Fact::TaskWarned(e) => &e.task_id,
        Fact::TaskEscalated(e) => &e.task_id,
        Fact::TaskCancelled(e) => &e.task_id,
        Fact::PostCheckPassed(e) => &e.task_id,
        Fact::PostCheckFailed(e) => &e.task_id,
        Fact::ApprovalRevoked(e) => &e.task_id,
        Fact::TaskUrged(e) => &e.task_id,
        _ => return None,
    })
}

fn date(d: &Option<common::Date>) -> String {
    d.and_then(|d| chrono::NaiveDate::try_from(d).ok()).map(|d| d.to_string()).unwrap_or_else(|| "—".to_owned())
}

/// Who acted, as people read it: "申请人", "系统", or the staff login after
/// its department or role.
fn who(info: &EventInfo, names: &Names) -> String {
    match common::Role::try_from(info.actor_role).unwrap_or(common::Role::Unspecified) {
        common::Role::Applicant => "申请人".to_owned(),
        common::Role::Service | common::Role::Unspecified => "系统".to_owned(),
        role => {
            let place = if !info.actor_department.is_empty() {
                names.department(&info.actor_department).to_owned()
            } else {
                match role {
                    common::Role::Clerk => "综窗".to_owned(),
                    common::Role::Officer => "专人".to_owned(),
                    common::Role::Supervisor => "督查".to_owned(),
                    common::Role::Admin => "管理员".to_owned(),
                    _ => String::new(),
                }
            };
            if place.is_empty() { info.actor.clone() } else { format!("{place} {}", info.actor) }
        }
    }
}

fn cancel_reason(value: i32) -> &'static str {
    match common::TaskCancelReason::try_from(value).unwrap_or(common::TaskCancelReason::Unspecified) {
        common::TaskCancelReason::CaseWithdrawn => "申请人撤回",
        common::TaskCancelReason::CaseTerminated => "办件终止",
        common::TaskCancelReason::CaseDenied => "办件不予许可",
        common::TaskCancelReason::CreatedInError => "误派",
        common::TaskCancelReason::Unspecified => "未说明原因",
    }
}

fn outcome(value: i32) -> &'static str {
    match common::CaseOutcome::try_from(value).unwrap_or(common::CaseOutcome::Unspecified) {
        common::CaseOutcome::Approved => "准予",
        common::CaseOutcome::Denied => "不予许可",
        common::CaseOutcome::Unspecified => "未决定",
    }
}

fn method(value: i32) -> &'static str {
    match common::DeliveryMethod::try_from(value).unwrap_or(common::DeliveryMethod::Unspecified) {
        common::DeliveryMethod::WindowPickup => "窗口领取",
        common::DeliveryMethod::Mail => "邮寄送达",
        common::DeliveryMethod::Unspecified => "送达方式未定",
    }
}

fn on_time(on_time: bool) -> &'static str {
    if on_time { "按时" } else { "超期" }
}

/// The one-line summary of `event`, applied to `view` already.
pub fn summary(view: &CaseView, event: &Decoded, names: &Names) -> String {
    let info = &event.info;
    let by = who(info, names);
    let item = |task_id: &str| -> String {
        view.tasks
            .get(task_id)
            .map(|t| if t.item_name.is_empty() { t.item_code.clone() } else { t.item_name.clone() })
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "部门环节".to_owned())
    };
    // A plan event names its step's item by the catalog where the catalog
    // knows it: the task's own name may or may not have arrived yet (a
    // rebuild folds the plan's and the task's events in another order than
    // live), and the line must read the same either way.
    let plan_item = |task_id: &str| -> String {
        view.tasks.get(task_id).and_then(|t| names.item(&t.item_code)).map_or_else(|| item(task_id), str::to_owned)
    };
    let dept = |code: &str| names.department(code).to_owned();
    match &event.fact {
        Fact::ApplicationSubmitted(e) => {
            let package = names.package(&e.package_id).unwrap_or(&e.package_id);
            format!("{by} 提交申请：{package}（{}）", e.case_number)
        }
        Fact::ApplicationAccepted(e) => {
            let mut line =
                format!("{by} 受理申请，承诺{}个工作日内办结（{}前）", e.promised_working_days, date(&e.promised_by));
            if !e.deficiencies.is_empty() {
                line.push_str(&format!("，容缺受理{}项", e.deficiencies.len()));
            }
            if !e.commitments.is_empty() {
                line.push_str(&format!("，告知承诺{}项", e.commitments.len()));
            }
            line
        }
        Fact::ApplicationNotAccepted(e) => {
            let reasons: Vec<&str> = e.reasons.iter().map(|r| r.message.as_str()).collect();
            format!("{by} 不予受理：{}", reasons.join("；"))
        }
        Fact::OfficerAssigned(e) if e.previous_officer_id.is_empty() => {
            format!("指派专人 {}（{}）全程跟踪", e.officer_name, e.officer_id)
        }
        Fact::OfficerAssigned(e) => {
            format!("改由专人 {}（{}）跟踪，原专人 {}", e.officer_name, e.officer_id, e.previous_officer_id)
        }
        Fact::MaterialsSupplemented(e) if e.task_id.is_empty() => {
            format!("{by} 补交容缺材料{}份", e.materials.len())
        }
        // Named by the item the event carries (the same line in any arrival
        // order); an event recorded before it carried one, by the task.
        Fact::MaterialsSupplemented(e) => {
            let name = match names.item(&e.item_code) {
                Some(name) => name.to_owned(),
                None if !e.item_code.is_empty() => e.item_code.clone(),
                None => item(&e.task_id),
            };
            format!("{by} 为 {name} 补交补正材料{}份", e.materials.len())
        }
        Fact::DeficiencyCleared(e) => {
            let name = view
                .deficiencies
                .iter()
                .find(|d| d.material_id == e.material_id)
                .map_or(e.material_id.as_str(), |d| d.material_name.as_str());
            format!("容缺材料 {name} 已补齐，尚余{}项", e.remaining_deficiencies)
        }
        Fact::CaseTerminated(e) => {
            let reason = match e.reason() {
                common::TerminationReason::DeficiencyOverdue => "容缺材料逾期未补齐",
                common::TerminationReason::SupplementOverdue => "补正材料逾期未提交",
                common::TerminationReason::CommitmentUntrue => "承诺不实",
                common::TerminationReason::ApplicantCeased => "申请人死亡或主体注销",
                _ => "其他法定事由",
            };
            let basis = if e.legal_basis.is_empty() { String::new() } else { format!("（依据{}）", e.legal_basis) };
            format!("{by} 终止办件：{reason}{basis}")
        }
        Fact::ApplicationWithdrawn(_) => format!("{by} 撤回申请"),
        Fact::PersonalDataErased(e) => match e.basis() {
            ev::ErasureBasis::Retention => "申请人个人信息已删除（保存期限届满）".to_owned(),
            _ => format!("{by} 删除申请人个人信息（依申请）"),
        },
        Fact::CasePlanned(e) => format!(
            "制定联办方案：{}个环节，牵头部门 {}，承诺{}个工作日（{}前）",
            e.steps.len(),
            dept(&e.lead_department),
            e.promised_working_days,
            date(&e.promised_by)
        ),
        // The catalog's name of the item, whatever the task stream said
        // before or after: the same line in any arrival order.
        Fact::StepDispatched(e) => {
            let name = names.item(&e.item_code).map_or_else(|| item(&e.task_id), str::to_owned);
            format!("派发 {name} 至 {}", dept(&e.department))
        }
        Fact::StepOutcomeRecorded(e) => {
            let what = match e.outcome() {
                ev::StepOutcome::Approved => "准予",
                ev::StepOutcome::Denied => "不予许可",
                ev::StepOutcome::ReturnedForSupplement => "退回补正",
                ev::StepOutcome::Resumed => "恢复办理",
                ev::StepOutcome::Unspecified => "结果未明",
            };
            format!("联办方案记录 {}：{what}", plan_item(&e.task_id))
        }
        Fact::StepCancelled(e) => {
            format!("撤销 {} 的环节 {}：{}", dept(&e.department), plan_item(&e.task_id), cancel_reason(e.reason))
        }
        Fact::PlanEnded(e) => format!("联办方案终止：{}", cancel_reason(e.reason)),
        Fact::CaseClockStopped(e) => match e.reason() {
            ev::ClockStopReason::SpecialProcedure => "办件计时暂停：特别程序".to_owned(),
            _ => format!("办件计时暂停：{} 等待申请人补正", plan_item(&e.task_id)),
        },
        Fact::CaseClockResumed(e) => {
            format!("办件计时恢复（暂停{}个工作日），承诺期限顺延至{}", e.stopped_working_days, date(&e.promised_by))
        }
        Fact::CaseDecided(e) => {
            format!("办理决定：{}（用时{}个工作日，{}）", outcome(e.outcome), e.working_days_used, on_time(e.on_time))
        }
        Fact::CaseHandedToIssuance(e) => {
            format!("移交一窗出件：{}份文书，{}前出件", e.documents.len(), date(&e.issue_by))
        }
        Fact::TaskCreated(e) => format!(
            "{} 收到环节 {}（时限{}个工作日，{}前办结）",
            dept(&e.department),
            e.item_name,
            e.promised_working_days,
            date(&e.due_by)
        ),
        Fact::TaskClaimed(e) => format!("{by} 认领 {}", item(&e.task_id)),
        Fact::TaskTransferred(e) => format!("{by} 将 {} 转办给 {}", item(&e.task_id), e.to_assignee),
        Fact::TaskApproved(e) => {
            let document = e
                .result
                .as_ref()
                .filter(|d| !d.name.is_empty())
                .map(|d| format!("，出具{} {}", d.name, d.number))
                .unwrap_or_default();
            format!(
                "{by} 准予 {}{document}（用时{}个工作日，{}）",
                item(&e.task_id),
                e.working_days_used,
                on_time(e.on_time)
            )
        }
        Fact::TaskDenied(e) => {
            let basis = if e.legal_basis.is_empty() { String::new() } else { format!("（依据{}）", e.legal_basis) };
            format!("{by} 不予许可 {}{basis}", item(&e.task_id))
        }
        Fact::TaskReturnedForSupplement(e) => {
            format!("{by} 退回补正 {}：需补{}项，{}前提交", item(&e.task_id), e.items.len(), date(&e.due_by))
        }
        Fact::TaskResumed(e) => format!(
            "{} 补正已到，恢复办理（暂停{}个工作日，新期限{}）",
            item(&e.task_id),
            e.stopped_working_days,
            date(&e.due_by)
        ),
        Fact::TaskWarned(e) => {
            let card = if e.level == common::WarningLevel::Red as i32 { "红牌" } else { "黄牌" };
            format!(
                "{} {}：已用{}/{}个工作日，{}前办结",
                item(&e.task_id),
                card,
                e.working_days_used,
                e.promised_working_days,
                date(&e.due_by)
            )
        }
        Fact::TaskEscalated(e) => {
            format!("{} 超期{}个工作日，督办至 {}", item(&e.task_id), e.overdue_working_days, dept(&e.lead_department))
        }
        Fact::TaskCancelled(e) => format!("{} 已取消：{}", item(&e.task_id), cancel_reason(e.reason)),
        Fact::PostCheckPassed(e) => format!("{by} 事后核查通过 {}", item(&e.task_id)),
        Fact::PostCheckFailed(e) => format!("{by} 事后核查发现承诺不实 {}", item(&e.task_id)),
        Fact::ApprovalRevoked(e) => format!("{by} 撤销 {} 的许可 {}", item(&e.task_id), e.document_number),
        // The note stays out: it is free text (the department reads it on the task).
        Fact::TaskUrged(e) => format!("{by} 督办 {}（第{}次）", item(&e.task_id), e.urge_count),
        Fact::IssuancePrepared(e) => format!(
            "准备出件第{}批：{}份文书，{}{}",
            e.batch_number,
            e.documents.len(),
            method(e.method),
            if e.early { "（提前出件）" } else { "" }
        ),
        Fact::PickupNotified(e) => {
            format!("通知申请人领取第{}批：{}，{}前领取", e.batch_number, e.pickup_location, date(&e.pickup_by))
        }
        Fact::PickedUp(e) => {
            let collector = match e.collector.as_ref().map(|c| c.kind()) {
                Some(common::CollectorKind::Agent) => "委托代理人",
                _ => "申请人",
            };
            format!("第{}批已由{collector}在窗口领取", e.batch_number)
        }
        Fact::Mailed(e) => format!("第{}批已交{}邮寄", e.batch_number, e.courier),
        Fact::DeliveryFailed(e) => format!("第{}批邮寄未送达（第{}次）", e.batch_number, e.attempt),
        Fact::Delivered(e) => format!("第{}批已送达（{}）", e.batch_number, method(e.method)),
        Fact::CaseClosed(e) => format!(
            "办结：{}（用时{}/{}个工作日，{}）",
            outcome(e.outcome),
            e.working_days_used,
            e.promised_working_days,
            on_time(e.on_time)
        ),
        Fact::RatingReceived(e) => {
            let label = match e.score {
                1 => "非常不满意",
                2 => "不满意",
                3 => "基本满意",
                4 => "满意",
                _ => "非常满意",
            };
            format!("申请人评价：{}分（{label}）", e.score)
        }
        Fact::RectificationOpened(e) => {
            let source = match e.source() {
                common::RectificationSource::Complaint => "投诉",
                _ => "差评",
            };
            format!("因{source}开启整改，责任部门 {}，{}前完成", dept(&e.responsible_department), date(&e.due_by))
        }
        Fact::RectificationVerified(e) => {
            let finding = match e.finding() {
                common::RectificationFinding::JustifiedSimple => "立行立改",
                common::RectificationFinding::JustifiedComplex => "限期整改",
                common::RectificationFinding::NoLegalBasis => "解释说明",
                common::RectificationFinding::Unspecified => "待定",
            };
            format!("{by} 核实整改：{finding}")
        }
        Fact::RectificationRectified(_) => format!("{by} 整改完成"),
        Fact::RectificationExplained(_) => format!("{by} 已向申请人解释说明"),
        Fact::RectificationClosed(e) => {
            format!("整改关闭（申请人{}）", if e.applicant_satisfied { "满意" } else { "不满意" })
        }
        Fact::RatingMarkedInvalid(_) => format!("{by} 认定评价无效"),
        Fact::ReturnVisitSampled(e) => format!("抽中{}回访", e.period),
        Fact::ReturnVisitRecorded(e) if e.reached => format!("回访完成：{}分", e.score),
        Fact::ReturnVisitRecorded(_) => "回访未联系上申请人".to_owned(),
        Fact::Other => format!("{by} {}", info.event_type),
    }
}
