//! The `alignscope` URI scheme: entity images for the window.
//!
//! `alignscope://localhost/api/image?dataset=ID&side=left|right&key=KEY&index=N` (on
//! Windows the webview spells it `http://alignscope.localhost/api/image?…`) answers the
//! bytes of the entity's N-th image. The query names an entity, never a file: the file is
//! whatever [`Api::entity_image`] resolves it to, so the page cannot read anything else.
//! Failures answer the HTTP server's status for the error code and the [`ApiError`] as
//! JSON.

use tauri::Url;
use tauri::http::{Response, StatusCode, Uri, header};

use crate::api::dto::SideDto;
use crate::api::image::content_type;
use crate::api::{Api, ApiError, ErrorCode};
use crate::store::DatasetId;

/// The one path the scheme serves.
const IMAGE_PATH: &str = "/api/image";

/// What an image request names.
#[derive(Debug, PartialEq, Eq)]
struct ImageQuery {
    dataset: DatasetId,
    side: SideDto,
    key: String,
    index: usize,
}

/// Reads `/api/image?dataset=…&side=…&key=…&index=…` (`index` defaults to 0).
fn parse(uri: &Uri) -> Result<ImageQuery, ApiError> {
    let url = Url::parse(&uri.to_string())
        .map_err(|e| ApiError::invalid(format!("bad image address {uri}: {e}")))?;
    if url.path() != IMAGE_PATH {
        return Err(ApiError::not_found(format!(
            "nothing is served at {}; images are at {IMAGE_PATH}",
            url.path()
        )));
    }
    let (mut dataset, mut side, mut key, mut index) = (None, None, None, 0);
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "dataset" => {
                let id = value.parse().map_err(|_| {
                    ApiError::invalid(format!("dataset must be a dataset id, not {value:?}"))
                })?;
                dataset = Some(DatasetId(id));
            }
            "side" => {
                side = Some(match value.as_ref() {
                    "left" => SideDto::Left,
                    "right" => SideDto::Right,
                    _ => {
                        return Err(ApiError::invalid(format!(
                            "side must be left or right, not {value:?}"
                        )));
                    }
                });
            }
            "key" => key = Some(value.into_owned()),
            "index" => {
                index = value.parse().map_err(|_| {
                    ApiError::invalid(format!("index must be a number, not {value:?}"))
                })?;
            }
            _ => {}
        }
    }
    let missing = |name: &str| ApiError::invalid(format!("an image request needs {name}=…"));
    Ok(ImageQuery {
        dataset: dataset.ok_or_else(|| missing("dataset"))?,
        side: side.ok_or_else(|| missing("side"))?,
        key: key.ok_or_else(|| missing("key"))?,
        index,
    })
}

/// The response to one request of the scheme.
pub(super) async fn respond(api: &Api, uri: &Uri) -> Response<Vec<u8>> {
    match image(api, uri).await {
        Ok((media_type, bytes)) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, media_type)
            .header(header::CACHE_CONTROL, "no-cache")
            .body(bytes),
        Err(error) => Response::builder()
            .status(status(error.code))
            .header(header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(&error).unwrap_or_default()),
    }
    .unwrap_or_else(|_| {
        let mut response = Response::new(Vec::new());
        *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        response
    })
}

async fn image(api: &Api, uri: &Uri) -> Result<(&'static str, Vec<u8>), ApiError> {
    let query = parse(uri)?;
    let path = api
        .entity_image(query.dataset, query.side, &query.key, query.index)
        .await?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| {
        ApiError::new(
            ErrorCode::Io,
            format!("cannot read the image {}: {e}", path.display()),
        )
    })?;
    Ok((content_type(&path), bytes))
}

/// The HTTP status of an error code, as the HTTP server answers it.
fn status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::Conflict => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    #[test]
    fn reads_the_entity_from_the_query_in_both_spellings() {
        let expected = ImageQuery {
            dataset: DatasetId(7),
            side: SideDto::Right,
            key: "http://zh.dbpedia.org/resource/北京 #1".into(),
            index: 2,
        };
        let query = "dataset=7&side=right&key=http%3A%2F%2Fzh.dbpedia.org%2Fresource%2F%E5%8C%97%E4%BA%AC%20%231&index=2";
        for base in ["alignscope://localhost", "http://alignscope.localhost"] {
            assert_eq!(
                parse(&uri(&format!("{base}/api/image?{query}"))).unwrap(),
                expected
            );
        }
        let first = parse(&uri(
            "alignscope://localhost/api/image?dataset=1&side=left&key=a",
        ));
        assert_eq!(first.unwrap().index, 0);
    }

    #[test]
    fn refuses_other_paths_and_bad_queries() {
        let error = parse(&uri("alignscope://localhost/etc/passwd")).unwrap_err();
        assert_eq!(error.code, ErrorCode::NotFound);
        assert!(error.message.contains("/etc/passwd"), "{}", error.message);
        for (query, needle) in [
            ("side=left&key=a", "dataset"),
            ("dataset=x&side=left&key=a", "x"),
            ("dataset=1&side=up&key=a", "up"),
            ("dataset=1&side=left", "key"),
            ("dataset=1&side=left&key=a&index=-1", "-1"),
        ] {
            let address = format!("alignscope://localhost/api/image?{query}");
            let error = parse(&uri(&address)).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidInput, "{address}");
            let message = error.message;
            assert!(message.contains(needle), "{address}: {message}");
        }
    }

    #[test]
    fn error_codes_answer_the_servers_statuses() {
        assert_eq!(status(ErrorCode::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(status(ErrorCode::InvalidInput), StatusCode::BAD_REQUEST);
        assert_eq!(status(ErrorCode::Conflict), StatusCode::CONFLICT);
        assert_eq!(status(ErrorCode::Io), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
