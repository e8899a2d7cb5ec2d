//! The token endpoint's grants.

use hyper::{StatusCode, header};
use serde_json::json;

use super::{CASECTL, client, code_for, exchange, start, verify};

const ALL_AUDIENCES: [&str; 8] = [
    "urn:yiciban:intake",
    "urn:yiciban:routing",
    "urn:yiciban:tasks",
    "urn:yiciban:issuance",
    "urn:yiciban:tracking",
    "urn:yiciban:webhooks",
    "urn:yiciban:notifier",
    "urn:yiciban:supervision",
];

#[tokio::test]
async fn client_credentials_token_verifies_against_the_jwks() {
    let issuer = start().await;
    let token_url = format!("{}/token", issuer.issuer());
    let reply = client::post_form(
        &token_url,
        &[("grant_type", "client_credentials"), ("resource", "urn:yiciban:routing")],
        Some(("yiciban-intake", "dev-secret-intake")),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CACHE_CONTROL], "no-store");
    let body = reply.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert!(body.get("refresh_token").is_none(), "no refresh token for client credentials");
    let token = body["access_token"].as_str().unwrap();
    let claims = verify(&issuer, token, "urn:yiciban:routing").await.expect("verifies");
    assert_eq!(claims["aud"], "urn:yiciban:routing");
    assert_eq!(claims["azp"], "yiciban-intake");
    assert_eq!(claims["client_id"], "yiciban-intake");
    assert_eq!(claims["realm_access"]["roles"], json!(["yiciban-service"]));
    assert_eq!(claims["preferred_username"], "service-account-yiciban-intake");
    for claim in ["sub", "iat", "nbf", "exp", "jti"] {
        assert!(claims.get(claim).is_some(), "{claim} in {claims}");
    }
    assert!(verify(&issuer, token, "urn:yiciban:tasks").await.is_err(), "another service's audience is refused");
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);

    // client_secret_post, no resource: every service's audience.
    let reply = client::post_form(
        &token_url,
        &[("grant_type", "client_credentials"), ("client_id", "yiciban-tasks"), ("client_secret", "dev-secret-tasks")],
        None,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let claims = verify(&issuer, reply.json()["access_token"].as_str().unwrap(), "urn:yiciban:tracking").await.unwrap();
    assert_eq!(claims["aud"], json!(ALL_AUDIENCES));
    assert_eq!(claims["azp"], "yiciban-tasks");
}

#[tokio::test]
async fn wrong_or_missing_client_credentials_are_refused() {
    let issuer = start().await;
    let token_url = format!("{}/token", issuer.issuer());
    let cc = [("grant_type", "client_credentials")];
    for basic in [("yiciban-intake", "dev-secret-routing"), ("yiciban-nobody", "dev-secret-intake")] {
        let reply = client::post_form(&token_url, &cc, Some(basic)).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{basic:?}");
        assert_eq!(reply.json()["error"], "invalid_client");
        assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    }
    let post = [("grant_type", "client_credentials"), ("client_id", "yiciban-intake"), ("client_secret", "wrong")];
    let reply = client::post_form(&token_url, &post, None).await;
    assert_eq!((reply.status, reply.json()["error"].clone()), (StatusCode::UNAUTHORIZED, json!("invalid_client")));
    let reply = client::post_form(&token_url, &cc, None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    let public = [("grant_type", "client_credentials"), ("client_id", CASECTL)];
    let reply = client::post_form(&token_url, &public, None).await;
    assert_eq!((reply.status, reply.json()["error"].clone()), (StatusCode::BAD_REQUEST, json!("unauthorized_client")));

    let secret = Some(("yiciban-intake", "dev-secret-intake"));
    let unknown = [("grant_type", "client_credentials"), ("resource", "urn:yiciban:elsewhere")];
    let reply = client::post_form(&token_url, &unknown, secret).await;
    assert_eq!(reply.json()["error"], "invalid_target");
    let reply = client::post_form(&token_url, &[("grant_type", "password")], secret).await;
    assert_eq!(reply.json()["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn an_authorization_code_is_single_use_and_bound_to_its_verifier() {
    let issuer = start().await;

    let (code, _) = code_for(&issuer, "officer-001").await;
    let (wrong_verifier, _) = super::pkce();
    let reply = exchange(&issuer, &code, &wrong_verifier, &[]).await;
    assert_eq!((reply.status, reply.json()["error"].clone()), (StatusCode::BAD_REQUEST, json!("invalid_grant")));
    let reply = exchange(&issuer, &code, &wrong_verifier, &[]).await;
    assert_eq!(reply.json()["error"], "invalid_grant", "a refused code stays spent");

    let (code, verifier) = code_for(&issuer, "officer-001").await;
    let other_redirect = [("redirect_uri", "http://127.0.0.1:1/other")];
    let mut form = vec![("grant_type", "authorization_code"), ("client_id", CASECTL), ("code", &code)];
    form.extend_from_slice(&other_redirect);
    form.push(("code_verifier", &verifier));
    let reply = client::post_form(&format!("{}/token", issuer.issuer()), &form, None).await;
    assert_eq!(reply.json()["error"], "invalid_grant", "the redirect URI is bound to the code");

    let (code, verifier) = code_for(&issuer, "officer-001").await;
    let reply = exchange(&issuer, &code, &verifier, &[("resource", "urn:yiciban:tasks")]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["scope"], "openid profile offline_access");
    let claims = verify(&issuer, body["access_token"].as_str().unwrap(), "urn:yiciban:tasks").await.unwrap();
    assert_eq!(claims["preferred_username"], "officer-001");
    assert_eq!(claims["realm_access"]["roles"], json!(["yiciban-officer"]));
    assert_eq!(claims["azp"], CASECTL);
    assert!(claims.get("id_number").is_none() && claims.get("department").is_none());
    let id_token = verify(&issuer, body["id_token"].as_str().unwrap(), CASECTL).await.expect("the ID token verifies");
    assert_eq!(id_token["nonce"], "nonce-456");
    assert_eq!(id_token["sub"], claims["sub"]);

    let replay = exchange(&issuer, &code, &verifier, &[]).await;
    assert_eq!(replay.json()["error"], "invalid_grant", "a code used twice is refused");
    let refresh = [
        ("grant_type", "refresh_token"),
        ("client_id", CASECTL),
        ("refresh_token", body["refresh_token"].as_str().unwrap()),
    ];
    let reply = client::post_form(&format!("{}/token", issuer.issuer()), &refresh, None).await;
    assert_eq!(reply.json()["error"], "invalid_grant", "the replayed code's refresh token is revoked");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_choose_the_audience() {
    let issuer = start().await;
    let token_url = format!("{}/token", issuer.issuer());
    let (code, verifier) = code_for(&issuer, "mother").await;
    let first = exchange(&issuer, &code, &verifier, &[]).await.json();
    let first_refresh = first["refresh_token"].as_str().unwrap();

    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", CASECTL),
        ("refresh_token", first_refresh),
        ("resource", "urn:yiciban:intake"),
    ];
    let reply = client::post_form(&token_url, &form, None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let second = reply.json();
    let claims = verify(&issuer, second["access_token"].as_str().unwrap(), "urn:yiciban:intake").await.unwrap();
    assert_eq!(claims["aud"], "urn:yiciban:intake");
    assert_eq!(claims["preferred_username"], "mother");
    assert!(claims.get("id_number").is_none(), "no token carries the number: {claims}");
    assert_eq!(claims["realm_access"]["roles"], json!(["yiciban-applicant"]));
    let second_refresh = second["refresh_token"].as_str().unwrap();
    assert_ne!(second_refresh, first_refresh);

    let widen = [
        ("grant_type", "refresh_token"),
        ("client_id", CASECTL),
        ("refresh_token", second_refresh),
        ("scope", "openid email"),
    ];
    assert_eq!(client::post_form(&token_url, &widen, None).await.json()["error"], "invalid_scope");

    // The first refresh token was rotated out: replaying it revokes the sign-in.
    let (code, verifier) = code_for(&issuer, "mother").await;
    let third = exchange(&issuer, &code, &verifier, &[]).await.json();
    let third_refresh = third["refresh_token"].as_str().unwrap();
    let next = client::post_form(
        &token_url,
        &[("grant_type", "refresh_token"), ("client_id", CASECTL), ("refresh_token", third_refresh)],
        None,
    )
    .await
    .json();
    let replay = [("grant_type", "refresh_token"), ("client_id", CASECTL), ("refresh_token", third_refresh)];
    assert_eq!(client::post_form(&token_url, &replay, None).await.json()["error"], "invalid_grant");
    let successor = [
        ("grant_type", "refresh_token"),
        ("client_id", CASECTL),
        ("refresh_token", next["refresh_token"].as_str().unwrap()),
    ];
    assert_eq!(client::post_form(&token_url, &successor, None).await.json()["error"], "invalid_grant");

    let (code, verifier) = code_for(&issuer, "mother").await;
    let fourth = exchange(&issuer, &code, &verifier, &[]).await.json();
    let other_client = [("grant_type", "refresh_token"), ("refresh_token", fourth["refresh_token"].as_str().unwrap())];
    let reply = client::post_form(&token_url, &other_client, Some(("yiciban-intake", "dev-secret-intake"))).await;
    assert_eq!(reply.json()["error"], "invalid_grant");
}
