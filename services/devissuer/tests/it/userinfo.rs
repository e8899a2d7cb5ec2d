//! Userinfo: the only place an applicant's ID number is released — to the
//! applicant's own access token (any audience), with the scope
//! `yiciban.identity`; never in the access or ID token.

use hyper::StatusCode;
use serde_json::json;

use crate::{client, code_for_scope, exchange, start, verify};

const MOTHER_ID: &str = "11010519491231002X";

#[tokio::test]
async fn userinfo_releases_the_applicants_number_under_the_identity_scope_only_and_no_token_carries_it() {
    let issuer = start().await;
    let discovery = client::get(&format!("{}/.well-known/openid-configuration", issuer.issuer())).await.json();
    let userinfo = discovery["userinfo_endpoint"].as_str().expect("discovery names userinfo").to_owned();
    assert!(discovery["scopes_supported"].as_array().unwrap().contains(&json!("yiciban.identity")));

    let (code, verifier) = code_for_scope(&issuer, "mother", "openid profile yiciban.identity").await;
    let body = exchange(&issuer, &code, &verifier, &[("resource", "urn:yiciban:intake")]).await.json();
    let access = body["access_token"].as_str().unwrap();
    let id_token = body["id_token"].as_str().unwrap();
    for token in [access, id_token] {
        assert!(!client::decoded_payload(token).contains(MOTHER_ID), "a token carries the number");
    }
    let claims = verify(&issuer, access, "urn:yiciban:intake").await.unwrap();
    let answer = client::get_bearer(&userinfo, access).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let answer = answer.json();
    assert_eq!((&answer["sub"], &answer["id_number"]), (&claims["sub"], &json!(MOTHER_ID)));
    assert_eq!(answer["preferred_username"], "mother");

    let (code, verifier) = code_for_scope(&issuer, "mother", "openid profile").await;
    let without = exchange(&issuer, &code, &verifier, &[]).await.json();
    let answer = client::get_bearer(&userinfo, without["access_token"].as_str().unwrap()).await.json();
    assert_eq!(answer["sub"], claims["sub"]);
    assert!(answer.get("id_number").is_none(), "released without the scope: {answer}");

    let (code, verifier) = code_for_scope(&issuer, "clerk-001", "openid yiciban.identity").await;
    let staff = exchange(&issuer, &code, &verifier, &[]).await.json();
    let answer = client::get_bearer(&userinfo, staff["access_token"].as_str().unwrap()).await.json();
    assert!(answer.get("id_number").is_none() && answer["sub"].is_string(), "{answer}");
}

#[tokio::test]
async fn userinfo_refuses_a_missing_foreign_or_non_access_token_and_one_without_openid() {
    let issuer = start().await;
    let userinfo = format!("{}/userinfo", issuer.issuer());
    let missing = client::get(&userinfo).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.headers["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    let other = start().await;
    let foreign = other.mint_user("mother", "urn:yiciban:intake").unwrap();
    assert_eq!(client::get_bearer(&userinfo, &foreign).await.status, StatusCode::UNAUTHORIZED);

    let (code, verifier) = code_for_scope(&issuer, "mother", "openid yiciban.identity").await;
    let body = exchange(&issuer, &code, &verifier, &[]).await.json();
    let id_token = body["id_token"].as_str().unwrap();
    assert_eq!(client::get_bearer(&userinfo, id_token).await.status, StatusCode::UNAUTHORIZED, "an ID token");

    let (code, verifier) = code_for_scope(&issuer, "mother", "profile yiciban.identity").await;
    let body = exchange(&issuer, &code, &verifier, &[]).await.json();
    let reply = client::get_bearer(&userinfo, body["access_token"].as_str().unwrap()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"], "insufficient_scope");
}

#[tokio::test]
async fn a_person_minted_for_a_test_is_answered_for_and_two_sharing_a_name_stay_two() {
    let issuer = start().await;
    let userinfo = format!("{}/userinfo", issuer.issuer());
    let person = |id: &str| yiciban_devissuer::User {
        username: "portal-user".into(),
        display_name: "portal-user".into(),
        role: "yiciban-applicant".into(),
        department: None,
        id_number: Some(id.into()),
    };
    let first = issuer.mint_person(&person(MOTHER_ID));
    let second = issuer.mint_person(&person("150203198801011236"));
    let again = issuer.mint_person(&person(MOTHER_ID));
    let sub = |t: &str| verify_sub(t);
    assert_ne!(sub(&first), sub(&second));
    assert_eq!(sub(&first), sub(&again));
    assert_eq!(client::get_bearer(&userinfo, &first).await.json()["id_number"], MOTHER_ID);
    assert_eq!(client::get_bearer(&userinfo, &second).await.json()["id_number"], "150203198801011236");
}

fn verify_sub(token: &str) -> String {
    let payload: serde_json::Value = serde_json::from_str(&client::decoded_payload(token)).unwrap();
    payload["sub"].as_str().unwrap().to_owned()
}
