//! What the casectl tests share: a private configuration directory and the
//! casectl binary run in it as a user would run it.

#![allow(dead_code)] // each test file uses a part

use std::path::PathBuf;

use serde_json::Value;

/// A configuration directory of its own, removed at the end.
pub struct Home(pub PathBuf);

impl Home {
    pub fn new() -> Home {
        let dir = std::env::temp_dir().join(format!("casectl-test-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Home(dir)
    }

    pub fn profile(&self, name: &str) -> PathBuf {
        self.0.join("yiciban").join("profiles").join(format!("{name}.json"))
    }

    pub fn read(&self, name: &str) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.profile(name)).unwrap()).unwrap()
    }

    pub fn write(&self, name: &str, profile: &Value) {
        std::fs::write(self.profile(name), profile.to_string()).unwrap();
    }

    pub fn casectl(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_casectl"));
        command
            .args(args)
            .env("XDG_CONFIG_HOME", &self.0)
            .env("HOME", &self.0)
            .env_remove("YICIBAN_OIDC_ISSUER")
            .env_remove("CASECTL_PROFILE")
            .env_remove("CASECTL_TOKEN")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .kill_on_drop(true);
        command
    }

    /// Runs casectl; (success, stdout, stderr).
    pub async fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = self.casectl(args).output().await.unwrap();
        (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    }

    /// `casectl login --user <user>` at `issuer` into `profile` (the development issuer signs in without a page).
    pub async fn login(&self, issuer: &str, profile: &str, user: &str) {
        let (ok, _, err) = self.run(&["login", "--issuer", issuer, "--profile", profile, "--user", user]).await;
        assert!(ok, "login failed: {err}");
    }

    /// `casectl token --service <service>`: the printed token.
    pub async fn token(&self, profile: &str, service: &str) -> String {
        let (ok, out, err) = self.run(&["--profile", profile, "token", "--service", service]).await;
        assert!(ok, "token failed: {err}");
        out.trim().to_owned()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The `aud` of a JWT, read without verifying it (the tests verify separately).
pub fn audiences_of(token: &str) -> Vec<String> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    match &claims["aud"] {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
        other => panic!("aud {other}"),
    }
}
