//! The assessment (考核) of departments and staff (ADR 0040): the office's
//! scoring rules, one version per change ([`store::RulesRunner`]); each run
//! measured from tracking's case items ([`items`]) and the office's own
//! upheld complaints and monthly reports ([`measure`]), scored by the rules
//! in force and recorded frozen with its evidence
//! ([`store::AssessmentRunner`]); its findings, finalisation and CSV
//! ([`csv`]).

pub mod csv;
pub mod items;
pub mod measure;
pub mod store;

use std::sync::Arc;

use tonic::Status;
use yiciban_domain::reporting::ReportPeriod;
use yiciban_platform::status::internal;

use measure::{ReportDue, Sources, UpheldComplaint};

/// What the assessment RPCs share.
#[derive(Debug)]
pub struct Assessments {
    /// The rule book's stream and rows.
    pub rules: store::RulesRunner,
    /// The assessments' streams and rows.
    pub runs: store::AssessmentRunner,
    /// Tracking's case items.
    pub items: Arc<dyn items::CaseItems>,
}

impl Assessments {
    /// The service's schema.
    pub fn schema(&self) -> &str {
        self.runs.store().schema()
    }

    /// The service's database.
    pub fn pool(&self) -> &sqlx::PgPool {
        self.runs.store().pool()
    }

    /// Everything an assessment of `from`..=`to` measures: tracking's
    /// items, the complaints upheld that were received in the period, and
    /// the reports due in it.
    pub async fn sources(&self, from: ReportPeriod, to: ReportPeriod) -> Result<Sources, Status> {
        let items = self.items.items(&from.to_string(), &to.to_string()).await?;
        let complaints = store::upheld_complaints(self.pool(), self.schema(), from.first_day(), to.next().first_day())
            .await
            .map_err(|e| internal("reading the complaints", &e))?
            .into_iter()
            .map(|o| UpheldComplaint {
                opinion_id: o.opinion_id,
                case_id: o.case_id,
                department: o.department,
                person: o.person,
            })
            .collect();
        Ok(Sources { items, complaints, reports: reports_due(from, to).await? })
    }
}

/// The monthly reports due in `from`..=`to` and whether each was submitted
/// by the 15th. TODO(reports): the monthly reports (`report-<id>`, issue 21
/// item 3) are not on this branch's main yet; until they are, no report is
/// due, so report punctuality is left out of every department's score (the
/// total is scaled over the other indicators) instead of given for nothing.
/// When they land, read their rows here (due: every department's report of
/// each month of the period whose 15th has passed; on time: submitted on or
/// before it).
async fn reports_due(_from: ReportPeriod, _to: ReportPeriod) -> Result<Vec<ReportDue>, Status> {
    Ok(Vec::new())
}
