//! The routes: RPC, events, images, static UI.

use std::convert::Infallible;
use std::path::PathBuf;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tower_http::services::{ServeDir, ServeFile};

use super::Shutdown;
use crate::api::dto::SideDto;
use crate::api::image::content_type;
use crate::api::{Api, ApiCall, ApiError, ErrorCode};
use crate::store::DatasetId;

#[derive(Clone)]
struct AppState {
    api: Api,
    shutdown: Shutdown,
}

/// The HTTP status of an API error.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

struct ErrorResponse(ApiError);

impl IntoResponse for ErrorResponse {
    fn into_response(self) -> Response {
        (status_of(self.0.code), Json(self.0)).into_response()
    }
}

pub(super) fn router(api: Api, ui: Option<PathBuf>, shutdown: Shutdown) -> Router {
    let router = Router::new()
        .route("/api/call", post(call))
        .route("/api/events", get(events))
        .route("/api/image", get(image))
        .route("/api/{*rest}", any(unknown_api));
    let router = match ui {
        Some(dir) => router
            .fallback_service(ServeDir::new(&dir).fallback(ServeFile::new(dir.join("index.html")))),
        None => router.fallback(no_ui),
    };
    router.with_state(AppState { api, shutdown })
}

async fn call(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(refused) = super::guard::not_json(&headers) {
        return refused;
    }
    let result = match serde_json::from_slice(&body) {
        Ok(value) => match ApiCall::from_json(value) {
            Ok(call) => state.api.call(call).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(ApiError::invalid(format!(
            "the body is not JSON: {e}; send {{\"method\": \"...\", \"params\": {{...}}}}"
        ))),
    };
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => ErrorResponse(e).into_response(),
    }
}

/// Job events as SSE until the client goes or the server shuts down.
async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.api.subscribe();
    let stream = futures_util::stream::unfold(
        (receiver, Box::pin(state.shutdown.started())),
        |(mut receiver, mut shutdown)| async move {
            let event = tokio::select! {
                _ = &mut shutdown => return None,
                next = receiver.recv() => match next {
                    Ok(event) => match serde_json::to_string(&event) {
                        Ok(json) => Event::default().data(json),
                        Err(e) => Event::default().event("error").data(e.to_string()),
                    },
                    Err(RecvError::Lagged(missed)) => {
                        Event::default().event("lagged").data(missed.to_string())
                    }
                    Err(RecvError::Closed) => return None,
                },
            };
            Some((Ok(event), (receiver, shutdown)))
        },
    );
    Sse::new(stream).keep_alive(KeepAlive::default())
}

#[derive(Debug, Deserialize)]
struct ImageQuery {
    dataset: DatasetId,
    side: SideDto,
    key: String,
    #[serde(default)]
    index: usize,
}

async fn image(
    State(state): State<AppState>,
    query: Result<Query<ImageQuery>, QueryRejection>,
) -> Response {
    let Query(q) = match query {
        Ok(q) => q,
        Err(e) => {
            return ErrorResponse(ApiError::invalid(format!(
                "{e}; use /api/image?dataset=ID&side=left|right&key=KEY&index=N"
            )))
            .into_response();
        }
    };
    let path = match state
        .api
        .entity_image(q.dataset, q.side, &q.key, q.index)
        .await
    {
        Ok(path) => path,
        Err(e) => return ErrorResponse(e).into_response(),
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type(&path)),
                (header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => ErrorResponse(ApiError::new(
            ErrorCode::Io,
            format!("cannot read {}: {e}", path.display()),
        ))
        .into_response(),
    }
}

async fn unknown_api() -> Response {
    ErrorResponse(ApiError::not_found(
        "no such endpoint; the API is POST /api/call, GET /api/events and GET /api/image",
    ))
    .into_response()
}

async fn no_ui() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "The AlignScope UI is not built, so there is nothing to show here (the API at /api/ \
         works). Build it with `npm ci --prefix ui && npm run build --prefix ui` (or run \
         `bash scripts/setup.sh`), or point `--ui-dir` or ALIGNSCOPE_UI_DIR at a built UI.\n",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_error_code() {
        assert_eq!(status_of(ErrorCode::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status_of(ErrorCode::InvalidInput), StatusCode::BAD_REQUEST);
        assert_eq!(status_of(ErrorCode::Conflict), StatusCode::CONFLICT);
        assert_eq!(
            status_of(ErrorCode::Locked),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
