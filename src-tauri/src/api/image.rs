//! Entity image files, resolved by (dataset, side, key, index): clients never name a
//! path, so they can only read the images a dataset declares.

use std::path::{Path, PathBuf};

use alignscope_datasets::Side;

use super::dto::SideDto;
use super::{Api, ApiError, ApiResult};
use crate::store::DatasetId;

impl Api {
    /// The file of image `index` (0-based) of entity `key` on `side`.
    pub async fn entity_image(
        &self,
        dataset: DatasetId,
        side: SideDto,
        key: &str,
        index: usize,
    ) -> ApiResult<PathBuf> {
        let pair = self.loaded_pair(dataset).await?;
        let graph = pair.graph(Side::from(side));
        let entity = graph.find_key(key).ok_or_else(|| {
            ApiError::not_found(format!(
                "no entity with key {key:?} in the {} graph of dataset {dataset}",
                side.as_str()
            ))
        })?;
        let files = graph
            .images
            .get(entity as usize)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let file = files.get(index).ok_or_else(|| {
            ApiError::not_found(format!(
                "entity {key:?} has {} image(s); there is no image {index}",
                files.len()
            ))
        })?;
        let path = if file.is_relative() {
            PathBuf::from(self.dataset_row(dataset).await?.source_path).join(file)
        } else {
            file.clone()
        };
        if !path.is_file() {
            return Err(ApiError::not_found(format!(
                "the image file {} of entity {key:?} is missing",
                path.display()
            )));
        }
        Ok(path)
    }
}

/// The media type of an image file, from its extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        Some("bmp") => "image/bmp",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_by_extension() {
        assert_eq!(content_type(Path::new("a/b.PNG")), "image/png");
        assert_eq!(content_type(Path::new("x.jpeg")), "image/jpeg");
        assert_eq!(content_type(Path::new("x.svg")), "image/svg+xml");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
