//! The HTTP shell (`alignscope serve`): the same [`Api`] over HTTP for a browser, and the
//! built UI. Compiled with the cargo feature `server` (on by default; a build without it
//! has no `serve` command and no axum).
//!
//! - `POST /api/call`: body `{"method": "...", "params": {...}}` (an [`ApiCall`]) → 200 and
//!   the result as JSON, or an [`ApiError`] with a status by its code.
//! - `GET /api/events`: server-sent events, each `data:` one JSON
//!   [`JobEvent`](crate::jobs::JobEvent). A client that falls behind gets an event named
//!   `lagged` (data: how many events it missed) and should reload what it shows.
//! - `GET /api/image?dataset=ID&side=left|right&key=KEY&index=N`: an entity's image file,
//!   resolved by [`Api::entity_image`].
//! - Anything else: the UI's files, `index.html` for client-side routes.
//!
//! Every request needs the token printed at start ([`auth`]); requests that another page
//! made the browser send are refused before that ([`guard`]).

mod auth;
mod guard;
mod routes;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::Router;

use crate::api::Api;

pub use auth::{COOKIE, Token};
pub use guard::{CONTENT_SECURITY_POLICY, HostPolicy};

/// Environment variable naming the built UI folder.
pub const UI_DIR_ENV: &str = "ALIGNSCOPE_UI_DIR";

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error, or printing the URL failed.
    #[error("the server stopped: {0}")]
    Io(#[from] std::io::Error),
    /// No secure random numbers for the token.
    #[error("cannot make a random token: {0}")]
    Random(String),
}

/// Where the built UI is: `explicit`, else `$ALIGNSCOPE_UI_DIR`, else the source tree's
/// `ui/dist`, else `ui/` beside the executable. `None` when none of them has an
/// `index.html`.
pub fn locate_ui(explicit: Option<&Path>) -> Result<PathBuf, Vec<PathBuf>> {
    let mut candidates = Vec::new();
    if let Some(dir) = explicit {
        candidates.push(dir.to_path_buf());
    } else if let Some(dir) = std::env::var_os(UI_DIR_ENV) {
        candidates.push(PathBuf::from(dir));
    } else {
        candidates.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/dist"));
        if let Some(dir) = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|p| p.join("ui")))
        {
            candidates.push(dir);
        }
    }
    match candidates
        .iter()
        .find(|dir| dir.join("index.html").is_file())
    {
        Some(dir) => Ok(dir.clone()),
        None => Err(candidates),
    }
}

/// The whole application: routes, static UI (if any), token check, and outside it the
/// refusal of forged requests with the hardening headers.
pub fn app(
    api: Api,
    token: Token,
    hosts: HostPolicy,
    ui: Option<PathBuf>,
    shutdown: Shutdown,
) -> Router {
    routes::router(api, ui, shutdown)
        .layer(axum::middleware::from_fn_with_state(
            token,
            auth::require_token,
        ))
        .layer(axum::middleware::from_fn_with_state(
            hosts,
            guard::refuse_forged,
        ))
}

/// Tells long-lived responses (event streams) to end, so that a graceful shutdown does not
/// wait for them forever.
#[derive(Debug, Clone)]
pub struct Shutdown(tokio::sync::watch::Receiver<bool>);

impl Shutdown {
    /// A signal and its trigger.
    pub fn new() -> (tokio::sync::watch::Sender<bool>, Self) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        (tx, Self(rx))
    }

    /// Resolves once shutdown starts.
    pub async fn started(mut self) {
        let _ = self.0.wait_for(|&down| down).await;
    }
}

/// Binds `addr`, prints `AlignScope is serving on http://ADDR/?token=TOKEN` to `out`
/// and serves until `stop` resolves (then lets open requests finish). Requests must name
/// the server by its address (or `localhost`, or one of `allowed_hosts`) in `Host`.
pub async fn serve(
    api: Api,
    addr: SocketAddr,
    allowed_hosts: &[String],
    ui: Option<PathBuf>,
    out: &mut dyn Write,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener.local_addr()?;
    let token = Token::random()?;
    let (trigger, shutdown) = Shutdown::new();
    let hosts = HostPolicy::new(local, allowed_hosts);
    let app = app(api, token.clone(), hosts, ui, shutdown);
    writeln!(
        out,
        "AlignScope is serving on http://{local}/?token={}",
        token.as_str()
    )?;
    out.flush()?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            stop.await;
            let _ = trigger.send(true);
        })
        .await?;
    Ok(())
}

/// Resolves on Ctrl-C (and on SIGTERM on Unix).
pub async fn ctrl_c() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
