//! A plain HTTP/1 client for the tests (one connection per request, no
//! redirects followed: the tests look at the 302s themselves).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde_json::Value;

/// A response, body read.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("JSON body expected ({e}): {}", self.body))
    }

    /// The query parameters of the `Location` of a redirect.
    pub fn redirect_params(&self) -> (String, Vec<(String, String)>) {
        assert_eq!(self.status, StatusCode::FOUND, "a redirect expected: {self:?}");
        let location = self.headers[header::LOCATION].to_str().unwrap();
        let (base, query) = location.split_once('?').expect("a query in the redirect");
        (base.to_owned(), form_urlencoded::parse(query.as_bytes()).into_owned().collect())
    }

    /// One parameter of the redirect.
    pub fn redirect_param(&self, name: &str) -> Option<String> {
        self.redirect_params().1.into_iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

async fn send(url: &str, method: &str, headers: &[(header::HeaderName, String)], body: String) -> Reply {
    let uri: hyper::Uri = url.parse().expect("a URL");
    let authority = uri.authority().expect("an absolute URL").clone();
    let stream = tokio::net::TcpStream::connect(authority.as_str()).await.expect("connect to the issuer");
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("HTTP/1 handshake");
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"))
        .header(header::HOST, authority.as_str());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = sender.send_request(request.body(Full::new(Bytes::from(body))).unwrap()).await.expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the body").to_bytes();
    Reply { status: parts.status, headers: parts.headers, body: String::from_utf8(body.to_vec()).expect("UTF-8") }
}

/// `GET url`.
pub async fn get(url: &str) -> Reply {
    send(url, "GET", &[], String::new()).await
}

/// The payload of a JWT, decoded (not verified), as text.
pub fn decoded_payload(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).expect("base64url");
    String::from_utf8(bytes).expect("UTF-8")
}

/// `GET url` with `Authorization: Bearer <token>`.
pub async fn get_bearer(url: &str, token: &str) -> Reply {
    send(url, "GET", &[(header::AUTHORIZATION, format!("Bearer {token}"))], String::new()).await
}

/// `POST url` with a form body, and HTTP Basic credentials if given.
pub async fn post_form(url: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
    let mut body = form_urlencoded::Serializer::new(String::new());
    body.extend_pairs(form);
    let mut headers = vec![(header::CONTENT_TYPE, "application/x-www-form-urlencoded".to_owned())];
    if let Some((id, secret)) = basic {
        headers.push((header::AUTHORIZATION, format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))));
    }
    send(url, "POST", &headers, body.finish()).await
}

/// `url` with `params` as its query.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.extend_pairs(params);
    format!("{url}?{}", query.finish())
}
