//! A person at a browser on the provider's pages: a cookie jar, redirects
//! followed one by one while they stay at the provider, and HTML forms read
//! and posted as a browser would (the package's development login and
//! consent pages, the device flow's user-code pages).

use anyhow::{Context as _, bail};
use reqwest::Url;

/// How many redirects and pages a sign-in may take.
const MAX_STEPS: usize = 20;

/// Where a walk through the provider's pages stopped.
#[derive(Debug)]
pub(super) enum Stop {
    /// A redirect away from the provider (to a client's redirect URI), not followed.
    Redirect(Url),
    /// A page that asks for no sign-in: its address and HTML.
    Page(Url, String),
}

/// A browser with a cookie jar that does not follow redirects by itself.
pub(super) struct Browser {
    client: reqwest::Client,
    /// The provider's origin: redirects elsewhere end a walk.
    origin: reqwest::Url,
}

impl Browser {
    /// A new browser (empty cookie jar) at the provider `issuer`.
    pub(super) fn new(issuer: &str) -> anyhow::Result<Browser> {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Browser { client, origin: Url::parse(issuer)? })
    }

    /// Opens `url` and walks on as [`walk`](Self::walk) does.
    pub(super) async fn open(&self, url: Url, username: &str) -> anyhow::Result<Stop> {
        let response = self.client.get(url.clone()).send().await?;
        self.walk(url, response, username).await
    }

    /// Posts `fields` as a form to `url` and walks on.
    pub(super) async fn submit(&self, url: Url, fields: &[(&str, &str)], username: &str) -> anyhow::Result<Stop> {
        let response = self.client.post(url.clone()).form(fields).send().await?;
        self.walk(url, response, username).await
    }

    /// From `response` (of `url`): follows redirects while they stay at the
    /// provider, signs `username` in on the login page (any password: the
    /// development interactions), consents on the consent page; stops at a
    /// redirect leaving the provider or at any other page.
    async fn walk(&self, mut url: Url, mut response: reqwest::Response, username: &str) -> anyhow::Result<Stop> {
        for _ in 0..MAX_STEPS {
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .context("a redirect without a Location")?;
                let next = url.join(location)?;
                if next.origin() != self.origin.origin() {
                    return Ok(Stop::Redirect(next));
                }
                url = next;
                response = self.client.get(url.clone()).send().await?;
                continue;
            }
            let status = response.status();
            let page = response.text().await?;
            if !status.is_success() {
                bail!("the provider answered {status} at {url}: {page}");
            }
            let Some(form) = Form::first(&page).filter(|f| f.value("prompt").is_some()) else {
                return Ok(Stop::Page(url, page));
            };
            let fields: Vec<(&str, &str)> = match form.value("prompt").unwrap_or_default() {
                "login" => vec![("prompt", "login"), ("login", username), ("password", "any password")],
                "consent" => vec![("prompt", "consent")],
                other => bail!("the provider asks for an unexpected prompt {other} at {url}"),
            };
            url = url.join(&form.action)?;
            response = self.client.post(url.clone()).form(&fields).send().await?;
        }
        bail!("signing {username} in took more than {MAX_STEPS} steps (last at {url})");
    }
}

/// An HTML form: where it posts and its named inputs with their values.
#[derive(Debug)]
pub(super) struct Form {
    /// The `action` attribute, entities decoded.
    pub(super) action: String,
    /// `name` and `value` of every `<input>` with a name, in order.
    pub(super) inputs: Vec<(String, String)>,
}

impl Form {
    /// The first form of `page`.
    pub(super) fn first(page: &str) -> Option<Form> {
        Form::parse(&page[page.find("<form")?..])
    }

    /// The form whose `id` is `id`.
    pub(super) fn by_id(page: &str, id: &str) -> Option<Form> {
        let start = page.match_indices("<form").map(|(i, _)| i).find(|&i| {
            let tag = &page[i..];
            tag[..tag.find('>').unwrap_or(tag.len())].contains(&format!("id=\"{id}\""))
        })?;
        Form::parse(&page[start..])
    }

    /// `form` starts at `<form`; reads up to `</form>`.
    fn parse(form: &str) -> Option<Form> {
        let form = &form[..form.find("</form>").unwrap_or(form.len())];
        let action = attribute(&form[..form.find('>')?], "action")?;
        let inputs = form
            .match_indices("<input")
            .filter_map(|(i, _)| {
                let tag = &form[i..];
                let tag = &tag[..tag.find('>')?];
                Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default()))
            })
            .collect();
        Some(Form { action, inputs })
    }

    /// The value of the input `name`.
    pub(super) fn value(&self, name: &str) -> Option<&str> {
        self.inputs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// The value of `name="…"` in a tag (preceded by whitespace), HTML entities of URLs decoded.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!("{name}=\"");
    let start =
        tag.match_indices(&needle).map(|(i, _)| i).find(|&i| tag[..i].ends_with(|c: char| c.is_ascii_whitespace()))?
            + needle.len();
    let end = start + tag[start..].find('"')?;
    Some(tag[start..end].replace("&amp;", "&").replace("&#x2F;", "/").replace("&#39;", "'").replace("&quot;", "\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_read_with_their_inputs() {
        let page = r#"<p>x</p><form id="a" action="/one"><input type="hidden" name="xsrf" value="s1"/></form>
            <form id="op.deviceConfirmForm" method="post" action="/device?x=1&amp;y=2">
            <input type="hidden" name="xsrf" value="s2"/>
            <input type="hidden" name="user_code" value="ABCD-EFGH"/>
            <input type="text" name="free"></form>"#;
        let first = Form::first(page).unwrap();
        assert_eq!((first.action.as_str(), first.value("xsrf")), ("/one", Some("s1")));
        assert_eq!(first.value("user_code"), None, "inputs of a later form are not this one's");
        let confirm = Form::by_id(page, "op.deviceConfirmForm").unwrap();
        assert_eq!(confirm.action, "/device?x=1&y=2");
        assert_eq!(confirm.value("user_code"), Some("ABCD-EFGH"));
        assert_eq!(confirm.value("free"), Some(""));
        assert!(Form::by_id(page, "missing").is_none());
    }

    #[test]
    fn an_attribute_is_matched_by_its_whole_name() {
        assert_eq!(attribute(r#"<input data-value="no" value="yes">"#, "value").as_deref(), Some("yes"));
    }
}
