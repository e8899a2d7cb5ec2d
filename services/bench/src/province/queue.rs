//! The simulation's machinery: a time-ordered event queue and a resource of
//! c identical servers with one first-come-first-served line, which keeps
//! its busy time (over the whole run and inside a measurement window) and
//! the waits of the jobs that joined its line inside the window.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// What happens at a scheduled time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Happening {
    /// The next command arrives.
    Arrival,
    /// This job's current service ends.
    Done(u32),
}

#[derive(Debug, Clone, Copy)]
struct Scheduled {
    at: f64,
    seq: u64,
    what: Happening,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    // Reversed: the heap pops the earliest; equal times in the order scheduled.
    fn cmp(&self, other: &Self) -> Ordering {
        other.at.total_cmp(&self.at).then_with(|| other.seq.cmp(&self.seq))
    }
}

/// Happenings in time order; ties in the order they were scheduled, so a
/// run depends only on its seed.
#[derive(Debug, Default)]
pub struct Agenda {
    heap: BinaryHeap<Scheduled>,
    seq: u64,
}

impl Agenda {
    pub fn schedule(&mut self, at: f64, what: Happening) {
        self.seq += 1;
        self.heap.push(Scheduled { at, seq: self.seq, what });
    }

    pub fn pop(&mut self) -> Option<(f64, Happening)> {
        self.heap.pop().map(|s| (s.at, s.what))
    }
}

/// A time interval `[from, to)` in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    pub from: f64,
    pub to: f64,
}

impl Window {
    pub fn contains(&self, t: f64) -> bool {
        t >= self.from && t < self.to
    }

    fn overlap(&self, a: f64, b: f64) -> f64 {
        (b.min(self.to) - a.max(self.from)).max(0.0)
    }

    pub fn length(&self) -> f64 {
        self.to - self.from
    }
}

/// c servers of one speed (a server of speed 0.5 does 1 ms of work in
/// 2 ms: a replica limited to half a core) and one FCFS line.
#[derive(Debug)]
pub struct Resource {
    pub name: String,
    pub servers: usize,
    pub speed: f64,
    busy: usize,
    line: VecDeque<(u32, f64)>,
    last: f64,
    /// Busy server-seconds within `whole` and within `window`.
    busy_whole: f64,
    busy_window: f64,
    whole: Window,
    window: Window,
    /// Waits (s) of the jobs that joined inside `window`.
    pub waits: Vec<f64>,
    pub longest_line: usize,
}

impl Resource {
    pub fn new(name: impl Into<String>, servers: usize, speed: f64, whole: Window, window: Window) -> Resource {
        assert!(servers > 0 && speed > 0.0, "a resource needs a server and a speed");
        Resource {
            name: name.into(),
            servers,
            speed,
            busy: 0,
            line: VecDeque::new(),
            last: 0.0,
            busy_whole: 0.0,
            busy_window: 0.0,
            whole,
            window,
            waits: Vec::new(),
            longest_line: 0,
        }
    }

    fn account(&mut self, now: f64) {
        let busy = self.busy as f64;
        self.busy_whole += busy * self.whole.overlap(self.last, now);
        self.busy_window += busy * self.window.overlap(self.last, now);
        self.last = now;
    }

    /// `job` asks for a server at `now`: true when it starts at once (its
    /// wait, zero, is counted), false when it joins the line.
    pub fn arrive(&mut self, now: f64, job: u32) -> bool {
        self.account(now);
        if self.busy < self.servers {
            self.busy += 1;
            if self.window.contains(now) {
                self.waits.push(0.0);
            }
            true
        } else {
            self.line.push_back((job, now));
            self.longest_line = self.longest_line.max(self.line.len());
            false
        }
    }

    /// A service ends at `now`: the first job of the line, if any, takes the
    /// server and is returned.
    pub fn depart(&mut self, now: f64) -> Option<u32> {
        self.account(now);
        match self.line.pop_front() {
            Some((job, joined)) => {
                if self.window.contains(joined) {
                    self.waits.push(now - joined);
                }
                Some(job)
            }
            None => {
                self.busy -= 1;
                None
            }
        }
    }

    pub fn line_len(&self) -> usize {
        self.line.len()
    }

    /// Busy share of the servers over the whole span and over the window,
    /// as of the last change (call [`Resource::close`] first).
    pub fn utilisation(&self) -> (f64, f64) {
        let c = self.servers as f64;
        (self.busy_whole / (c * self.whole.length()), self.busy_window / (c * self.window.length()))
    }

    /// Counts the busy time up to `now`.
    pub fn close(&mut self, now: f64) {
        self.account(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agenda_pops_in_time_order_and_ties_in_scheduling_order() {
        let mut a = Agenda::default();
        a.schedule(2.0, Happening::Done(1));
        a.schedule(1.0, Happening::Done(2));
        a.schedule(1.0, Happening::Done(3));
        a.schedule(0.5, Happening::Arrival);
        let order: Vec<Happening> = std::iter::from_fn(|| a.pop().map(|(_, h)| h)).collect();
        assert_eq!(order, vec![Happening::Arrival, Happening::Done(2), Happening::Done(3), Happening::Done(1)]);
    }

    #[test]
    fn a_resource_serves_first_come_first_served_and_counts_its_busy_time() {
        let all = Window { from: 0.0, to: 10.0 };
        let mut r = Resource::new("r", 1, 1.0, all, all);
        assert!(r.arrive(0.0, 1));
        assert!(!r.arrive(1.0, 2));
        assert!(!r.arrive(2.0, 3));
        assert_eq!(r.depart(3.0), Some(2));
        assert_eq!(r.depart(4.0), Some(3));
        assert_eq!(r.depart(5.0), None);
        r.close(10.0);
        assert_eq!(r.waits, vec![0.0, 2.0, 2.0]);
        let (whole, window) = r.utilisation();
        assert!((whole - 0.5).abs() < 1e-12 && (window - 0.5).abs() < 1e-12);
    }
}
