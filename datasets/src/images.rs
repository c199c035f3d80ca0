//! Entity images: checks that image files decode, and counts entities without images.

use std::path::Path;

use crate::model::{MmkgPair, Side};
use crate::problem::{Diagnostics, Location, WarningKind};

/// Whether `path` is an image the `image` crate can decode (format and size are read,
/// not the pixels).
pub fn is_decodable_image(path: &Path) -> bool {
    image::ImageReader::open(path)
        .and_then(|reader| reader.with_guessed_format())
        .map_err(image::ImageError::IoError)
        .and_then(|reader| reader.into_dimensions())
        .is_ok()
}

/// Drops image files that cannot be decoded (counted), then counts the entities without
/// any image on each side that has images for some of its entities.
pub(crate) fn check_images(pair: &mut MmkgPair, diag: &mut Diagnostics) {
    for side in Side::BOTH {
        let graph = pair.graph_mut(side);
        let (mut unreadable, mut first_unreadable) = (0usize, None);
        for files in &mut graph.images {
            files.retain(|file| {
                let ok = is_decodable_image(file);
                if !ok {
                    unreadable += 1;
                    first_unreadable.get_or_insert_with(|| file.clone());
                }
                ok
            });
        }
        if let Some(first) = first_unreadable {
            diag.warn_many(
                WarningKind::UnreadableImages,
                unreadable,
                Location::file(first),
            );
        }
        let without: Vec<usize> = (0..graph.entities.len())
            .filter(|&e| !graph.has_image(e as u32))
            .collect();
        if let Some(&first) = without.first()
            && without.len() < graph.entities.len()
        {
            let at = format!("{side} entity `{}`", graph.entities[first].key);
            diag.warn_many(WarningKind::EntitiesWithoutImage, without.len(), at);
        }
    }
}
