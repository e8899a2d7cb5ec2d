//! Drafts of catalog changes (ADR 0017): a department drafts a package (new or
//! changed) or its retirement, the package's lead department reviews it, and
//! the publishing office publishes approved drafts as a new catalog version.
//! The rules of who may do what, the life of a draft, and applying drafts to
//! a catalog file — pure, no I/O.

use serde_json::Value;

use super::{Catalog, CatalogError};

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftStatus {
    /// Being written by its department; may be saved again.
    Draft,
    /// Handed to the lead department for review.
    Submitted,
    /// Approved by the lead department: waiting for publication.
    Approved,
    /// Sent back by the lead department with a note; may be saved again.
    Rejected,
    /// Part of a published catalog version. Final.
    Published,
    /// Given up. Final.
    Withdrawn,
}

impl DraftStatus {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Draft => "draft",
            DraftStatus::Submitted => "submitted",
            DraftStatus::Approved => "approved",
            DraftStatus::Rejected => "rejected",
            DraftStatus::Published => "published",
            DraftStatus::Withdrawn => "withdrawn",
        }
    }

    /// The status named `name`.
    pub fn parse(name: &str) -> Option<DraftStatus> {
        [Self::Draft, Self::Submitted, Self::Approved, Self::Rejected, Self::Published, Self::Withdrawn]
            .into_iter()
            .find(|s| s.as_str() == name)
    }

    /// Not yet published or withdrawn: a package has at most one open draft.
    pub fn is_open(self) -> bool {
        !matches!(self, DraftStatus::Published | DraftStatus::Withdrawn)
    }
}

/// What a draft does to its package.
#[derive(Debug, Clone, PartialEq)]
pub enum DraftChange {
    /// Adds the package, or replaces it: the package object of a catalog file.
    Package(Value),
    /// Removes the package from the catalog (退出目录).
    Retire,
}

/// What is done to a draft.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DraftAction {
    Save,
    Submit,
    Approve,
    Reject,
    Withdraw,
    Publish,
}

/// Why an action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// The action does not apply in the draft's status.
    #[error("a {} draft cannot be {}", .status.as_str(), action_done(*.action))]
    WrongStatus { status: DraftStatus, action: DraftAction },
    /// The reviewer drafted it (four eyes: someone else of the lead department reviews).
    #[error("the drafter may not review their own draft; another agent of the lead department reviews it")]
    OwnDraft,
}

fn action_done(action: DraftAction) -> &'static str {
    match action {
        DraftAction::Save => "saved",
        DraftAction::Submit => "submitted for review",
        DraftAction::Approve => "approved",
        DraftAction::Reject => "rejected",
        DraftAction::Withdraw => "withdrawn",
        DraftAction::Publish => "published",
    }
}

/// The status after `action` on a draft in `status`.
pub fn next_status(status: DraftStatus, action: DraftAction) -> Result<DraftStatus, DraftError> {
    use DraftAction as A;
    use DraftStatus as S;
    match (status, action) {
        (S::Draft | S::Rejected, A::Save) => Ok(S::Draft),
        (S::Draft | S::Rejected, A::Submit) => Ok(S::Submitted),
        (S::Submitted, A::Approve) => Ok(S::Approved),
        (S::Submitted, A::Reject) => Ok(S::Rejected),
        (S::Approved, A::Publish) => Ok(S::Published),
        (S::Draft | S::Submitted | S::Approved | S::Rejected, A::Withdraw) => Ok(S::Withdrawn),
        (status, action) => Err(DraftError::WrongStatus { status, action }),
    }
}

/// Checks the four-eyes rule of a review: the reviewer is not the drafter.
pub fn check_reviewer(drafted_by: &str, reviewer: &str) -> Result<(), DraftError> {
    if drafted_by == reviewer { Err(DraftError::OwnDraft) } else { Ok(()) }
}

/// The catalog file `base` with `changes` applied (each `(package id,
/// change)` in order: a package replaced in place or appended, or removed)
/// under the version `version`, checked as a whole: every problem of the
/// result is in the error.
pub fn apply(base: &str, changes: &[(String, DraftChange)], version: &str) -> Result<(String, Catalog), CatalogError> {
    let mut file: Value = serde_json::from_str(base)?;
    file["version"] = Value::String(version.to_owned());
    if !file["packages"].is_array() {
        file["packages"] = Value::Array(Vec::new());
    }
    let packages = file["packages"].as_array_mut().expect("made an array above");
    for (id, change) in changes {
        let at = packages.iter().position(|p| p["id"] == id.as_str());
        match (change, at) {
            (DraftChange::Package(package), Some(i)) => packages[i] = package.clone(),
            (DraftChange::Package(package), None) => packages.push(package.clone()),
            (DraftChange::Retire, Some(i)) => {
                packages.remove(i);
            }
            (DraftChange::Retire, None) => {}
        }
    }
    let text = serde_json::to_string_pretty(&file)?;
    let catalog = Catalog::from_json(&text)?;
    Ok((text, catalog))
}

#[cfg(test)]
mod tests {
    use super::super::SEED_JSON;
    use super::*;

    fn seed_package(id: &str) -> Value {
        let file: Value = serde_json::from_str(SEED_JSON).unwrap();
        file["packages"].as_array().unwrap().iter().find(|p| p["id"] == id).unwrap().clone()
    }

    #[test]
    fn a_draft_goes_from_draft_to_published_through_review() {
        let mut status = DraftStatus::Draft;
        for action in [DraftAction::Save, DraftAction::Submit, DraftAction::Approve, DraftAction::Publish] {
            status = next_status(status, action).unwrap();
        }
        assert_eq!(status, DraftStatus::Published);
        assert!(!status.is_open());
    }

    #[test]
    fn a_rejected_draft_is_saved_again_and_a_submitted_one_is_not_edited() {
        let rejected = next_status(DraftStatus::Submitted, DraftAction::Reject).unwrap();
        assert_eq!(next_status(rejected, DraftAction::Save).unwrap(), DraftStatus::Draft);
        assert_eq!(
            next_status(DraftStatus::Submitted, DraftAction::Save).unwrap_err().to_string(),
            "a submitted draft cannot be saved"
        );
        assert!(next_status(DraftStatus::Draft, DraftAction::Publish).is_err(), "only approved drafts are published");
        assert!(next_status(DraftStatus::Published, DraftAction::Withdraw).is_err());
    }

    #[test]
    fn nobody_reviews_their_own_draft() {
        assert_eq!(check_reviewer("agent-samr-1", "agent-samr-1"), Err(DraftError::OwnDraft));
        assert_eq!(check_reviewer("agent-samr-1", "agent-samr-2"), Ok(()));
    }

    #[test]
    fn drafts_replace_add_and_retire_packages_and_the_result_is_checked_whole() {
        let mut changed = seed_package("newborn-birth");
        changed["name"] = Value::String("出生一件事（新）".into());
        let mut added = seed_package("newborn-birth");
        added["id"] = Value::String("newborn-pilot".into());
        let changes = vec![
            ("newborn-birth".to_owned(), DraftChange::Package(changed)),
            ("newborn-pilot".to_owned(), DraftChange::Package(added)),
            ("open-restaurant".to_owned(), DraftChange::Retire),
        ];
        let (_, catalog) = apply(SEED_JSON, &changes, "2026.3").unwrap();
        assert_eq!(catalog.version(), "2026.3");
        assert_eq!(catalog.package("newborn-birth").unwrap().name, "出生一件事（新）");
        assert!(catalog.package("newborn-pilot").is_some());
        assert!(catalog.package("open-restaurant").is_none());

        let mut broken = seed_package("newborn-birth");
        broken["lead_department"] = Value::String("nowhere".into());
        let err = apply(SEED_JSON, &[("newborn-birth".to_owned(), DraftChange::Package(broken))], "2026.3");
        assert!(err.unwrap_err().to_string().contains("unknown department \"nowhere\""));
    }
}
