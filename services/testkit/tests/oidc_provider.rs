//! The test OpenID Connect provider (a real `oidc-provider`) hands out
//! tokens that follow the identity contract, verified against its JWKS.

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use serde_json::Value;
use yiciban_testkit::oidc::{CASECTL_CLIENT, OidcProvider, ProviderConfig, SigningAlg, audience, service_client};

const REDIRECT: &str = "http://127.0.0.1:45678/callback";

/// The claims of `token` once its signature verified with the provider's
/// published key of its `kid`, for `aud`.
async fn verified(provider: &OidcProvider, token: &str, aud: &str) -> Value {
    let jwks: JwkSet = serde_json::from_value(provider.jwks().await.expect("the JWKS")).expect("a JWK set");
    let header = decode_header(token).expect("a JWT header");
    let kid = header.kid.clone().expect("a kid in the header");
    let jwk = jwks.find(&kid).unwrap_or_else(|| panic!("kid {kid} is not in the JWKS"));
    let key = DecodingKey::from_jwk(jwk).expect("a decoding key");
    assert!(matches!(header.alg, Algorithm::RS256 | Algorithm::ES256), "alg {:?}", header.alg);
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[aud]);
    validation.set_issuer(&[provider.issuer()]);
    decode::<Value>(token, &key, &validation).expect("a valid signature, issuer, audience and lifetime").claims
}

fn kid(token: &str) -> String {
    decode_header(token).expect("a JWT header").kid.expect("a kid")
}

#[tokio::test]
async fn client_credentials_token_is_a_service_jwt_for_the_asked_audience() {
    let provider = OidcProvider::start(ProviderConfig::standard()).await.expect("the provider starts");
    let client = service_client("routing");
    let secret = provider.config().secret(&client).to_owned();
    let token = provider.client_credentials(&client, &secret, &audience("tasks")).await.expect("a token");
    let claims = verified(&provider, &token, "urn:yiciban:tasks").await;
    assert_eq!(claims["aud"], "urn:yiciban:tasks");
    assert_eq!(claims["realm_access"]["roles"], serde_json::json!(["yiciban-service"]));
    assert_eq!(claims["azp"], "yiciban-routing");
    assert_eq!(claims["client_id"], "yiciban-routing");
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert_eq!(kid(&token), provider.signing_kid());
}

#[tokio::test]
async fn a_wrong_secret_or_an_unknown_resource_is_refused() {
    let provider = OidcProvider::start(ProviderConfig::standard()).await.expect("the provider starts");
    let client = service_client("intake");
    let err = provider.client_credentials(&client, "not-the-secret", &audience("intake")).await.unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "{err}");
    let other = provider.config().secret(&service_client("tasks")).to_owned();
    let err = provider.client_credentials(&client, &other, &audience("intake")).await.unwrap_err();
    assert!(err.to_string().contains("invalid_client"), "another client's secret: {err}");
    let secret = provider.config().secret(&client).to_owned();
    let err = provider.client_credentials(&client, &secret, "urn:yiciban:nowhere").await.unwrap_err();
    assert!(err.to_string().contains("invalid_target"), "{err}");
}

#[tokio::test]
async fn the_code_flow_gives_user_tokens_with_the_users_claims_and_refresh_works() {
    let provider = OidcProvider::start(ProviderConfig::standard()).await.expect("the provider starts");
    let tokens = provider
        .authorization_code("agent-samr-1", CASECTL_CLIENT, REDIRECT, &audience("tasks"))
        .await
        .expect("signed in");
    let claims = verified(&provider, &tokens.access_token, "urn:yiciban:tasks").await;
    assert_eq!(claims["sub"], "agent-samr-1");
    assert_eq!(claims["preferred_username"], "agent-samr-1");
    assert_eq!(claims["realm_access"]["roles"], serde_json::json!(["yiciban-agent"]));
    assert_eq!(claims["department"], "samr");
    assert_eq!(claims["azp"], CASECTL_CLIENT);
    assert!(claims.get("id_number").is_none(), "{claims}");
    let id_token = tokens.id_token.as_deref().expect("an ID token");
    let id_claims = verified(&provider, id_token, CASECTL_CLIENT).await;
    assert_eq!(id_claims["sub"], "agent-samr-1");

    let refresh_token = tokens.refresh_token.expect("a refresh token");
    let refreshed = provider.refresh(&refresh_token, &audience("tracking")).await.expect("refreshed");
    let claims = verified(&provider, &refreshed.access_token, "urn:yiciban:tracking").await;
    assert_eq!(claims["preferred_username"], "agent-samr-1");
    assert_eq!(claims["department"], "samr");
    assert_ne!(refreshed.access_token, tokens.access_token);
    // the public client's refresh token is rotated: the new one works, the
    // old one is spent (and its reuse revokes the whole grant, as the
    // OAuth security BCP wants)
    let again = refreshed.refresh_token.expect("a new refresh token");
    let third = provider.refresh(&again, &audience("tasks")).await.expect("the new refresh token works");
    let err = provider.refresh(&refresh_token, &audience("tasks")).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "{err}");
    let err = provider.refresh(&third.refresh_token.unwrap(), &audience("tasks")).await.unwrap_err();
    assert!(err.to_string().contains("invalid_grant"), "after a reuse: {err}");
}

#[tokio::test]
async fn applicants_tokens_carry_no_identity_number_and_userinfo_releases_it_to_their_access_token() {
    let provider = OidcProvider::start(ProviderConfig::standard()).await.expect("the provider starts");
    for (user, id_number) in [("mother", "11010519491231002X"), ("company-1", "91350100M000100Y43")] {
        let tokens =
            provider.authorization_code(user, CASECTL_CLIENT, REDIRECT, &audience("intake")).await.expect("signed in");
        let claims = verified(&provider, &tokens.access_token, "urn:yiciban:intake").await;
        assert!(!claims.to_string().contains(id_number), "the access token carries the number: {claims}");
        assert_eq!(claims["realm_access"]["roles"], serde_json::json!(["yiciban-applicant"]));
        let id_token = tokens.id_token.as_deref().expect("an ID token");
        let id_claims = verified(&provider, id_token, CASECTL_CLIENT).await;
        assert!(!id_claims.to_string().contains(id_number), "the ID token carries the number: {id_claims}");
        // The services ask userinfo with the applicant's own access token.
        let (status, answer) = provider.userinfo(&tokens.access_token).await.expect("userinfo answers");
        assert_eq!(status, 200, "{answer}");
        assert_eq!((&answer["sub"], &answer["id_number"]), (&claims["sub"], &serde_json::json!(id_number)));
        // The same token with another subject written in: the signature no
        // longer holds, and userinfo answers for nobody.
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut other = claims.clone();
        other["sub"] = serde_json::json!(if user == "mother" { "company-1" } else { "mother" });
        let parts: Vec<&str> = tokens.access_token.split('.').collect();
        let tampered = format!("{}.{}.{}", parts[0], b64.encode(other.to_string()), parts[2]);
        let (status, answer) = provider.userinfo(&tampered).await.unwrap();
        assert_eq!(status, 401, "{answer}");
    }
    let clerk = provider.authorization_code("clerk-001", CASECTL_CLIENT, REDIRECT, &audience("intake")).await.unwrap();
    let (status, answer) = provider.userinfo(&clerk.access_token).await.unwrap();
    assert_eq!(status, 200);
    assert!(answer.get("id_number").is_none(), "{answer}");
    let err = provider.authorization_code("nobody", CASECTL_CLIENT, REDIRECT, &audience("intake")).await;
    assert!(err.is_err(), "an unknown user signed in: {err:?}");
}

#[tokio::test]
async fn rotated_keys_sign_with_a_new_kid_and_keep_the_old_one_published() {
    let mut config = ProviderConfig::standard();
    config.signing_alg = SigningAlg::ES256;
    let mut provider = OidcProvider::start(config).await.expect("the provider starts");
    let client = service_client("tasks");
    let secret = provider.config().secret(&client).to_owned();
    let before = provider.client_credentials(&client, &secret, &audience("routing")).await.expect("a token");
    assert_eq!(decode_header(&before).unwrap().alg, Algorithm::ES256);
    let issuer = provider.issuer().to_owned();

    provider.rotate_keys().await.expect("rotated");
    assert_eq!(provider.issuer(), issuer, "same port, same issuer");
    let after = provider.client_credentials(&client, &secret, &audience("routing")).await.expect("a token");
    assert_ne!(kid(&after), kid(&before));
    let published: Vec<String> = provider.jwks().await.unwrap()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert!(published.contains(&kid(&before)) && published.contains(&kid(&after)), "{published:?}");
    verified(&provider, &before, "urn:yiciban:routing").await;
    verified(&provider, &after, "urn:yiciban:routing").await;

    provider.rotate_keys_dropping_old().await.expect("rotated");
    let jwks = provider.jwks().await.unwrap();
    let published: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(published, vec![provider.signing_kid()]);
    assert!(!published.contains(&kid(&after).as_str()));
}
