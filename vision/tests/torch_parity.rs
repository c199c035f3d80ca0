//! The Rust port computes what PyTorch computes: features and logits of the reference
//! implementation (PyPI `efficientnet-lite-pytorch` 0.1.0, `EfficientNet.from_name(
//! 'efficientnet-lite0')` with the same state dict) on the same preprocessed inputs.
//!
//! Runs where `ALIGNSCOPE_TORCH_PYTHON` names a Python with `torch` and
//! `efficientnet-lite-pytorch` installed (PyTorch is too large for CI); skips otherwise.

use std::path::{Path, PathBuf};
use std::process::Command;

use alignscope_vision::{FEATURE_DIM, IMAGENET_CLASSES, ImageEncoder, locate_weights, preprocess};
use burn::backend::Flex;

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path)
        .expect("reference output")
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Largest difference relative to the largest reference magnitude, and the largest
/// element-wise relative difference among elements at least 1% of that magnitude.
fn relative_errors(ours: &[f32], reference: &[f32]) -> (f32, f32) {
    let scale = reference.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let mut worst_abs = 0.0f32;
    let mut worst_rel = 0.0f32;
    for (a, b) in ours.iter().zip(reference) {
        worst_abs = worst_abs.max((a - b).abs());
        if b.abs() >= 0.01 * scale {
            worst_rel = worst_rel.max((a - b).abs() / b.abs());
        }
    }
    (worst_abs / scale, worst_rel)
}

#[test]
fn features_and_logits_match_pytorch() {
    let Some(python) = std::env::var_os("ALIGNSCOPE_TORCH_PYTHON") else {
        eprintln!(
            "SKIPPED: set ALIGNSCOPE_TORCH_PYTHON to a Python with torch and efficientnet-lite-pytorch"
        );
        return;
    };
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images");
    let emoji = Path::new(env!("CARGO_MANIFEST_DIR")).join(
        "../scripts/demo-sources/node_modules/emoji-datasource-google/img/google/64/1f431.png",
    );
    let mut paths: Vec<PathBuf> = vec![images.join("chelsea.png"), images.join("coffee.png")];
    if emoji.is_file() {
        paths.push(emoji); // A transparent 64-px emoji (cat face), upscaled.
    }
    let weights = locate_weights(&[]).expect("weights (run scripts/setup.sh)");
    let inputs: Vec<Vec<f32>> = paths
        .iter()
        .map(|p| preprocess(p).expect("decodes"))
        .collect();

    let scratch = tempfile::tempdir().unwrap();
    let input_file = scratch.path().join("inputs.f32");
    let bytes: Vec<u8> = inputs
        .iter()
        .flatten()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    std::fs::write(&input_file, bytes).unwrap();
    let features_file = scratch.path().join("features.f32");
    let logits_file = scratch.path().join("logits.f32");
    let status = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/torch_reference.py"))
        .arg(&weights)
        .arg(&input_file)
        .arg(inputs.len().to_string())
        .arg(&features_file)
        .arg(&logits_file)
        .status()
        .expect("python runs");
    assert!(status.success(), "the PyTorch reference failed");

    let encoder = ImageEncoder::<Flex>::load(&weights, &Default::default()).unwrap();
    let (features, logits) = encoder.run(&inputs);
    let features = features.into_data().to_vec::<f32>().unwrap();
    let logits = logits.into_data().to_vec::<f32>().unwrap();
    let reference_features = read_f32(&features_file);
    let reference_logits = read_f32(&logits_file);
    assert_eq!(features.len(), inputs.len() * FEATURE_DIM);
    assert_eq!(reference_logits.len(), inputs.len() * IMAGENET_CLASSES);

    let (feature_scaled, feature_rel) = relative_errors(&features, &reference_features);
    let (logit_scaled, logit_rel) = relative_errors(&logits, &reference_logits);
    println!(
        "{} images: features max|Δ|/max|ref| = {feature_scaled:.2e}, element-wise {feature_rel:.2e}; \
         logits max|Δ|/max|ref| = {logit_scaled:.2e}, element-wise {logit_rel:.2e}",
        inputs.len()
    );
    assert!(
        feature_scaled < 1e-3 && feature_rel < 1e-3,
        "features differ from PyTorch"
    );
    assert!(logit_scaled < 1e-3, "logits differ from PyTorch");
}
