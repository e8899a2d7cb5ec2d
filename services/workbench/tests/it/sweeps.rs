//! The workbench's sweep of ended sessions, stale sign-ins and the progress
//! page's old tries, run by two replicas on one database at the same moment
//! (issue 20, item 2: work that must happen once is safe with any number of
//! replicas).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use yiciban_platform::{ManualClock, Role};
use yiciban_testkit::{TestDb, TestIssuer};
use yiciban_workbench::sessions::{BrowserSecret, Person, Tokens};
use yiciban_workbench::{Workbench, WorkbenchConfig};

/// A workbench built on `db` as the deployment builds it (`build_with`),
/// its ports bound, not served: each served workbench runs its own sweep
/// once a minute of real time, which would take a share of the rows unseen
/// by the test. The sweeps driven here are the ones that job runs.
async fn replica(db: &TestDb, issuer: &TestIssuer, clock: &ManualClock) -> (yiciban_workbench::App, Arc<Workbench>) {
    let mut env: HashMap<String, String> = HashMap::new();
    // Never called by these tests (port 9 refuses).
    for service in ["INTAKE", "ROUTING", "TASKS", "TRACKING", "ISSUANCE"] {
        env.insert(format!("YICIBAN_{service}_URL"), "http://127.0.0.1:9".to_owned());
    }
    issuer.configure(&mut env);
    let mut config = WorkbenchConfig::from_source(&env).expect("config");
    config.common.grpc_listener = Some(yiciban_testkit::listener());
    config.http_listener = Some(yiciban_testkit::listener());
    let app = yiciban_workbench::build_with(config, Arc::new(clock.clone()), db.pool.clone())
        .await
        .expect("the workbench builds");
    let state = app.state();
    (app, state)
}

fn person(n: usize) -> Person {
    Person {
        subject: format!("agent-{n}"),
        role: Role::Agent,
        department: Some("samr".to_owned()),
        display_name: format!("经办人{n}"),
    }
}

async fn rows(db: &TestDb, table: &str) -> i64 {
    let statement = match table {
        "sessions" => "SELECT count(*) FROM workbench.sessions",
        "sign_ins" => "SELECT count(*) FROM workbench.sign_ins",
        "progress_tries" => "SELECT count(*) FROM workbench.progress_tries",
        other => panic!("no table {other} to count"),
    };
    sqlx::query_scalar(statement).fetch_one(&db.pool).await.unwrap()
}

/// What the two replicas swept at one instant: ended sessions, stale
/// sign-ins, old tries.
type Swept = (u64, u64, u64);

async fn both_sweep(a: &Workbench, b: &Workbench) -> Swept {
    let sweep = |w: &Workbench| {
        let (sessions, tries) = (w.sessions.clone(), w.tries.clone());
        async move {
            let (ended, stale) = sessions.sweep().await.unwrap();
            (ended, stale, tries.sweep().await.unwrap())
        }
    };
    let (x, y) = tokio::join!(sweep(a), sweep(b));
    (x.0 + y.0, x.1 + y.1, x.2 + y.2)
}

/// Two replicas sweep at the same moment, at every instant something ends
/// and after: each ended session, stale sign-in and old try is deleted
/// once — the two replicas' counts add up to exactly what ended — and
/// every live session stays.
#[tokio::test]
async fn two_replicas_sweeping_at_the_same_moment_end_each_expired_session_once() {
    let db = TestDb::new(10).await;
    let issuer = TestIssuer::start().await;
    // A working Tuesday, 10:00 in Beijing.
    let start: DateTime<Utc> = "2026-09-29T02:00:00Z".parse().unwrap();
    let clock = ManualClock::new(start);
    let (_a, a) = replica(&db, &issuer, &clock).await;
    let (_b, b) = replica(&db, &issuer, &clock).await;

    // 10:00: four sessions (two on each replica), three sign-ins never
    // finished, five tries of the progress page.
    let mut sessions: Vec<BrowserSecret> = Vec::new();
    for n in 0..4 {
        let on = if n % 2 == 0 { &a } else { &b };
        sessions.push(on.sessions.create(&person(n), &Tokens::default()).await.unwrap().0);
    }
    for n in 0..3 {
        let on = if n % 2 == 0 { &a } else { &b };
        let browser = BrowserSecret::generate();
        on.sessions.begin_sign_in(&format!("state-{n}"), &browser, "nonce", "verifier", "/").await.unwrap();
    }
    for n in 0..5 {
        let on = if n % 2 == 0 { &a } else { &b };
        assert!(on.tries.admit(&format!("10.0.0.{n}"), &format!("YCB-20260929-00000{n}")).await.unwrap().is_ok());
    }

    let at = |minutes: i64| start + Duration::minutes(minutes);
    let mut total: Swept = (0, 0, 0);
    let mut add = |swept: Swept| {
        total = (total.0 + swept.0, total.1 + swept.1, total.2 + swept.2);
        swept
    };

    // 10:20: sessions 2 and 3 used, two more made; the sign-ins are stale.
    clock.set(at(20));
    for id in &sessions[2..4] {
        assert!(b.sessions.find(id).await.unwrap().is_some());
    }
    for n in 4..6 {
        sessions.push(a.sessions.create(&person(n), &Tokens::default()).await.unwrap().0);
    }
    assert_eq!(add(both_sweep(&a, &b).await), (0, 3, 0), "at 10:20");
    assert_eq!(add(both_sweep(&a, &b).await), (0, 0, 0), "at 10:20, again");

    // 10:30 exactly: sessions 0 and 1, unused for the idle time, end.
    clock.set(at(30));
    assert_eq!(add(both_sweep(&a, &b).await), (2, 0, 0), "at 10:30");
    // 10:40: sessions 4 and 5 used.
    clock.set(at(40));
    for id in &sessions[4..6] {
        assert!(a.sessions.find(id).await.unwrap().is_some());
    }
    assert_eq!(add(both_sweep(&a, &b).await), (0, 0, 0), "at 10:40");

    // 11:00: sessions 2 and 3 end (idle since 10:20); the tries age out.
    clock.set(at(60));
    assert_eq!(add(both_sweep(&a, &b).await), (2, 0, 5), "at 11:00");
    assert_eq!(add(both_sweep(&a, &b).await), (0, 0, 0), "at 11:00, again");
    assert_eq!(total, (4, 3, 5), "each ended row swept once over both replicas");

    // What stays: the two live sessions, found by either replica.
    assert_eq!(
        (rows(&db, "sessions").await, rows(&db, "sign_ins").await, rows(&db, "progress_tries").await),
        (2, 0, 0)
    );
    for (n, id) in sessions.iter().enumerate() {
        let found = b.sessions.find(id).await.unwrap();
        assert_eq!(found.map(|s| s.person.subject), (n >= 4).then(|| format!("agent-{n}")), "session {n}");
    }
}
