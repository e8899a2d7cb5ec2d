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

use chrono::NaiveDate;
use tonic::Status;
use yiciban_domain::reporting::ReportPeriod;
use yiciban_platform::status::internal;

use crate::catalog::Catalog;
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
    /// The first month whose report is owed (`YICIBAN_REPORTS_FROM`).
    pub reports_from: Option<ReportPeriod>,
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

    /// Everything an assessment of `from`..=`to` measures on `today`:
    /// tracking's items, the complaints upheld that were received in the
    /// period, and the reports due in it by the departments of `catalog`.
    pub async fn sources(
        &self,
        from: ReportPeriod,
        to: ReportPeriod,
        today: NaiveDate,
        catalog: &dyn Catalog,
    ) -> Result<Sources, Status> {
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
        let reports = self.reports_due(from, to, today, catalog).await?;
        Ok(Sources { items, complaints, reports })
    }

    /// The monthly reports due in `from`..=`to` by `today` — every catalog
    /// department's report of each month whose 15th has passed — and
    /// whether each was submitted by then (ADR 0039). A month still within
    /// its deadline owes nothing yet. `UNAVAILABLE` while the catalog cannot
    /// list its departments.
    async fn reports_due(
        &self,
        from: ReportPeriod,
        to: ReportPeriod,
        today: NaiveDate,
        catalog: &dyn Catalog,
    ) -> Result<Vec<ReportDue>, Status> {
        let mut months = Vec::new();
        let mut month = from;
        while month <= to {
            if crate::reports::deadline::owed(month, today, self.reports_from) {
                months.push(month);
            }
            month = month.next();
        }
        if months.is_empty() {
            return Ok(Vec::new());
        }
        let departments = catalog.departments().await?;
        let mut due = Vec::new();
        for month in months {
            let rows = crate::reports::rows::of_month(self.pool(), self.schema(), &month.to_string())
                .await
                .map_err(|e| internal("reading the monthly reports", &e))?;
            due.extend(measure::reports_of_month(month, departments.iter().map(|(code, _)| code.as_str()), &rows));
        }
        Ok(due)
    }
}
