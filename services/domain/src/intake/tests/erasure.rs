//! Recording an erasure: once per case, on any case, and the state forgets
//! the applicant while keeping the case's facts.

use super::*;

fn record(basis: ErasureBasis) -> Command {
    Command::RecordErasure(RecordErasure { basis, materials_deleted: 2 })
}

#[test]
fn an_erasure_is_recorded_once_and_the_state_keeps_the_facts_without_the_person() {
    let events = restaurant_owing(&["m_site_layout"]);
    let state = given(events.clone()).when(record(ErasureBasis::Request)).then(vec![Event::PersonalDataErased(
        PersonalDataErased { basis: ErasureBasis::Request, materials_deleted: 2 },
    )]);
    assert!(state.personal_data_erased && state.erasure_recorded);
    assert!(state.applicant.is_none() && state.form_data.is_empty() && state.delivery.is_none());
    assert_eq!(state.status, Status::AcceptedWithDeficiency);
    assert_eq!(state.applicant_kind, Some(ApplicantKind::Company));
    assert!(!state.data_subject.is_empty(), "the subject stays: the erasure is looked up by it");

    let mut erased_twice = events;
    erased_twice
        .push(Event::PersonalDataErased(PersonalDataErased { basis: ErasureBasis::Request, materials_deleted: 0 }));
    given(erased_twice).when(record(ErasureBasis::Retention)).then_nothing();
}

#[test]
fn an_application_read_back_erased_keeps_its_facts_and_can_still_record_the_erasure() {
    let mut events = submitted(newborn(), CreditStatus::Good);
    let Event::ApplicationSubmitted(submitted) = &mut events[0] else { unreachable!() };
    submitted.personal = Personal::Erased;
    let state = given(events.clone()).when(record(ErasureBasis::Retention)).then(vec![Event::PersonalDataErased(
        PersonalDataErased { basis: ErasureBasis::Retention, materials_deleted: 2 },
    )]);
    assert!(state.applicant.is_none());
    assert_eq!(state.status, Status::Accepted);
    assert!(state.accepted_on.is_some());
}

#[test]
fn there_is_nothing_to_erase_in_a_case_never_submitted() {
    given(vec![]).when(record(ErasureBasis::Request)).then_error(DomainError::NoSuchCase);
}

#[test]
fn an_erasure_basis_is_named_and_read_back() {
    for basis in [ErasureBasis::Request, ErasureBasis::Retention] {
        assert_eq!(ErasureBasis::parse(basis.as_str()), Some(basis));
    }
    assert_eq!(ErasureBasis::parse("order"), None);
}
