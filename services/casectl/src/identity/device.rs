//! Signing in on a machine without a browser: the device authorization
//! grant (RFC 8628). casectl prints the code and the address to enter it
//! at, then polls the token endpoint at the interval the issuer asks for,
//! slowing down when told to.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use super::issuer::{Issuer, Refused, Tokens};

/// RFC 8628 §3.4.
const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 §3.2.
#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    #[serde(alias = "verification_url")]
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

/// Signs in with the device grant; the token response.
pub async fn sign_in(issuer: &Issuer, client_id: &str, scope: &str) -> anyhow::Result<Tokens> {
    let endpoint = issuer.discovery.device_authorization_endpoint.as_deref().with_context(|| {
        format!(
            "the issuer {} offers no device authorization (no device_authorization_endpoint); sign in without --device",
            issuer.id()
        )
    })?;
    let started = Instant::now();
    let device: DeviceAuthorization = issuer
        .post(endpoint, &[("client_id", client_id), ("scope", scope)])
        .await
        .context("the issuer refused the device authorization request")?;
    eprintln!(
        "请在任意设备的浏览器中打开 {} 并输入代码 / Open {} in a browser on any device and enter the code:\n\n    {}\n",
        device.verification_uri, device.verification_uri, device.user_code
    );
    if let Some(complete) = &device.verification_uri_complete {
        eprintln!("（或直接打开 / or open directly: {complete}）\n");
    }
    eprintln!("等待确认… / Waiting for the confirmation…");
    let deadline = started + Duration::from_secs(device.expires_in);
    let mut interval = Duration::from_secs(device.interval.unwrap_or(5).max(1));
    loop {
        tokio::time::sleep(interval).await;
        if Instant::now() >= deadline {
            bail!("the device code expired before the sign-in was confirmed; run `casectl login --device` again");
        }
        let form =
            [("grant_type", DEVICE_CODE_GRANT), ("device_code", device.device_code.as_str()), ("client_id", client_id)];
        match issuer.token(&form).await {
            Ok(tokens) => return Ok(tokens),
            Err(Refused::OAuth { error, description }) => match next_step(&error, interval) {
                Some(next) => interval = next,
                None => {
                    bail!("device sign-in ended: {error}{}", description.map(|d| format!(": {d}")).unwrap_or_default())
                }
            },
            Err(unreachable @ Refused::Unreachable(_)) => {
                return Err(anyhow::Error::new(unreachable).context("polling the token endpoint"));
            }
        }
    }
}

/// RFC 8628 §3.5: keep polling (at the returned interval) or stop.
fn next_step(error: &str, interval: Duration) -> Option<Duration> {
    match error {
        "authorization_pending" => Some(interval),
        "slow_down" => Some(interval + Duration::from_secs(5)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_slows_down_when_told_and_stops_on_other_errors() {
        let five = Duration::from_secs(5);
        assert_eq!(next_step("authorization_pending", five), Some(five));
        assert_eq!(next_step("slow_down", five), Some(Duration::from_secs(10)));
        assert_eq!(next_step("access_denied", five), None);
        assert_eq!(next_step("expired_token", five), None);
    }

    #[test]
    fn a_device_authorization_reads_both_spellings_of_the_address() {
        let d: DeviceAuthorization = serde_json::from_str(
            r#"{"device_code":"d","user_code":"ABCD-EFGH","verification_url":"https://sso.example/device","expires_in":600}"#,
        )
        .unwrap();
        assert_eq!((d.verification_uri.as_str(), d.interval), ("https://sso.example/device", None));
    }
}
