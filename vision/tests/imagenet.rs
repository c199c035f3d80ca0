//! The port really sees: two real photos are classified as what they show, with the
//! ImageNet weights loaded from the PyTorch file.
//!
//! The photos are scikit-image's `data.chelsea()` (a tabby cat) and `data.coffee()` (a
//! cup of coffee), exported by `scripts/setup.sh` into `.cache/test-images/`.

use std::path::{Path, PathBuf};

use alignscope_vision::{
    DirectEncoder, FEATURE_DIM, IMAGENET_CLASSES, ImageEncoder, locate_weights, preprocess,
};
use burn::backend::NdArray;
use burn::backend::ndarray::NdArrayDevice;
use burn::tensor::activation::softmax;

type Cpu = NdArray<f32>;

/// The test photos and weights, or `None` (with a message) where the set-up has not run.
/// With `ALIGNSCOPE_REQUIRE_SETUP=1` (CI) their absence fails the test instead.
fn assets() -> Option<(PathBuf, PathBuf)> {
    let images = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/test-images");
    let weights = locate_weights(&[]);
    let missing = match (&weights, images.join("chelsea.png").is_file()) {
        (Ok(_), true) => None,
        (Err(error), _) => Some(error.to_string()),
        (_, false) => Some(format!("no test photos in {}", images.display())),
    };
    if let Some(reason) = missing {
        if std::env::var_os("ALIGNSCOPE_REQUIRE_SETUP").is_some() {
            panic!("{reason}; run `bash scripts/setup.sh`");
        }
        eprintln!("SKIPPED: {reason}; run `bash scripts/setup.sh`");
        return None;
    }
    Some((weights.ok()?, images))
}

#[test]
fn chelsea_is_a_cat_and_coffee_is_an_espresso() {
    let Some((weights, images)) = assets() else {
        return;
    };
    let device = NdArrayDevice::Cpu;
    let encoder = ImageEncoder::<Cpu>::load(&weights, &device).expect("weights load");
    let inputs = [
        preprocess(&images.join("chelsea.png")).expect("chelsea decodes"),
        preprocess(&images.join("coffee.png")).expect("coffee decodes"),
    ];
    let (features, logits) = encoder.run(&inputs);
    assert_eq!(features.dims(), [2, FEATURE_DIM]);
    assert_eq!(logits.dims(), [2, IMAGENET_CLASSES]);
    let probabilities = softmax(logits, 1);
    let best = probabilities
        .clone()
        .argmax(1)
        .into_data()
        .to_vec::<i64>()
        .unwrap();
    let top = probabilities
        .max_dim(1)
        .into_data()
        .to_vec::<f32>()
        .unwrap();
    println!(
        "chelsea: class {} (p = {:.3}); coffee: class {} (p = {:.3})",
        best[0], top[0], best[1], top[1]
    );
    // ImageNet 281–285 are the domestic cats (tabby, tiger cat, Persian, Siamese, Egyptian).
    assert!(
        (281..=285).contains(&best[0]),
        "chelsea classified as {}",
        best[0]
    );
    // 967 espresso, 968 cup.
    assert!(
        [967, 968].contains(&best[1]),
        "coffee classified as {}",
        best[1]
    );
    assert!(
        top[0] > 0.3 && top[1] > 0.3,
        "confident predictions: {top:?}"
    );

    // Features are the pooled ReLU6 activations: finite, non-negative, not all zero.
    let values = features.into_data().to_vec::<f32>().unwrap();
    assert!(
        values
            .iter()
            .all(|v| v.is_finite() && (0.0..=6.0).contains(v))
    );
    assert!(values.iter().filter(|v| **v > 0.0).count() > FEATURE_DIM / 4);
}

#[test]
fn batches_match_single_images_and_bad_files_are_reported() {
    let Some((weights, images)) = assets() else {
        return;
    };
    let device = NdArrayDevice::Cpu;
    let encoder = ImageEncoder::<Cpu>::load(&weights, &device).expect("weights load");
    let scratch = tempfile::tempdir().unwrap();
    let broken = scratch.path().join("broken.png");
    std::fs::write(&broken, b"not a png").unwrap();
    let paths = vec![
        images.join("chelsea.png"),
        broken.clone(),
        images.join("coffee.png"),
    ];
    let mut reports = Vec::new();
    let encoded = encoder
        .encode_files(&paths, 2, &mut |progress| reports.push(progress))
        .expect("encoding runs");
    assert_eq!(encoded.features.len(), 3);
    assert!(encoded.features[1].is_none());
    assert_eq!(encoded.failures.len(), 1);
    assert!(encoded.failures[0].to_string().contains("broken.png"));
    assert_eq!(reports.last().map(|p| (p.done, p.total)), Some((3, 3)));

    let alone = encoder
        .encode_files(&paths[2..], 1, &mut |_| {})
        .expect("encoding runs");
    let batched = encoded.features[2].as_ref().unwrap();
    let single = alone.features[0].as_ref().unwrap();
    let worst = batched
        .iter()
        .zip(single)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1e-3))
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-3, "batch and single features differ by {worst}");
}

#[test]
fn the_cache_serves_a_second_encoding_and_a_cancel_stops_before_the_next_batch() {
    use std::sync::atomic::AtomicBool;

    use alignscope_vision::FeatureCache;

    let Some((weights, images)) = assets() else {
        return;
    };
    let encoder = ImageEncoder::<Cpu>::load(&weights, &NdArrayDevice::Cpu).expect("weights load");
    let scratch = tempfile::tempdir().unwrap();
    let cache = FeatureCache::open(scratch.path(), "lite0-test", FEATURE_DIM).unwrap();
    let missing = scratch.path().join("gone.png");
    // The same picture under two names is one cache entry.
    let copy = scratch.path().join("chelsea-again.png");
    std::fs::copy(images.join("chelsea.png"), &copy).unwrap();
    let paths = vec![
        images.join("chelsea.png"),
        missing,
        copy,
        images.join("coffee.png"),
    ];

    let cancelled = encoder
        .encode_files_cached(&paths, 1, &cache, &AtomicBool::new(true), &mut |_| {})
        .unwrap();
    assert!(cancelled.cancelled);
    assert_eq!((cancelled.encoded, cancelled.from_cache), (0, 0));

    let mut reports = Vec::new();
    let cold = encoder
        .encode_files_cached(&paths, 2, &cache, &AtomicBool::new(false), &mut |p| {
            reports.push(p)
        })
        .unwrap();
    assert!(!cold.cancelled);
    assert_eq!((cold.encoded, cold.from_cache), (3, 0));
    assert_eq!(cold.failures.len(), 1);
    assert_eq!(cold.failures[0].0, 1);
    assert!(cold.failures[0].1.to_string().contains("gone.png"));
    assert_eq!(reports.last().map(|p| (p.done, p.total)), Some((4, 4)));

    let warm = encoder
        .encode_files_cached(&paths, 2, &cache, &AtomicBool::new(false), &mut |_| {})
        .unwrap();
    assert_eq!((warm.encoded, warm.from_cache), (0, 3));
    for i in [0, 2, 3] {
        assert_eq!(warm.features[i], cold.features[i], "input {i}");
    }
    let plain = encoder.encode_files(&paths[3..], 1, &mut |_| {}).unwrap();
    assert_eq!(plain.features[0], cold.features[3], "cached = encoded now");
}

/// The direct CPU path computes the same features as the Burn model (to 1e-4 of the
/// largest value), on the real photos and an emoji-like flat image, and its cached
/// encoding agrees with the Burn path's.
#[test]
fn the_direct_cpu_path_gives_the_burn_models_features() {
    use std::sync::atomic::AtomicBool;

    use alignscope_vision::FeatureCache;

    let Some((weights, images)) = assets() else {
        return;
    };
    let burn = ImageEncoder::<Cpu>::load(&weights, &NdArrayDevice::Cpu).expect("weights load");
    let direct = DirectEncoder::load(&weights).expect("weights load");
    let mut inputs = vec![
        preprocess(&images.join("chelsea.png")).expect("chelsea decodes"),
        preprocess(&images.join("coffee.png")).expect("coffee decodes"),
    ];
    // A flat grey square with one bright corner: padding and borders matter most here.
    let mut flat = vec![0.1f32; inputs[0].len()];
    for v in flat.iter_mut().take(224 * 20) {
        *v = 0.9;
    }
    inputs.push(flat);
    let expected = burn.features(&inputs).into_data().to_vec::<f32>().unwrap();
    let found = direct.features(&inputs);
    for (i, (want, got)) in expected.chunks(FEATURE_DIM).zip(&found).enumerate() {
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = want
            .iter()
            .zip(got)
            .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
        println!("image {i}: worst difference {worst:e} (largest value {scale})");
        assert!(
            worst <= 1e-4 * scale.max(1.0),
            "image {i}: {worst} vs {scale}"
        );
    }

    let scratch = tempfile::tempdir().unwrap();
    let cache = FeatureCache::open(scratch.path(), "lite0-direct", FEATURE_DIM).unwrap();
    let paths = vec![
        images.join("chelsea.png"),
        scratch.path().join("gone.png"),
        images.join("coffee.png"),
    ];
    let encoded = direct
        .encode_files_cached(&paths, &cache, &AtomicBool::new(false), &mut |_| {})
        .unwrap();
    assert_eq!((encoded.encoded, encoded.failures.len()), (2, 1));
    assert_eq!(encoded.failures[0].0, 1);
    let first = encoded.features[0].as_ref().unwrap();
    let reference = &expected[..FEATURE_DIM];
    let worst = first
        .iter()
        .zip(reference)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(worst < 1e-3, "{worst}");
}
