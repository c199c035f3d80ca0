//! Image → normalised input tensor data, as the encoder was trained to see it.
//!
//! Decode (PNG, JPEG, WebP, GIF, BMP), composite any transparency over white (emoji
//! artwork is transparent; black behind it would change what the network sees), resize
//! to 224×224 with a bilinear filter, scale to [0, 1], normalise with mean 0.5 and
//! standard deviation 0.5 per channel (so values lie in [-1, 1]), lay out channel-first.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{DynamicImage, Rgb, RgbImage};

use crate::VisionError;

/// Side length of the square input, in pixels.
pub const INPUT_SIZE: usize = 224;

/// Number of values in one preprocessed image (3 × 224 × 224).
pub const INPUT_LEN: usize = 3 * INPUT_SIZE * INPUT_SIZE;

/// Reads and preprocesses the image at `path`: `3 × 224 × 224` values, channel-first.
pub fn preprocess(path: &Path) -> Result<Vec<f32>, VisionError> {
    let bytes = std::fs::read(path).map_err(|error| VisionError::Image {
        path: path.to_path_buf(),
        source: image::ImageError::IoError(error),
    })?;
    preprocess_bytes(&bytes, path)
}

/// Decodes and preprocesses the bytes of an image file (`path` names it in errors).
pub fn preprocess_bytes(bytes: &[u8], path: &Path) -> Result<Vec<f32>, VisionError> {
    let image = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| VisionError::Image {
            path: path.to_path_buf(),
            source: image::ImageError::IoError(error),
        })?
        .decode()
        .map_err(|source| VisionError::Image {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(preprocess_image(&image))
}

/// Preprocesses a decoded image (see the module docs).
pub fn preprocess_image(image: &DynamicImage) -> Vec<f32> {
    let rgb = over_white(image);
    let size = INPUT_SIZE as u32;
    let resized = imageops::resize(&rgb, size, size, FilterType::Triangle);
    let plane = INPUT_SIZE * INPUT_SIZE;
    let mut data = vec![0.0f32; INPUT_LEN];
    for (index, pixel) in resized.pixels().enumerate() {
        for channel in 0..3 {
            data[channel * plane + index] = f32::from(pixel[channel]) / 255.0 * 2.0 - 1.0;
        }
    }
    data
}

/// The image as RGB, transparent parts blended onto a white background.
fn over_white(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let alpha = u16::from(a);
        let blend = |c: u8| ((u16::from(c) * alpha + 255 * (255 - alpha) + 127) / 255) as u8;
        Rgb([blend(r), blend(g), blend(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn transparent_pixels_become_white_and_values_lie_in_minus_one_to_one() {
        let mut image = RgbaImage::new(8, 8);
        image.put_pixel(0, 0, Rgba([0, 0, 0, 255]));
        let data = preprocess_image(&DynamicImage::ImageRgba8(image));
        assert_eq!(data.len(), INPUT_LEN);
        assert!(data.iter().all(|v| (-1.0..=1.0).contains(v)));
        // The far corner is fully transparent, so white: +1 in every channel.
        let last = INPUT_SIZE * INPUT_SIZE - 1;
        for channel in 0..3 {
            assert_eq!(data[channel * INPUT_SIZE * INPUT_SIZE + last], 1.0);
        }
        // The opaque black corner pulls the first pixel well below white.
        assert!(data[0] < 0.5);
    }
}
