//! The workbench in a real browser (ADR 0033): headless Chromium through
//! WebDriver (testkit's `webdriver`), each person in a browser of their own
//! (own cookies), signing in on the development issuer's page as a person
//! does. Screenshots of the pages go to docs/screenshots/ with
//! `YICIBAN_BLESS_DOCS=1`, else to a temporary directory.

use std::path::{Path, PathBuf};

use serde_json::Value;
use yiciban_testkit::webdriver::{Chromedriver, WINDOW, WebSession};

use crate::helpers::TestApp;

/// The browsers of one test.
pub struct Web {
    driver: Chromedriver,
    pub base: String,
    files: PathBuf,
    shots: PathBuf,
    bless: bool,
}

impl Web {
    pub async fn start(app: &TestApp) -> Web {
        let driver = Chromedriver::start().await;
        let files = std::env::temp_dir().join(format!("yiciban-web-files-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&files).unwrap();
        let bless = std::env::var("YICIBAN_BLESS_DOCS").is_ok_and(|v| v == "1");
        let shots = if bless {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
        } else {
            files.join("screenshots")
        };
        std::fs::create_dir_all(&shots).unwrap();
        Web { driver, base: app.url.clone(), files, shots, bless }
    }

    /// A browser nobody signed in to.
    pub async fn anonymous(&self) -> WebSession {
        self.driver.session().await
    }

    /// A browser in which `username` signed in: the workbench sends them to
    /// the issuer, whose sign-in page lists the people to choose from.
    pub async fn signed_in(&self, username: &str, shown_as: &str) -> WebSession {
        let browser = self.driver.session().await;
        browser.goto(&format!("{}/", self.base)).await;
        browser.wait_for_text("请选择登录身份").await;
        browser.find(&format!("button[name=\"username\"][value=\"{username}\"]")).await.click().await;
        browser.wait_for_text(shown_as).await;
        assert!(browser.url().await.starts_with(&self.base), "back at the workbench: {}", browser.url().await);
        browser
    }

    /// A path of the workbench.
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Writes `content` to a file named `name` for a browser to choose.
    pub fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let path = self.files.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    /// A screenshot of the top of the page `browser` shows, as
    /// `name`.png, checked to be of the window's size.
    pub async fn shot(&self, browser: &WebSession, name: &str) {
        // The page's top, where a person arriving starts reading.
        browser.script("window.scrollTo(0, 0);", vec![]).await;
        let png = browser.screenshot().await;
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");
        let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
        assert_eq!((size(16), size(20)), WINDOW, "{name}: the window's size");
        std::fs::write(self.shots.join(format!("{name}.png")), &png).unwrap();
        if self.bless {
            eprintln!("wrote docs/screenshots/{name}.png");
        }
    }
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.files);
    }
}

/// The visible form controls of the page that no label names (`<label
/// for>`, a wrapping `<label>`, or `aria-label`), and how many controls
/// were checked: a button must have words of its own.
pub async fn unlabelled(browser: &WebSession) -> (u64, Vec<String>) {
    let found = browser
        .script(
            r#"
            const bad = [];
            let checked = 0;
            for (const el of document.querySelectorAll('main input, main select, main textarea, main button')) {
                if (el.type === 'hidden' || el.getClientRects().length === 0) continue;
                checked += 1;
                const own = (el.getAttribute('aria-label') || '').trim();
                let name;
                if (el.tagName === 'BUTTON' || el.type === 'submit' || el.type === 'button') {
                    name = own || el.textContent.trim();
                } else {
                    name = own || Array.from(el.labels || []).map(l => l.textContent.trim()).join(' ');
                }
                if (!name) bad.push(el.outerHTML);
            }
            return [checked, bad];
            "#,
            vec![],
        )
        .await;
    let checked = found[0].as_u64().unwrap_or_default();
    let bad = found[1].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    (checked, bad)
}

/// Asserts every visible form control of the page is labelled.
pub async fn assert_labelled(browser: &WebSession, page: &str) {
    let (checked, bad) = unlabelled(browser).await;
    assert!(checked > 0, "{page}: no form control to check");
    assert!(bad.is_empty(), "{page}: controls without a label: {bad:#?}");
}

/// Whether a script injected into the page ran: the marker it would set.
pub async fn injected_script_ran(browser: &WebSession) -> bool {
    browser.script("return typeof window.__xss !== 'undefined';", vec![]).await.as_bool().unwrap_or(true)
}

/// What has the keyboard's focus: tag, type, name, value, checked, text.
#[derive(Debug)]
pub struct Focus {
    pub tag: String,
    pub kind: String,
    pub name: String,
    pub value: String,
    pub checked: bool,
    pub text: String,
}

pub async fn focus(browser: &WebSession) -> Focus {
    let f = browser
        .script(
            "const e = document.activeElement; \
             return [e.tagName.toLowerCase(), e.type || '', e.name || '', e.value || '', !!e.checked, \
                     (e.textContent || '').trim()];",
            vec![],
        )
        .await;
    let s = |i: usize| f[i].as_str().unwrap_or_default().to_owned();
    Focus { tag: s(0), kind: s(1), name: s(2), value: s(3), checked: f[4].as_bool().unwrap_or(false), text: s(5) }
}

/// The case number a page shows after `marker` (`YCB-yyyymmdd-nnnnnn`).
pub fn case_number_in(text: &str, marker: &str) -> String {
    let at = text.find(marker).unwrap_or_else(|| panic!("{marker:?} in:\n{text}")) + marker.len();
    let number: String =
        text[at..].trim_start().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    assert!(number.starts_with("YCB-") && number.len() == 19, "a case number after {marker:?}: {number:?}");
    number
}
