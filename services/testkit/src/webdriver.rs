//! A real browser for a test (ADR 0033): Debian's headless Chromium driven
//! through W3C WebDriver by its `chromedriver`, spoken over HTTP with the
//! reqwest and serde_json the project already has. [`Chromedriver::start`]
//! runs the driver on a free loopback port in a process group of its own
//! (killed with every browser it started when dropped);
//! [`Chromedriver::session`] opens a browser with its own profile — its own
//! cookies — at 1366×768, downloads going to a directory of its own.
//!
//! Only what a person does is offered: go to an address, click, type (keys
//! included), choose a file for a file input, read the page's visible text,
//! take a screenshot. [`WebSession::script`] reads the DOM (labels, a marker
//! a script would set), never to act on the page.
//!
//! When /usr/bin/chromium or /usr/bin/chromedriver is missing the test
//! fails at once, naming the command that installs them
//! (`deploy/local/browser.sh install`, `make browser`).

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The size of the browser's window: the screenshots' size.
pub const WINDOW: (u32, u32) = (1366, 768);
/// How long a page may take to show what a test waits for.
pub const WAIT: Duration = Duration::from_secs(30);

/// The W3C WebDriver key codes a test presses.
pub mod keys {
    pub const TAB: &str = "\u{E004}";
    pub const ENTER: &str = "\u{E007}";
    pub const SPACE: &str = "\u{E00D}";
    pub const ARROW_RIGHT: &str = "\u{E014}";
    pub const ARROW_DOWN: &str = "\u{E015}";
}

/// An error the driver answered with (or the way to it failed).
#[derive(Debug)]
pub struct DriverError {
    /// The WebDriver error code (`no such element`, …), or `transport`.
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for DriverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DriverError {}

/// Panics unless Chromium and its driver are installed, saying how to install them.
pub fn require_browser() {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER].into_iter().filter(|p| !Path::new(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "{} missing: the browser tests drive Debian's chromium through chromium-driver; \
         install them with `deploy/local/browser.sh install` (or `make browser`; as root, \
         `apt-get install chromium chromium-driver fonts-wqy-microhei`)",
        missing.join(" and ")
    );
}

/// A running chromedriver; it and every browser it started are killed when dropped.
pub struct Chromedriver {
    child: Child,
    url: String,
    http: reqwest::Client,
    downloads: PathBuf,
}

impl std::fmt::Debug for Chromedriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chromedriver").field("url", &self.url).finish()
    }
}

impl Chromedriver {
    /// Starts chromedriver on a free loopback port (it picks one and says which).
    pub async fn start() -> Chromedriver {
        require_browser();
        let downloads = std::env::temp_dir().join(format!("yiciban-browser-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&downloads).expect("a download directory");
        let mut child = Command::new(CHROMEDRIVER)
            .args(["--port=0", "--allowed-ips=127.0.0.1"])
            // One locale everywhere: a date input's fields come in its order.
            .env("LANG", "C.UTF-8")
            .env("LC_ALL", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (port_tx, port_rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            use std::io::BufRead as _;
            let mut port_tx = Some(port_tx);
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let port = line.split("started successfully on port ").nth(1).map(|p| p.trim_end_matches('.'));
                if let Some(port) = port.and_then(|p| p.parse::<u16>().ok())
                    && let Some(tx) = port_tx.take()
                {
                    let _ = tx.send(port);
                }
                tracing::debug!(target: "chromedriver", "{line}");
            }
        });
        let driver = |child| Chromedriver { child, url: String::new(), http: reqwest::Client::new(), downloads };
        let port = match tokio::time::timeout(WAIT, port_rx).await {
            Ok(Ok(port)) => port,
            _ => {
                drop(driver(child));
                panic!("{CHROMEDRIVER} did not say which port it serves within {WAIT:?}");
            }
        };
        let mut driver = driver(child);
        driver.url = format!("http://127.0.0.1:{port}");
        driver
    }

    /// A new browser with a profile (cookies, storage) of its own, headless,
    /// at [`WINDOW`], Chinese first, downloads saved without asking into
    /// [`WebSession::downloads`].
    pub async fn session(&self) -> WebSession {
        let downloads = self.downloads.join(uuid::Uuid::new_v4().simple().to_string());
        std::fs::create_dir_all(&downloads).expect("a download directory");
        let (width, height) = WINDOW;
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless",
                        // root in a container has no user namespace for the sandbox
                        "--no-sandbox",
                        "--disable-dev-shm-usage",
                        "--disable-gpu",
                        "--no-first-run",
                        "--disable-extensions",
                        "--hide-scrollbars",
                        "--force-device-scale-factor=1",
                        "--lang=zh-CN",
                        format!("--window-size={width},{height}"),
                    ],
                    "prefs": {
                        "download.default_directory": downloads.to_string_lossy(),
                        "download.prompt_for_download": false,
                        "intl.accept_languages": "zh-CN,zh",
                    },
                },
            }},
        });
        let created = call(&self.http, reqwest::Method::POST, &format!("{}/session", self.url), Some(capabilities))
            .await
            .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"));
        let id = created["sessionId"].as_str().expect("a session id").to_owned();
        let session = WebSession { http: self.http.clone(), base: format!("{}/session/{id}", self.url), downloads };
        // The window's frame takes some of its height even headless: the
        // page itself gets the whole WINDOW.
        let frame = session
            .script("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight];", vec![])
            .await;
        let (extra_width, extra_height) = (frame[0].as_u64().unwrap_or(0), frame[1].as_u64().unwrap_or(0));
        session
            .post(
                "/window/rect",
                json!({ "width": u64::from(width) + extra_width, "height": u64::from(height) + extra_height }),
            )
            .await;
        session
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // The driver and the browsers it started share its process group.
        let group = rustix::process::Pid::from_child(&self.child);
        if rustix::process::kill_process_group(group, rustix::process::Signal::KILL).is_err() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.downloads);
    }
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Option<Value>,
) -> Result<Value, DriverError> {
    let transport = |e: reqwest::Error| DriverError { code: "transport".into(), message: e.to_string() };
    let mut request = http.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(transport)?;
    let ok = response.status().is_success();
    let mut answer: Value = response.json().await.map_err(transport)?;
    let value = answer["value"].take();
    if ok {
        return Ok(value);
    }
    Err(DriverError {
        code: value["error"].as_str().unwrap_or("unknown error").to_owned(),
        message: value["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default().to_owned(),
    })
}

/// One browser window (its own cookies).
#[derive(Clone)]
pub struct WebSession {
    http: reqwest::Client,
    base: String,
    downloads: PathBuf,
}

impl std::fmt::Debug for WebSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebSession").field("base", &self.base).finish()
    }
}

/// An element of the page a session shows.
#[derive(Debug, Clone)]
pub struct Element {
    session: WebSession,
    id: String,
}

/// The key of an element reference in the W3C protocol.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl WebSession {
    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, DriverError> {
        call(&self.http, method, &format!("{}{path}", self.base), body).await
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.send(reqwest::Method::POST, path, Some(body)).await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    async fn get(&self, path: &str) -> Value {
        self.send(reqwest::Method::GET, path, None).await.unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Where this browser saves what it downloads.
    pub fn downloads(&self) -> &Path {
        &self.downloads
    }

    /// Goes to `url` and waits until the page has loaded.
    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    /// The address the browser shows.
    pub async fn url(&self) -> String {
        self.get("/url").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's title.
    pub async fn title(&self) -> String {
        self.get("/title").await.as_str().unwrap_or_default().to_owned()
    }

    /// The page's visible text (its `<body>`'s).
    pub async fn text(&self) -> String {
        self.find("body").await.text().await
    }

    fn element(&self, value: &Value) -> Element {
        let id = value[ELEMENT_KEY].as_str().unwrap_or_else(|| panic!("not an element: {value}")).to_owned();
        Element { session: self.clone(), id }
    }

    /// The first element matching the CSS `selector`, if any.
    pub async fn try_find(&self, selector: &str) -> Option<Element> {
        let query = json!({ "using": "css selector", "value": selector });
        match self.send(reqwest::Method::POST, "/element", Some(query)).await {
            Ok(found) => Some(self.element(&found)),
            Err(e) if e.code == "no such element" => None,
            Err(e) => panic!("finding {selector:?}: {e}"),
        }
    }

    /// The first element matching the CSS `selector`; panics with the
    /// page's text when there is none.
    pub async fn find(&self, selector: &str) -> Element {
        match self.try_find(selector).await {
            Some(element) => element,
            None => panic!("no {selector:?} on {}:\n{}", self.url().await, self.text_or_nothing().await),
        }
    }

    /// Every element matching the CSS `selector`.
    pub async fn find_all(&self, selector: &str) -> Vec<Element> {
        let found = self.post("/elements", json!({ "using": "css selector", "value": selector })).await;
        found.as_array().into_iter().flatten().map(|v| self.element(v)).collect()
    }

    /// The link (`<a>`) whose text is `text`.
    pub async fn link(&self, text: &str) -> Element {
        let query = json!({ "using": "link text", "value": text });
        match self.send(reqwest::Method::POST, "/element", Some(query)).await {
            Ok(found) => self.element(&found),
            Err(e) => panic!("no link {text:?} on {} ({e}):\n{}", self.url().await, self.text_or_nothing().await),
        }
    }

    /// The element that has the keyboard's focus.
    pub async fn focused(&self) -> Element {
        let found = self.get("/element/active").await;
        self.element(&found)
    }

    /// Presses `keys` (text and [`keys`] codes) on whatever has the focus,
    /// as a person types: no element is chosen for them.
    pub async fn press(&self, keys: &str) {
        let mut actions = Vec::new();
        for key in keys.chars() {
            actions.push(json!({ "type": "keyDown", "value": key.to_string() }));
            actions.push(json!({ "type": "keyUp", "value": key.to_string() }));
        }
        self.post("/actions", json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] })).await;
        let _ = self.send(reqwest::Method::DELETE, "/actions", None).await;
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the
    /// page and returns what it returns: for reading the DOM.
    pub async fn script(&self, script: &str, args: Vec<Value>) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": args })).await
    }

    /// A PNG of what the window shows.
    pub async fn screenshot(&self) -> Vec<u8> {
        let encoded = self.get("/screenshot").await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().expect("a base64 screenshot"))
            .expect("the screenshot is base64")
    }

    /// Waits until the page's visible text contains `text`, reloading
    /// nothing: the page text when it does.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let shown = self.text_or_nothing().await;
            if shown.contains(text) {
                return shown;
            }
            if tokio::time::Instant::now() > deadline {
                let source = self.source().await;
                panic!("{text:?} not on {} within {WAIT:?}:\n{shown}\n--- source ---\n{source}", self.url().await);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Reloads `url` until `check` finds what it wants on the page (a
    /// page showing what another service has yet to record).
    pub async fn reload_until<T>(&self, url: &str, what: &str, check: impl AsyncFnMut(&WebSession) -> Option<T>) -> T {
        let mut check = check;
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            self.goto(url).await;
            if let Some(found) = check(self).await {
                return found;
            }
            if tokio::time::Instant::now() > deadline {
                panic!("{what}: not on {url} within {WAIT:?}:\n{}", self.text_or_nothing().await);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The page's HTML as the browser holds it now (for a failure's message).
    pub async fn source(&self) -> String {
        let source = self.send(reqwest::Method::GET, "/source", None).await;
        source.ok().and_then(|s| s.as_str().map(str::to_owned)).unwrap_or_default()
    }

    async fn text_or_nothing(&self) -> String {
        let query = json!({ "using": "css selector", "value": "body" });
        let Ok(body) = self.send(reqwest::Method::POST, "/element", Some(query)).await else { return String::new() };
        let id = body[ELEMENT_KEY].as_str().unwrap_or_default();
        let text = self.send(reqwest::Method::GET, &format!("/element/{id}/text"), None).await;
        text.ok().and_then(|t| t.as_str().map(str::to_owned)).unwrap_or_default()
    }

    /// Waits until a download into [`WebSession::downloads`] has finished:
    /// its file name and bytes.
    pub async fn downloaded(&self) -> (String, Vec<u8>) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let done = std::fs::read_dir(&self.downloads).ok().into_iter().flatten().flatten().find(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                !name.ends_with(".crdownload") && !name.starts_with('.')
            });
            if let Some(entry) = done {
                let name = entry.file_name().to_string_lossy().into_owned();
                let content = std::fs::read(entry.path()).expect("the downloaded file");
                std::fs::remove_file(entry.path()).expect("remove the downloaded file");
                return (name, content);
            }
            if tokio::time::Instant::now() > deadline {
                panic!("no download finished in {} within {WAIT:?}", self.downloads.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Closes the browser.
    pub async fn close(self) {
        let _ = self.send(reqwest::Method::DELETE, "", None).await;
    }
}

impl Element {
    fn path(&self, rest: &str) -> String {
        format!("/element/{}{rest}", self.id)
    }

    /// Clicks it (scrolled into view first, as the driver does).
    pub async fn click(&self) {
        self.session.post(&self.path("/click"), json!({})).await;
    }

    /// Types `text` into it (focusing it first); for a file input, `text`
    /// is the path of the file chosen.
    pub async fn send_keys(&self, text: &str) {
        self.session.post(&self.path("/value"), json!({ "text": text })).await;
    }

    /// Chooses `file` in this file input.
    pub async fn choose_file(&self, file: &Path) {
        self.send_keys(&file.to_string_lossy()).await;
    }

    /// Empties a text input.
    pub async fn clear(&self) {
        self.session.post(&self.path("/clear"), json!({})).await;
    }

    /// Its visible text.
    pub async fn text(&self) -> String {
        self.session.get(&self.path("/text")).await.as_str().unwrap_or_default().to_owned()
    }

    /// The DOM property `name` (`value`, `checked`, `id`, …).
    pub async fn property(&self, name: &str) -> Value {
        self.session.get(&self.path(&format!("/property/{name}"))).await
    }

    /// The attribute `name`, if set.
    pub async fn attribute(&self, name: &str) -> Option<String> {
        self.session.get(&self.path(&format!("/attribute/{name}"))).await.as_str().map(str::to_owned)
    }

    /// The element's tag name, lower case.
    pub async fn tag(&self) -> String {
        self.session.get(&self.path("/name")).await.as_str().unwrap_or_default().to_lowercase()
    }

    /// The element as a script argument.
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}
