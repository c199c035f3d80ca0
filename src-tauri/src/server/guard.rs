//! Requests that another page made the browser send: refused before the token is looked at.
//!
//! A page on another port of the same host is *same-site* with the UI, so the browser sends
//! it the token cookie; it cannot read the answers, but a `POST` alone can delete runs or
//! start them. And a page on a domain that resolves to 127.0.0.1 (DNS rebinding) is even
//! same-origin from the browser's point of view. So, on top of the token:
//!
//! - `Host` must be one of this server's own names ([`HostPolicy`]): a rebound domain is
//!   refused with 403.
//! - `Origin`, when the browser sends one, must be `http://` plus that `Host`: a fetch from
//!   any other origin is refused with 403.
//! - `Sec-Fetch-Site: same-site | cross-site` on `/api/*` is refused with 403 (an `<img>`
//!   or `EventSource` of a foreign page); navigations to the UI itself stay allowed.
//! - `POST /api/call` takes only `Content-Type: application/json` (415 otherwise: no HTML
//!   form can send it) and only the `Authorization: Bearer` token, never the cookie
//!   ([`super::auth`]).
//!
//! Every answer also carries the browser hardening headers ([`security_headers`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Which `Host` header values name this server.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    port: u16,
    /// Bound to a single address: only it (and `localhost` for a loopback address).
    bound: Option<IpAddr>,
    /// Extra host names the user allowed (`--allow-host`), lower case, without port.
    names: Arc<[String]>,
}

impl HostPolicy {
    /// The policy of a server listening on `local` (its bound address and port), with the
    /// extra host `names` a user allowed.
    pub fn new(local: SocketAddr, names: &[String]) -> Self {
        let ip = local.ip();
        Self {
            port: local.port(),
            bound: (!ip.is_unspecified()).then_some(ip),
            names: names.iter().map(|n| n.to_ascii_lowercase()).collect(),
        }
    }

    /// Whether `host` (a `Host` header: `name[:port]` or `[v6][:port]`) names this server.
    pub fn allows(&self, host: &str) -> bool {
        let Some((name, port)) = split_host(host) else {
            return false;
        };
        if port.unwrap_or(80) != self.port {
            return false;
        }
        let name = name.to_ascii_lowercase();
        if self.names.contains(&name) {
            return true;
        }
        match (name.parse::<IpAddr>(), self.bound) {
            (Ok(ip), Some(bound)) => ip == bound,
            // Listening on every address: any address literal reaches us; a name could be
            // anybody's (DNS rebinding), so only the allowed ones pass.
            (Ok(_), None) => true,
            (Err(_), bound) => name == "localhost" && bound.is_none_or(|ip| ip.is_loopback()),
        }
    }
}

/// Splits `name[:port]` / `[v6][:port]`; `None` when the port is not a number.
fn split_host(host: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = host.strip_prefix('[') {
        let (name, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(port) => Some((name, Some(port.parse().ok()?))),
            None if after.is_empty() => Some((name, None)),
            None => None,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) => Some((name, Some(port.parse().ok()?))),
        None => Some((host, None)),
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn forbidden(message: String) -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message,
    )
        .into_response()
}

/// Why a request is refused as forged, or `None` when it may go on to the token check.
fn refusal(policy: &HostPolicy, request: &Request) -> Option<Response> {
    let headers = request.headers();
    let host = header_str(headers, header::HOST).unwrap_or("");
    if !policy.allows(host) {
        return Some(forbidden(format!(
            "refused: the Host header {host:?} does not name this server (a page may be \
             trying to reach it through another name); open the URL that `alignscope serve` \
             printed, or allow the name with `alignscope serve --allow-host NAME`\n"
        )));
    }
    if let Some(origin) = header_str(headers, header::ORIGIN)
        && origin != format!("http://{host}")
    {
        return Some(forbidden(format!(
            "refused: a request from the page at {origin:?}, not from AlignScope's own page \
             (http://{host}); only the AlignScope UI may call this server\n"
        )));
    }
    let api = request.uri().path().starts_with("/api/");
    let site = header_str(headers, header::HeaderName::from_static("sec-fetch-site"));
    if api && matches!(site, Some("same-site" | "cross-site")) {
        return Some(forbidden(
            "refused: the API answers only AlignScope's own page (Sec-Fetch-Site says this \
             request comes from another site)\n"
                .to_string(),
        ));
    }
    None
}

/// The middleware: 403 for forged requests (see the module docs), hardening headers on
/// every answer.
pub async fn refuse_forged(
    State(policy): State<HostPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = match refusal(&policy, &request) {
        Some(refused) => refused,
        None => next.run(request).await,
    };
    security_headers(response.headers_mut());
    response
}

/// What `POST /api/call` demands of its body's type: a 415 answer unless it is JSON.
pub fn not_json(headers: &HeaderMap) -> Option<Response> {
    let kind = header_str(headers, header::CONTENT_TYPE).unwrap_or("");
    let essence = kind.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        return None;
    }
    Some(
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!(
                "POST /api/call takes Content-Type: application/json (got {kind:?}); send \
             {{\"method\": \"...\", \"params\": {{...}}}} as JSON\n"
            ),
        )
            .into_response(),
    )
}

/// The content security policy of the browser build: the UI's own scripts only, inline
/// styles (Svelte and the charts set `style` attributes), images from the API and `data:`,
/// no frames, no plug-ins, no forms.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
     object-src 'none'; base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

/// Adds CSP, `nosniff`, `Referrer-Policy: no-referrer` (the first page's URL holds the
/// token) and `X-Frame-Options: DENY`.
pub fn security_headers(headers: &mut HeaderMap) {
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(addr: &str, names: &[&str]) -> HostPolicy {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        HostPolicy::new(addr.parse().unwrap(), &names)
    }

    #[test]
    fn loopback_server_answers_its_address_and_localhost_only() {
        let p = policy("127.0.0.1:7878", &[]);
        assert!(p.allows("127.0.0.1:7878"));
        assert!(p.allows("localhost:7878"));
        assert!(p.allows("LocalHost:7878"));
        assert!(!p.allows("127.0.0.1:7879"));
        assert!(!p.allows("127.0.0.2:7878"));
        assert!(!p.allows("evil.example:7878"));
        assert!(!p.allows("127.0.0.1"));
        assert!(!p.allows(""));
        assert!(!p.allows("127.0.0.1:x"));
    }

    #[test]
    fn every_address_server_takes_literals_and_allowed_names() {
        let p = policy("0.0.0.0:80", &["gpu-box.lan"]);
        assert!(p.allows("192.168.1.20"));
        assert!(p.allows("192.168.1.20:80"));
        assert!(p.allows("[::1]:80"));
        assert!(p.allows("GPU-BOX.lan"));
        assert!(p.allows("localhost"));
        assert!(!p.allows("rebound.example"));
        assert!(!p.allows("192.168.1.20:81"));
        let v6 = policy("[::1]:9000", &[]);
        assert!(v6.allows("[::1]:9000"));
        assert!(v6.allows("localhost:9000"));
        assert!(!v6.allows("[::2]:9000"));
        assert!(!v6.allows("[::1"));
    }

    #[test]
    fn json_is_required_with_or_without_parameters() {
        let mut headers = HeaderMap::new();
        assert!(not_json(&headers).is_some());
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert!(not_json(&headers).is_some());
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("Application/JSON; charset=utf-8"),
        );
        assert!(not_json(&headers).is_none());
    }
}
