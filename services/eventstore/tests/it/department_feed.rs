//! Department feeds: a nats-server of the test's own, started with the
//! generated authorization config; a department's user reads its own events
//! and is refused everyone else's.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use async_nats::jetstream::consumer::pull;
use futures::StreamExt as _;
use yiciban_eventstore::{StreamSettings, Subjects};
use yiciban_testkit::eventually;

struct Server {
    child: Child,
    _dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}

fn nats_server_binary() -> String {
    std::env::var("NATS_SERVER_BIN").ok().unwrap_or_else(|| {
        ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("nats-server")
            .to_owned()
    })
}

fn start(subjects: &Subjects) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("yiciban-nats-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = format!(
        "listen: 127.0.0.1:{port}\njetstream {{ store_dir: \"{}\" }}\n{}",
        dir.join("js").display(),
        subjects.authorization_config(&["samr", "fire"])
    );
    let path = dir.join("nats.conf");
    std::fs::write(&path, config).unwrap();
    let child = Command::new(nats_server_binary())
        .arg("-c")
        .arg(&path)
        .env("YICIBAN_NATS_PASSWORD", "svc-secret")
        .env("DEPT_SAMR_PASSWORD", "samr-secret")
        .env("DEPT_FIRE_PASSWORD", "fire-secret")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start nats-server (Debian package nats-server)");
    (Server { child, _dir: dir }, port)
}

async fn connect(
    port: u16,
    user: &str,
    password: &str,
    inbox: Option<&str>,
) -> (async_nats::Client, tokio::sync::mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut options =
        async_nats::ConnectOptions::with_user_and_password(user.into(), password.into()).event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event.to_string());
            }
        });
    if let Some(prefix) = inbox {
        options = options.custom_inbox_prefix(prefix);
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match options.clone().connect(format!("nats://127.0.0.1:{port}")).await {
            Ok(c) => return (c, rx),
            Err(e) if tokio::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("connecting as {user}: {e}"),
        }
    }
}

#[tokio::test]
async fn a_department_user_reads_its_own_events_and_is_refused_another_departments() {
    let subjects = Subjects::new(&format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..10])).unwrap();
    let (_server, port) = start(&subjects);

    // The services' user owns the stream and publishes.
    let (service, _) = connect(port, "yiciban", "svc-secret", None).await;
    let js = async_nats::jetstream::new(service.clone());
    js.get_or_create_stream(StreamSettings::default().config(&subjects)).await.unwrap();
    let case = uuid::Uuid::new_v4();

    let (samr, mut samr_events) = connect(port, "dept-samr", "samr-secret", Some("_INBOX_samr")).await;
    let mut own = samr.subscribe(subjects.department_events("samr")).await.unwrap();
    let mut foreign = samr.subscribe(subjects.department_events("fire")).await.unwrap();
    samr.flush().await.unwrap();
    let violation = eventually("a permissions violation for the fire subscription", Duration::from_secs(10), || {
        let e = samr_events.try_recv().ok();
        async move { e.filter(|e| e.to_lowercase().contains("permission")) }
    })
    .await;
    assert!(violation.contains("fire"), "{violation}");

    for dept in ["samr", "fire"] {
        let subject = subjects.event(Some(dept), "tasks", &case, "TaskCreated");
        js.publish(subject, dept.into()).await.unwrap().await.unwrap();
    }
    let got = tokio::time::timeout(Duration::from_secs(5), own.next()).await.unwrap().unwrap();
    assert_eq!(&got.payload[..], b"samr");
    assert!(
        tokio::time::timeout(Duration::from_millis(500), foreign.next()).await.map(|m| m.is_none()).unwrap_or(true),
        "nothing from fire"
    );

    // Through JetStream: a consumer filtered on its own subject works ...
    let samr_js = async_nats::jetstream::new(samr.clone());
    let stream = samr_js.get_stream(subjects.stream_name()).await.unwrap();
    let consumer = stream
        .create_consumer(pull::Config {
            name: Some(Subjects::department_consumer("samr")),
            filter_subject: subjects.department_events("samr"),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut batch = consumer.fetch().max_messages(10).expires(Duration::from_secs(2)).messages().await.unwrap();
    let mut payloads = Vec::new();
    while let Some(Ok(m)) = batch.next().await {
        payloads.push(String::from_utf8(m.payload.to_vec()).unwrap());
        m.ack().await.unwrap();
    }
    assert_eq!(payloads, vec!["samr".to_owned()]);

    // ... one on another department's subject is refused (the name is free
    // again, so only the permission can refuse it).
    stream.delete_consumer(&Subjects::department_consumer("samr")).await.unwrap();
    let refused = tokio::time::timeout(
        Duration::from_secs(5),
        stream.create_consumer(pull::Config {
            name: Some(Subjects::department_consumer("samr")),
            filter_subject: subjects.department_events("fire"),
            ..Default::default()
        }),
    )
    .await;
    assert!(!matches!(refused, Ok(Ok(_))), "creating a consumer on fire's events must fail");
}
