//! The ID token of a sign-in is checked as OpenID Connect Core §3.1.3.7
//! says: the issuer's signature, this client as audience, its lifetime and
//! the nonce the sign-in sent.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use yiciban_platform::auth::{ClaimMapping, IssuerKeys, KeyPolicy};
use yiciban_testkit::TestIssuer;
use yiciban_workbench::oidc::{OidcError, Provider, ProviderSettings};

fn claims(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[tokio::test]
async fn an_id_token_passes_only_with_this_clients_audience_its_lifetime_and_the_nonce_sent() {
    let issuer = TestIssuer::start().await;
    let http = yiciban_platform::auth::http_client(None).unwrap();
    let provider = Provider::new(ProviderSettings {
        keys: Arc::new(IssuerKeys::new(http.clone(), &issuer.url(), KeyPolicy::default())),
        http,
        claims: ClaimMapping::default(),
        client_id: "yiciban-workbench".into(),
        client_secret: "dev-secret-workbench".into(),
        redirect_uri: "http://127.0.0.1:8090/auth/callback".into(),
        scope: "openid".into(),
        audiences: vec!["urn:yiciban:tasks".into()],
    });
    let good = json!({"sub": "s", "aud": "yiciban-workbench", "nonce": "n-1", "name": "王芳"});
    let id = provider.verify_id_token(&issuer.sign(claims(good.clone())), "n-1").await.expect("a good ID token");
    assert_eq!(id.display_name, "王芳");

    let mut other_nonce = good.clone();
    other_nonce["nonce"] = "n-2".into();
    let mut no_nonce = good.clone();
    no_nonce.as_object_mut().unwrap().remove("nonce");
    let mut other_audience = good.clone();
    other_audience["aud"] = "yiciban-casectl".into();
    let mut expired = good.clone();
    expired["exp"] = 1_000_000.into();
    let mut other_party = good.clone();
    other_party["aud"] = json!(["yiciban-workbench", "yiciban-casectl"]);
    other_party["azp"] = "yiciban-casectl".into();
    for (case, token) in [
        ("another nonce", other_nonce),
        ("no nonce", no_nonce),
        ("another audience", other_audience),
        ("expired", expired),
        ("another authorized party", other_party),
    ] {
        let refused = provider.verify_id_token(&issuer.sign(claims(token)), "n-1").await;
        assert!(matches!(refused, Err(OidcError::Invalid(_))), "{case}: {refused:?}");
    }
    let unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJzIn0.";
    assert!(matches!(provider.verify_id_token(unsigned, "n-1").await, Err(OidcError::Invalid(_))));
}
