//! The token check: a request passes with `Authorization: Bearer TOKEN`, the cookie
//! `alignscope_token=TOKEN`, or `?token=TOKEN` in the URL (answered with that cookie, so
//! the page opened from the printed URL and its files load). The rest gets 401. Calls
//! (`POST /api/call`, everything that changes data) take the bearer header only: a browser
//! sends the cookie with requests that other pages forge, never a header they set.
//! Tokens are compared in constant time.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::ServerError;

/// Name of the cookie holding the token.
pub const COOKIE: &str = "alignscope_token";

/// The server's secret: 32 random bytes, hex.
#[derive(Clone)]
pub struct Token(Arc<str>);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A fresh random token.
    pub fn random() -> Result<Self, ServerError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| ServerError::Random(e.to_string()))?;
        Ok(Self(
            bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
                .into(),
        ))
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the token (constant time in the token's content).
    pub fn matches(&self, candidate: &str) -> bool {
        self.0.as_bytes().ct_eq(candidate.as_bytes()).into()
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then_some(value)
        })
}

fn query_token(request: &Request) -> Option<String> {
    let Query(mut query) = Query::<HashMap<String, String>>::try_from_uri(request.uri()).ok()?;
    query.remove("token")
}

/// Whether the request is an API call, which only the bearer header may authorise.
fn is_call(request: &Request) -> bool {
    request.uri().path() == "/api/call"
}

/// The middleware.
pub async fn require_token(State(token): State<Token>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    if bearer(headers).is_some_and(|t| token.matches(t)) {
        return next.run(request).await;
    }
    if is_call(&request) {
        return unauthorised(
            "POST /api/call needs the header `Authorization: Bearer TOKEN` (the cookie is not \
             accepted for calls); TOKEN is in the URL that `alignscope serve` printed\n",
        );
    }
    if cookies(headers).any(|t| token.matches(t)) {
        return next.run(request).await;
    }
    if query_token(&request).is_some_and(|t| token.matches(&t)) {
        let mut response = next.run(request).await;
        let cookie = format!(
            "{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
            token.as_str()
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return response;
    }
    unauthorised("missing or wrong token: open the URL that `alignscope serve` printed\n")
}

fn unauthorised(message: &'static str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, "Bearer")],
        message,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_compare_exactly() {
        let a = Token::random().unwrap();
        let b = Token::random().unwrap();
        assert_eq!(a.as_str().len(), 64);
        assert!(a.as_str().chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(&a.as_str()[..63]));
        assert!(!a.matches(""));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; alignscope_token=abc ;x=y"),
        );
        assert_eq!(cookies(&headers).collect::<Vec<_>>(), ["abc"]);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer  xyz"),
        );
        assert_eq!(bearer(&headers), Some("xyz"));
    }
}
