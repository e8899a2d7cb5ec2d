//! Working days (工作日) and the case clock, as pure values: the calendar of
//! public holidays and make-up working days (调休), deadline arithmetic on it,
//! and the pausable [`CaseClock`] of a case or task (stopped during 补正).
//!
//! # Semantics
//!
//! - **Time zone.** Every day is a calendar date in China Standard Time
//!   (UTC+08:00, a fixed offset, no daylight saving). Instants are
//!   `DateTime<Utc>`; an instant belongs to the date it has at +08:00.
//! - **Working day.** A date is a working day if the calendar lists it under
//!   `workdays` (a make-up working day, even on a weekend), or it is Monday to
//!   Friday and not listed under `holidays`.
//! - **Published years.** The calendar knows the years its data lists: the
//!   embedded seed (2025–2026) and whatever an administrator publishes at run
//!   time ([`CalendarYear`], [`WorkingCalendar::with_year`]). Dates in
//!   any other year count weekends only, and every answer that depended on such
//!   a date comes back as an [`Answer`] with `beyond_published = true`.
//! - **Working time is continuous.** Only the seconds that fall on working days
//!   count, each working day being a full 24 hours (00:00 to 24:00 +08:00).
//!   [`WorkingTime`] measures it; one working day is 86 400 such seconds.
//! - **The start day does not count.** As in the Administrative Licensing Law,
//!   a time limit runs from the day after it starts: counting begins at 00:00
//!   +08:00 of the day after the start instant. So a limit of N working days
//!   started at `t` ends at 24:00 +08:00 of the N-th working day after `t`'s
//!   date (N = 0: at 24:00 of `t`'s own date).
//! - **Deadlines are exclusive ends.** A deadline is the first instant at which
//!   the limit is used up (24:00 of the last day, which is 00:00 of the next
//!   date); anything strictly before it is on time.
//! - **Shares.** A [`Share`] of a limit (yellow warning at 0.8, say) is the
//!   instant at which that fraction of the limit's working time, rounded to the
//!   second, is used: 0.8 of 5 days is the end of the 4th working day, 0.8 of 3
//!   days is 2.4 days, i.e. 09:36 +08:00 on the 3rd working day.
//! - **The clock.** A [`CaseClock`] counts the working time of its running
//!   intervals only (from its start and from each resume to the next stop);
//!   the start-day rule applies to the start, a resume counts from the resume
//!   instant itself.

#![forbid(unsafe_code)]

mod answer;
mod calendar;
mod clock;
mod working_time;
mod year;

pub use answer::Answer;
pub use calendar::{CalendarError, WorkingCalendar};
pub use clock::{CaseClock, ClockError, Suspension};
pub use working_time::{Share, WorkingTime, china_offset, date_in_china, start_of_day};
pub use year::{CalendarYear, DateList, PUBLISHABLE_YEARS, YearProblem};
