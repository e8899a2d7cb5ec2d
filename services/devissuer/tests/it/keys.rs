//! Discovery, the JWKS, key rotation, minted tokens and shutdown.

use hyper::StatusCode;
use serde_json::{Map, Value, json};

use super::{client, start, verify};

#[tokio::test]
async fn discovery_and_jwks_have_the_standard_shape() {
    let issuer = start().await;
    let base = issuer.issuer();
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with('/'));
    let discovery = client::get(&format!("{base}/.well-known/openid-configuration")).await;
    assert_eq!(discovery.status, StatusCode::OK);
    let d = discovery.json();
    assert_eq!(d["issuer"], base);
    assert_eq!(d["jwks_uri"], format!("{base}/jwks"));
    assert_eq!(d["token_endpoint"], format!("{base}/token"));
    assert_eq!(d["authorization_endpoint"], format!("{base}/authorize"));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["ES256"]));
    assert_eq!(d["grant_types_supported"], json!(["authorization_code", "client_credentials", "refresh_token"]));
    let auth_methods = d["token_endpoint_auth_methods_supported"].as_array().unwrap();
    assert!(
        auth_methods.contains(&json!("client_secret_basic")) && auth_methods.contains(&json!("client_secret_post"))
    );

    let jwks = client::get(d["jwks_uri"].as_str().unwrap()).await.json();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (&json!("EC"), &json!("P-256"), &json!("ES256"), &json!("sig"))
    );
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    let mut names: Vec<&str> = key.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["alg", "crv", "kid", "kty", "use", "x", "y"], "public parameters only");
}

fn kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

async fn published_kids(issuer: &yiciban_devissuer::DevIssuer) -> Vec<String> {
    let jwks = client::get(&format!("{}/jwks", issuer.issuer())).await.json();
    jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn rotation_keeps_the_previous_key_until_retired() {
    let issuer = start().await;
    let before = issuer.mint_user("clerk-001", "urn:yiciban:intake").unwrap();
    issuer.rotate();
    let after = issuer.mint_user("clerk-001", "urn:yiciban:intake").unwrap();
    assert_ne!(kid(&before), kid(&after));
    assert_eq!(published_kids(&issuer).await, [kid(&after), kid(&before)]);
    verify(&issuer, &before, "urn:yiciban:intake").await.expect("the previous key still verifies");
    let claims = verify(&issuer, &after, "urn:yiciban:intake").await.expect("the new key verifies");
    assert_eq!(claims["preferred_username"], "clerk-001");
    assert_eq!(claims["realm_access"]["roles"], json!(["yiciban-clerk"]));

    issuer.retire_old_keys();
    assert_eq!(published_kids(&issuer).await, [kid(&after)]);
    assert!(verify(&issuer, &before, "urn:yiciban:intake").await.is_err(), "a retired key's token fails");
    assert!(issuer.mint_user("nobody", "urn:yiciban:intake").is_err());
}

#[tokio::test]
async fn mint_fills_the_registered_claims_and_keeps_given_ones() {
    let issuer = start().await;
    let mut claims = Map::new();
    claims.insert("sub".into(), "s".into());
    claims.insert("aud".into(), "urn:yiciban:issuance".into());
    claims.insert("realm_access".into(), json!({ "roles": ["yiciban-admin"] }));
    let verified = verify(&issuer, &issuer.mint(claims.clone()), "urn:yiciban:issuance").await.unwrap();
    assert_eq!(verified["iss"], issuer.issuer());
    assert!(verified["exp"].as_u64().unwrap() > verified["iat"].as_u64().unwrap());

    claims.insert("exp".into(), Value::from(1_000_000_000u64));
    let expired = issuer.mint(claims);
    assert!(verify(&issuer, &expired, "urn:yiciban:issuance").await.is_err(), "a given exp is kept");
}

#[tokio::test]
async fn the_issuer_stops_on_shutdown_and_when_the_last_handle_goes() {
    for by_drop in [false, true] {
        let issuer = start().await;
        let url = format!("{}/jwks", issuer.issuer());
        let addr = url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        let other = issuer.clone();
        drop(other);
        assert_eq!(client::get(&url).await.status, StatusCode::OK, "a clone's drop does not stop it");
        if by_drop {
            drop(issuer);
        } else {
            issuer.shutdown();
        }
        let mut refused = false;
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(&addr).await.is_err() {
                refused = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(refused, "the listener is closed (by drop: {by_drop})");
    }
}
