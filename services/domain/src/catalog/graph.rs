//! The step graph of a package: cycle detection (reported with the steps on
//! the cycle) and the critical path, the longest chain of promised working
//! days from a step without dependencies to the last one.

use std::collections::HashMap;

use super::model::Step;
use crate::values::ItemCode;

/// The first cycle found, as the step ids along it with the first repeated at
/// the end (`["s1", "s2", "s1"]`); `None` for an acyclic graph. Dependencies
/// on unknown steps are ignored here (the loader reports them).
pub(super) fn find_cycle(steps: &[Step]) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnStack,
        Done,
    }
    let index: HashMap<&str, usize> = steps.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    let mut marks = vec![Mark::New; steps.len()];
    let mut stack: Vec<usize> = Vec::new();

    fn visit(
        at: usize,
        steps: &[Step],
        index: &HashMap<&str, usize>,
        marks: &mut [Mark],
        stack: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        marks[at] = Mark::OnStack;
        stack.push(at);
        for dep in &steps[at].depends_on {
            let Some(&next) = index.get(dep.as_str()) else { continue };
            match marks[next] {
                Mark::OnStack => {
                    let from = stack.iter().position(|&s| s == next).expect("on the stack");
                    let mut cycle: Vec<String> = stack[from..].iter().map(|&s| steps[s].id.clone()).collect();
                    cycle.push(steps[next].id.clone());
                    return Some(cycle);
                }
                Mark::New => {
                    if let Some(cycle) = visit(next, steps, index, marks, stack) {
                        return Some(cycle);
                    }
                }
                Mark::Done => {}
            }
        }
        stack.pop();
        marks[at] = Mark::Done;
        None
    }

    (0..steps.len()).find_map(|start| {
        if marks[start] == Mark::New { visit(start, steps, &index, &mut marks, &mut stack) } else { None }
    })
}

/// The critical path of an acyclic graph: its length in days and the items on
/// it, first to last. `days` gives each item's promised working days.
pub(super) fn critical_path(steps: &[Step], days: impl Fn(&ItemCode) -> u32) -> (u32, Vec<ItemCode>) {
    let index: HashMap<&str, usize> = steps.iter().enumerate().map(|(i, s)| (s.id.as_str(), i)).collect();
    // finish[i] = (days until step i is done, the dependency it waited for)
    let mut finish: Vec<Option<(u32, Option<usize>)>> = vec![None; steps.len()];

    fn solve(
        at: usize,
        steps: &[Step],
        index: &HashMap<&str, usize>,
        days: &dyn Fn(&ItemCode) -> u32,
        finish: &mut [Option<(u32, Option<usize>)>],
    ) -> u32 {
        if let Some((d, _)) = finish[at] {
            return d;
        }
        let mut best: Option<(u32, usize)> = None;
        for dep in &steps[at].depends_on {
            let Some(&next) = index.get(dep.as_str()) else { continue };
            let d = solve(next, steps, index, days, finish);
            if best.is_none_or(|(b, _)| d > b) {
                best = Some((d, next));
            }
        }
        let total = best.map_or(0, |(d, _)| d) + days(&steps[at].item_code);
        finish[at] = Some((total, best.map(|(_, s)| s)));
        total
    }

    let mut end: Option<(u32, usize)> = None;
    for at in 0..steps.len() {
        let d = solve(at, steps, &index, &days, &mut finish);
        if end.is_none_or(|(b, _)| d > b) {
            end = Some((d, at));
        }
    }
    let Some((total, mut at)) = end else { return (0, Vec::new()) };
    let mut path = vec![steps[at].item_code.clone()];
    while let Some((_, Some(prev))) = finish[at] {
        path.push(steps[prev].item_code.clone());
        at = prev;
    }
    path.reverse();
    (total, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(id: &str, deps: &[&str]) -> Step {
        Step {
            id: id.into(),
            item_code: ItemCode::parse(&format!("I-{id}")).unwrap(),
            depends_on: deps.iter().map(|d| (*d).into()).collect(),
            data_fields: Vec::new(),
        }
    }

    #[test]
    fn a_cycle_is_reported_with_its_steps() {
        let steps = [step("s1", &[]), step("s2", &["s1", "s3"]), step("s3", &["s2"])];
        assert_eq!(find_cycle(&steps), Some(vec!["s2".into(), "s3".into(), "s2".into()]));
        assert_eq!(find_cycle(&[step("s1", &["s1"])]), Some(vec!["s1".into(), "s1".into()]));
        assert_eq!(find_cycle(&steps[..1]), None);
    }

    #[test]
    fn the_critical_path_is_the_longest_chain() {
        let steps = [step("a", &[]), step("b", &["a"]), step("c", &["a"]), step("d", &["b", "c"])];
        let days = |code: &ItemCode| match code.as_str() {
            "I-a" => 1,
            "I-b" => 2,
            "I-c" => 5,
            _ => 1,
        };
        let (total, path) = critical_path(&steps, days);
        assert_eq!(total, 7);
        let path: Vec<&str> = path.iter().map(ItemCode::as_str).collect();
        assert_eq!(path, ["I-a", "I-c", "I-d"]);
    }
}
