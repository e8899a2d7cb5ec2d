//! The benchmark's departments and window learn that there is work the way a
//! department system does: from the case events on NATS (core subscriptions
//! on the event subjects, no JetStream consumer). Each case waiting for work
//! registers; notifications that arrive before it registers are kept for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use tokio::sync::mpsc;
use yiciban_eventstore::Subjects;

/// Something a case driver waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A department task was created: look at the case's tasks.
    TaskCreated,
    /// Routing handed the case over and issuance prepared its batch.
    IssuancePrepared,
}

#[derive(Default)]
struct Routes {
    waiting: HashMap<String, mpsc::UnboundedSender<Notice>>,
    early: HashMap<String, Vec<Notice>>,
}

/// Routes notices to the driver of each case.
#[derive(Clone, Default)]
pub struct Feed {
    routes: Arc<Mutex<Routes>>,
}

impl std::fmt::Debug for Feed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Feed(..)")
    }
}

/// The case id and notice a subject `<prefix>.evt.<dept>.<source>.<case>.<Type>.<partition>` carries.
pub fn parse_subject(subject: &str) -> Option<(&str, Notice)> {
    let tokens: Vec<&str> = subject.split('.').collect();
    if tokens.len() != 7 || tokens[1] != "evt" {
        return None;
    }
    let notice = match (tokens[3], tokens[5]) {
        ("tasks", "TaskCreated") => Notice::TaskCreated,
        ("issuance", "IssuancePrepared") => Notice::IssuancePrepared,
        _ => return None,
    };
    Some((tokens[4], notice))
}

impl Feed {
    /// Subscribes to the task and issuance events of `subjects`' deployment.
    pub async fn start(client: &async_nats::Client, subjects: &Subjects) -> anyhow::Result<Feed> {
        let feed = Feed::default();
        for filter in
            [subjects.typed_events("tasks", "TaskCreated"), subjects.typed_events("issuance", "IssuancePrepared")]
        {
            let mut sub = client.subscribe(filter).await?;
            let routes = feed.routes.clone();
            tokio::spawn(async move {
                while let Some(message) = sub.next().await {
                    if let Some((case, notice)) = parse_subject(message.subject.as_str()) {
                        deliver(&routes, case, notice);
                    }
                }
            });
        }
        client.flush().await?;
        Ok(feed)
    }

    /// Notices for `case_id` from now on, starting with any that came early.
    pub fn watch(&self, case_id: &str) -> mpsc::UnboundedReceiver<Notice> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut routes = self.routes.lock().expect("feed lock");
        for notice in routes.early.remove(case_id).unwrap_or_default() {
            let _ = tx.send(notice);
        }
        routes.waiting.insert(case_id.to_owned(), tx);
        rx
    }

    /// The case is done: forget it.
    pub fn forget(&self, case_id: &str) {
        let mut routes = self.routes.lock().expect("feed lock");
        routes.waiting.remove(case_id);
        routes.early.remove(case_id);
    }

    #[cfg(test)]
    fn deliver(&self, case: &str, notice: Notice) {
        deliver(&self.routes, case, notice);
    }
}

fn deliver(routes: &Mutex<Routes>, case: &str, notice: Notice) {
    let mut routes = routes.lock().expect("feed lock");
    match routes.waiting.get(case) {
        Some(tx) => {
            let _ = tx.send(notice);
        }
        None => routes.early.entry(case.to_owned()).or_default().push(notice),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_the_case_and_the_notice() {
        let case = "0192a3b4-0000-7000-8000-000000000001";
        assert_eq!(parse_subject(&format!("b1.evt.cdc.tasks.{case}.TaskCreated.3")), Some((case, Notice::TaskCreated)));
        assert_eq!(
            parse_subject(&format!("b1.evt._.issuance.{case}.IssuancePrepared.0")),
            Some((case, Notice::IssuancePrepared))
        );
        assert_eq!(parse_subject(&format!("b1.evt.cdc.tasks.{case}.TaskClaimed.3")), None);
        assert_eq!(parse_subject(&format!("b1.evt.cdc.tasks.{case}.TaskCreated")), None, "no partition");
        assert_eq!(parse_subject("b1.other.x"), None);
    }

    #[test]
    fn a_notice_before_the_watch_is_kept_for_it() {
        let feed = Feed::default();
        feed.deliver("c1", Notice::TaskCreated);
        let mut rx = feed.watch("c1");
        assert_eq!(rx.try_recv().ok(), Some(Notice::TaskCreated));
        feed.deliver("c1", Notice::IssuancePrepared);
        assert_eq!(rx.try_recv().ok(), Some(Notice::IssuancePrepared));
        feed.forget("c1");
        feed.deliver("c2", Notice::TaskCreated);
        assert!(rx.try_recv().is_err());
    }
}
