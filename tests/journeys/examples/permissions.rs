//! The examples with no more than a department's NATS permissions, over
//! TLS, by password and by nkey.

use super::*;

/// A nats-server of the test's own, TLS only (a certificate of a CA made for
/// the test), whose department users (`dept-samr` by password, and one by
/// nkey) have the permissions `casectl nats-config` generates for a
/// department (eventstore `identities`, ADR 0021): its consumers
/// `samr-feed`, `samr-replay` (and `samr-ref`): create (with its own filter),
/// info, delete, next-message and acks; replies on `_INBOX_samr` — and not
/// STREAM.INFO or any listing.
/// A client without credentials is the services' user. Killed and its
/// store and certificates removed when dropped.
struct RestrictedServer {
    child: std::process::Child,
    dir: PathBuf,
    port: u16,
}

impl RestrictedServer {
    fn start(subjects: &Subjects, nkey: &str) -> RestrictedServer {
        // exactly what `casectl nats-config` generates for a department (ADR 0021)
        let granted = Identity::Department("samr".into()).permissions(subjects, &["samr"]);
        let quote = |v: &[String]| v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", ");
        let permissions = format!(
            "{{ publish: {{ allow: [{}] }}, subscribe: {{ allow: [{}] }} }}",
            quote(&granted.publish_allow),
            quote(&granted.subscribe_allow)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("yiciban-examples-nats-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        make_certificates(&dir);
        let config = format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: \"{}\" }}\nno_auth_user: \"yiciban\"\n\
             tls {{ cert_file: \"{}\", key_file: \"{}\" }}\n\
             authorization {{ users = [\n\
             {{ user: \"yiciban\", password: \"svc-secret\" }}\n\
             {{ user: \"dept-samr\", password: \"samr-secret\", permissions: {permissions} }}\n\
             {{ nkey: \"{nkey}\", permissions: {permissions} }}\n] }}\n",
            dir.join("js").display(),
            dir.join("server.pem").display(),
            dir.join("server.key").display()
        );
        std::fs::write(dir.join("nats.conf"), config).unwrap();
        let child = std::process::Command::new(yiciban_testkit::nats_server::nats_server_binary())
            .arg("-c")
            .arg(dir.join("nats.conf"))
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(dir.join("nats.log")).unwrap())
            .spawn()
            .expect("start nats-server (deploy/local/infra.sh installs it)");
        RestrictedServer { child, dir, port }
    }

    /// The CA file that verifies the server's certificate.
    fn ca(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Connects as the services' user (the stream's owner), once the server answers.
    async fn services(&self) -> jetstream::Context {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let options = async_nats::ConnectOptions::new().add_root_certificates(self.ca()).require_tls(true);
            match options.connect(self.url()).await {
                Ok(client) => return jetstream::new(client),
                Err(e) if tokio::time::Instant::now() > deadline => panic!(
                    "the test's nats-server does not answer ({e}); its log:\n{}",
                    std::fs::read_to_string(self.dir.join("nats.log")).unwrap_or_default()
                ),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }
}

impl Drop for RestrictedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A CA and a server certificate for 127.0.0.1 (and localhost, the name
/// nats.js checks for it) signed by it, in `dir`
/// (openssl).
fn make_certificates(dir: &Path) {
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=yiciban test CA"],
        ]
        .concat(),
        [&["req"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]].concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(&args)
            .output()
            .expect("openssl runs (Debian package openssl)");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// A department user's nkey: (seed, public key), made by the nkeys.js the
/// TypeScript example installs.
fn user_nkey() -> (String, String) {
    let out = std::process::Command::new("node")
        .current_dir(repository().join("examples/typescript"))
        .args([
            "-e",
            "const u = require('nkeys.js').createUser(); \
             console.log(new TextDecoder().decode(u.getSeed()), u.getPublicKey())",
        ])
        .output()
        .expect("node runs");
    assert!(out.status.success(), "making an nkey: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let (seed, public) = text.trim().split_once(' ').expect("seed and public key");
    (seed.to_owned(), public.to_owned())
}

/// Both examples, over TLS (`--tls-ca`) and signed in as a department user
/// (by password or by nkey seed file) that may not read stream information
/// nor account info, still create and bind their feed, and replay.
#[tokio::test]
async fn the_examples_need_no_more_than_a_departments_permissions() {
    require_installed();
    let (seed, public) = user_nkey();
    let seed_file = TempFile::new("nkey");
    std::fs::write(&seed_file.0, format!("{seed}\n")).unwrap();
    let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let subjects = Subjects::new(&prefix).unwrap();
    let server = RestrictedServer::start(&subjects, &public);
    let js = server.services().await;
    js.get_or_create_stream(StreamSettings::default().config(&subjects)).await.unwrap();
    let case = uuid::Uuid::new_v4();
    let task = uuid::Uuid::new_v4().to_string();
    let created = envelope(case, "samr", &format!("task-{task}"), 1, "TaskCreated", task_created(&task, "samr"));
    publish_to(&js, &subjects, &created, false).await;

    let (url, ca) = (server.url(), server.ca());
    let tls = ["--tls-ca", ca.to_str().unwrap()];
    let password = [("NATS_USER", "dept-samr"), ("NATS_PASSWORD", "samr-secret")];
    let nkey = ["--nkey-seed-file", seed_file.0.to_str().unwrap()];
    let event = vec![("TaskCreated".to_owned(), created.event_id.clone())];
    // Python creates samr-feed and reads the event; TypeScript binds it with
    // nothing left to read. Each then replays it from the start.
    for (example, first) in [(Example::Python, event.clone()), (Example::TypeScript, vec![])] {
        let lines = example.run_at(subjects.prefix(), &url, &password, &tls).await;
        assert_eq!(printed(&lines), first, "{example:?}: the feed as dept-samr");
        let replay = [&tls[..], &nkey, &["--from-time", "2026-01-01T00:00:00Z"]].concat();
        let lines = example.run_at(subjects.prefix(), &url, &[], &replay).await;
        assert_eq!(printed(&lines), event, "{example:?}: the replay, signed in by nkey");
    }
}
