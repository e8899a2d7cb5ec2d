//! Ending a sign-in: revocation of a refresh token (RFC 7009) and the
//! end-session endpoint, which sends the browser back only to the client's
//! own addresses.

use hyper::StatusCode;

use super::{CASECTL, client, code_for, exchange, start};

#[tokio::test]
async fn a_revoked_refresh_token_no_longer_refreshes_and_only_its_client_revokes_it() {
    let issuer = start().await;
    let (code, verifier) = code_for(&issuer, "clerk-001").await;
    let tokens = exchange(&issuer, &code, &verifier, &[]).await.json();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let revoke = format!("{}/revoke", issuer.issuer());

    // Another client's revocation leaves it alone (and is answered 200 all the same).
    let other =
        client::post_form(&revoke, &[("token", refresh)], Some(("yiciban-workbench", "dev-secret-workbench"))).await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(issuer.holds_refresh_token("clerk-001"));
    let wrong = client::post_form(&revoke, &[("token", refresh)], Some(("yiciban-workbench", "wrong"))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    let revoked = client::post_form(&revoke, &[("token", refresh), ("client_id", CASECTL)], None).await;
    assert_eq!(revoked.status, StatusCode::OK);
    assert!(!issuer.holds_refresh_token("clerk-001"));
    let refused = client::post_form(
        &format!("{}/token", issuer.issuer()),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh), ("client_id", CASECTL)],
        None,
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.json()["error"], "invalid_grant");
}

#[tokio::test]
async fn logout_returns_only_to_an_address_of_the_clients_own() {
    let issuer = start().await;
    let discovery = client::get(&format!("{}/.well-known/openid-configuration", issuer.issuer())).await.json();
    let end_session = discovery["end_session_endpoint"].as_str().unwrap().to_owned();
    assert_eq!(discovery["revocation_endpoint"], format!("{}/revoke", issuer.issuer()));

    let back = "http://127.0.0.1:8090/signed-out";
    let reply = client::get(&client::with_query(
        &end_session,
        &[("client_id", "yiciban-workbench"), ("post_logout_redirect_uri", back), ("state", "s")],
    ))
    .await;
    assert_eq!(reply.status, StatusCode::FOUND);
    assert_eq!(reply.headers["location"], format!("{back}?state=s"));

    let elsewhere = client::get(&client::with_query(
        &end_session,
        &[("client_id", "yiciban-workbench"), ("post_logout_redirect_uri", "https://evil.example/signed-out")],
    ))
    .await;
    assert_eq!(elsewhere.status, StatusCode::BAD_REQUEST);
}
