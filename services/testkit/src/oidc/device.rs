//! The person's half of the device authorization grant (RFC 8628 §3.3):
//! on another device, open the provider's verification page, enter the
//! user code the client showed, confirm it, sign in and consent.

use anyhow::{Context as _, bail};
use reqwest::Url;

use super::OidcProvider;
use super::browser::{Browser, Form, Stop};

/// Where the provider (the package's `code_verification` route) takes user codes.
pub const VERIFICATION_PATH: &str = "/device";

impl OidcProvider {
    /// The verification page people enter user codes at (`<issuer>/device`).
    pub fn verification_uri(&self) -> String {
        format!("{}{VERIFICATION_PATH}", self.issuer)
    }

    /// Does what a person on another device does with the `user_code` a
    /// client printed: opens [`verification_uri`](Self::verification_uri)
    /// in a fresh browser, enters the code, confirms that it is the one the
    /// device shows, signs `username` in (any password) and consents. Returns
    /// once the provider shows its success page; the client's polling then
    /// gets the tokens. Fails, with the page, when the provider refuses the
    /// code (unknown, expired, already used) or shows anything else.
    pub async fn confirm_device(&self, user_code: &str, username: &str) -> anyhow::Result<()> {
        let browser = Browser::new(&self.issuer)?;
        let start = Url::parse(&self.verification_uri())?;
        let (at, page) = match browser.open(start, username).await? {
            Stop::Page(at, page) => (at, page),
            Stop::Redirect(to) => bail!("the verification page redirected away to {to}"),
        };
        let input =
            Form::by_id(&page, "op.deviceInputForm").with_context(|| format!("no user-code form at {at}: {page}"))?;
        let xsrf = input.value("xsrf").context("the user-code form carries no xsrf field")?.to_owned();
        let (at, page) = match browser
            .submit(at.join(&input.action)?, &[("xsrf", &xsrf), ("user_code", user_code)], username)
            .await?
        {
            Stop::Page(at, page) => (at, page),
            Stop::Redirect(to) => bail!("entering the user code redirected away to {to}"),
        };
        let confirm = Form::by_id(&page, "op.deviceConfirmForm")
            .with_context(|| format!("the provider did not accept the user code {user_code} at {at}: {page}"))?;
        let shown = confirm.value("user_code").unwrap_or_default();
        if !same_code(shown, user_code) {
            bail!("the confirmation page shows the code {shown}, not {user_code}");
        }
        let fields: Vec<(&str, &str)> = confirm.inputs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        match browser.submit(at.join(&confirm.action)?, &fields, username).await? {
            Stop::Page(_, page) if page.contains("Sign-in Success") => Ok(()),
            Stop::Page(at, page) => bail!("the device sign-in of {username} ended on a page at {at}: {page}"),
            Stop::Redirect(to) => bail!("the device sign-in of {username} redirected away to {to}"),
        }
    }
}

/// User codes compare without case and separators (the provider normalises them so).
fn same_code(a: &str, b: &str) -> bool {
    let normal =
        |s: &str| s.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_uppercase()).collect::<String>();
    normal(a) == normal(b)
}
