//! Who a message goes to: the case's number, package and applicant's phone,
//! asked of intake (`IntakeService.GetCase`, in clear) as the `notifier`
//! service with its purpose stated, so that intake's read log records every
//! look-up (ADR 0025). Nothing of the answer is kept but what the message
//! record holds (the number, the package, the masked phone).

use tonic::Code;
use uuid::Uuid;
use yiciban_platform::service::ServiceChannel;
use yiciban_proto::intake::v1::GetCaseRequest;
use yiciban_proto::intake::v1::intake_service_client::IntakeServiceClient;

/// The purpose the notifier states for each look-up.
pub const PURPOSE: &str = "办件进度短信：向申请人发送受理、补正、办结、领取或邮寄通知 (notifier)";

/// What a message needs of its case.
#[derive(Clone, PartialEq, Eq)]
pub struct Recipient {
    pub case_number: String,
    pub package_id: String,
    /// The phone on file, as intake has it; empty when there is none.
    pub phone: String,
    /// The applicant's personal data was erased: nobody is told anything.
    pub erased: bool,
}

impl std::fmt::Debug for Recipient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recipient")
            .field("case_number", &self.case_number)
            .field("package_id", &self.package_id)
            .field("phone", &crate::phone::mask(&self.phone))
            .field("erased", &self.erased)
            .finish()
    }
}

/// Why the case could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Intake knows no such case: it will not come.
    #[error("intake knows no case {0}")]
    Unknown(Uuid),
    /// Intake did not answer now (down, refused, overloaded): ask again.
    #[error("intake could not be asked for the case: {0}")]
    Unavailable(String),
}

/// Intake, asked as the notifier.
#[derive(Debug, Clone)]
pub struct Recipients {
    intake: IntakeServiceClient<ServiceChannel>,
}

impl Recipients {
    pub fn new(intake: ServiceChannel) -> Self {
        Recipients { intake: IntakeServiceClient::new(intake) }
    }

    /// The recipient of case `case_id`'s messages.
    #[tracing::instrument(skip_all, fields(case_id = %case_id), err)]
    pub async fn of_case(&self, case_id: Uuid) -> Result<Recipient, LookupError> {
        let request = yiciban_platform::read_log::purpose(
            GetCaseRequest { case_id: case_id.to_string(), without_personal_data: false },
            PURPOSE,
        );
        let case = match self.intake.clone().get_case(request).await {
            Ok(answer) => answer.into_inner().case,
            Err(s) if s.code() == Code::NotFound => return Err(LookupError::Unknown(case_id)),
            Err(s) => return Err(LookupError::Unavailable(format!("{:?}: {}", s.code(), s.message()))),
        };
        let case = case.ok_or(LookupError::Unknown(case_id))?;
        Ok(Recipient {
            case_number: case.case_number,
            package_id: case.package_id,
            phone: case.applicant.map(|a| a.phone).unwrap_or_default(),
            erased: case.personal_data_erased,
        })
    }
}
