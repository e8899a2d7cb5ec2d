//! The authorization endpoint: the sign-in page, `login_hint`, and errors.

use hyper::{StatusCode, header};
use serde_json::json;

use super::{CALLBACK, CASECTL, authorize_url, client, exchange, pkce, start, verify};

/// The value of the page's hidden `page` field.
fn page_token(html: &str) -> String {
    let start = html.find("name=\"page\" value=\"").expect("the hidden field") + "name=\"page\" value=\"".len();
    html[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_sign_in_page_lists_the_users_and_completes_the_flow() {
    let issuer = start().await;
    let (verifier, challenge) = pkce();
    let page = client::get(&authorize_url(&issuer, &challenge, &[])).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    assert_eq!(page.headers[header::X_FRAME_OPTIONS], "DENY");
    for text in ["请选择登录身份", "clerk-001", "agent-samr-1", "市场监督管理局经办人", "以此身份登录"]
    {
        assert!(page.body.contains(text), "{text} on the page");
    }
    let token = page_token(&page.body);

    let authorize = format!("{}/authorize", issuer.issuer());
    let forged = client::post_form(&authorize, &[("page", "forged"), ("username", "admin-001")], None).await;
    assert_eq!(forged.status, StatusCode::BAD_REQUEST, "a page token not issued is refused");

    let chosen = client::post_form(&authorize, &[("page", &token), ("username", "sup-001")], None).await;
    let (base, _) = chosen.redirect_params();
    assert_eq!(base, CALLBACK);
    assert_eq!(chosen.redirect_param("state").as_deref(), Some("state-123"));
    assert_eq!(chosen.redirect_param("iss"), Some(issuer.issuer()));
    let code = chosen.redirect_param("code").unwrap();
    let again = client::post_form(&authorize, &[("page", &token), ("username", "admin-001")], None).await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST, "a page completes once");

    let body = exchange(&issuer, &code, &verifier, &[("resource", "urn:yiciban:tracking")]).await.json();
    let claims = verify(&issuer, body["access_token"].as_str().unwrap(), "urn:yiciban:tracking").await.unwrap();
    assert_eq!(claims["preferred_username"], "sup-001");
    assert_eq!(claims["realm_access"]["roles"], json!(["yiciban-supervisor"]));
}

#[tokio::test]
async fn cancelling_the_page_tells_the_client() {
    let issuer = start().await;
    let (_, challenge) = pkce();
    let page = client::get(&authorize_url(&issuer, &challenge, &[])).await;
    let authorize = format!("{}/authorize", issuer.issuer());
    let cancelled = client::post_form(&authorize, &[("page", &page_token(&page.body)), ("cancel", "1")], None).await;
    assert_eq!(cancelled.redirect_param("error").as_deref(), Some("access_denied"));
    assert_eq!(cancelled.redirect_param("state").as_deref(), Some("state-123"));
}

#[tokio::test]
async fn login_hint_signs_a_seeded_user_in_without_the_page() {
    let issuer = start().await;
    let (verifier, challenge) = pkce();
    let reply = client::get(&authorize_url(&issuer, &challenge, &[("login_hint", "agent-samr-1")])).await;
    let code = reply.redirect_param("code").expect("a code at once");
    let body = exchange(&issuer, &code, &verifier, &[("resource", "urn:yiciban:tasks")]).await.json();
    let claims = verify(&issuer, body["access_token"].as_str().unwrap(), "urn:yiciban:tasks").await.unwrap();
    assert_eq!(claims["preferred_username"], "agent-samr-1");
    assert_eq!(claims["department"], "samr");
    assert_eq!(claims["realm_access"]["roles"], json!(["yiciban-agent"]));

    let (_, challenge) = pkce();
    let unknown = client::get(&authorize_url(&issuer, &challenge, &[("login_hint", "nobody")])).await;
    assert_eq!(unknown.status, StatusCode::OK, "an unknown hint shows the page");
    let silent =
        client::get(&authorize_url(&issuer, &challenge, &[("login_hint", "nobody"), ("prompt", "none")])).await;
    assert_eq!(silent.redirect_param("error").as_deref(), Some("login_required"));
}

#[tokio::test]
async fn bad_requests_are_refused_by_page_or_by_redirect() {
    let issuer = start().await;
    let authorize = format!("{}/authorize", issuer.issuer());
    let (_, challenge) = pkce();
    let base = |client_id: &'static str, redirect: &'static str| {
        vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", redirect),
            ("state", "s"),
            ("code_challenge_method", "S256"),
        ]
    };

    // The client or its redirect cannot be trusted: a 400 page, no redirect.
    for (client_id, redirect) in [
        ("yiciban-nobody", CALLBACK),
        (CASECTL, "http://evil.example:80/callback"),
        (CASECTL, "https://127.0.0.1:5000/callback"),
        ("yiciban-intake", CALLBACK),
    ] {
        let mut params = base(client_id, redirect);
        params.push(("code_challenge", &challenge));
        let reply = client::get(&client::with_query(&authorize, &params)).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{client_id} {redirect}");
        assert!(reply.body.contains("登录请求无效"));
    }

    // A trusted redirect hears of the error, with the state.
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "invalid_request"),
        (&[("code_challenge", "too-short")], "invalid_request"),
        (&[("code_challenge", &challenge), ("response_type", "token")], "invalid_request"),
        (&[("code_challenge", &challenge), ("code_challenge_method", "plain")], "invalid_request"),
    ];
    for (extra, error) in cases {
        let mut params = base(CASECTL, "http://localhost:40123/cb");
        params.extend_from_slice(extra);
        let reply = client::get(&client::with_query(&authorize, &params)).await;
        let (base_uri, _) = reply.redirect_params();
        assert_eq!(base_uri, "http://localhost:40123/cb");
        assert_eq!(reply.redirect_param("error").as_deref(), Some(error), "{extra:?}");
        assert_eq!(reply.redirect_param("state").as_deref(), Some("s"));
        assert!(reply.redirect_param("code").is_none());
    }
    let mut params = base(CASECTL, CALLBACK);
    params.retain(|(n, _)| *n != "response_type");
    params.extend([("response_type", "token"), ("code_challenge", &challenge)]);
    let reply = client::get(&client::with_query(&authorize, &params)).await;
    assert_eq!(reply.redirect_param("error").as_deref(), Some("unsupported_response_type"));
}

#[tokio::test]
async fn page_text_is_escaped() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = yiciban_devissuer::IssuerConfig::seeded(&[]);
    config.users[0].display_name = "<script>alert('x')</script>".into();
    let issuer = yiciban_devissuer::DevIssuer::start(listener, config).await.unwrap();
    let (_, challenge) = pkce();
    let page = client::get(&authorize_url(&issuer, &challenge, &[])).await;
    assert!(!page.body.contains("<script>"));
    assert!(page.body.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"), "{}", page.body);
}
