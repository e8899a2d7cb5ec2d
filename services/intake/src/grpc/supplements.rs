//! What a supplement answers: the open supplement request of one of the
//! case's tasks, looked up in the department-task service.

use yiciban_proto::common::v1 as common;
use yiciban_proto::tasks::v1 as tasks;

use crate::process_manager::TasksClient;

/// The open supplement request `request_id` of a case, looked up in the task
/// service: `FAILED_PRECONDITION` when no task of the case waits on it.
pub async fn open_supplement_request(
    tasks: &TasksClient,
    case_id: &str,
    request_id: &str,
) -> Result<yiciban_domain::intake::OpenSupplementRequest, tonic::Status> {
    let listed = tasks
        .clone()
        .list_case_tasks(tasks::ListCaseTasksRequest { case_id: case_id.to_owned() })
        .await
        .map_err(|s| {
            tonic::Status::unavailable(format!(
                "the department-task service could not be asked about supplement request {request_id}: {}; try again",
                s.message()
            ))
        })?
        .into_inner();
    let task = listed
        .tasks
        .into_iter()
        .find(|t| {
            t.supplement_request_id == request_id && t.state == common::TaskState::WaitingForSupplement as i32
        })
        .ok_or_else(|| {
            tonic::Status::failed_precondition(format!(
                "no task of case {case_id} waits on supplement request {request_id}; check the request id on the notice (补正通知书)"
            ))
        })?;
    let material_ids = task
        .supplement_items
        .iter()
        .filter(|i| !i.material_id.is_empty())
        .filter_map(|i| yiciban_domain::values::MaterialId::parse(&i.material_id).ok())
        .collect();
    Ok(yiciban_domain::intake::OpenSupplementRequest {
        request_id: request_id.to_owned(),
        task_id: task.task_id,
        item_code: task.item_code,
        department: task.department,
        material_ids,
    })
}
