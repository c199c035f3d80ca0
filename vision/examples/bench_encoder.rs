//! Encoder throughput on the CPU, today's path against the one it replaced, in one run:
//! the Burn model on the Flex backend one image at a time (the CPU path until the direct
//! one existed) and [`DirectEncoder`] (one image per core). Both end to end from the
//! files (read, decode, resize, network) on the same images, then the largest feature
//! difference between them.
//!
//! `cargo run --release -p alignscope-vision --example bench_encoder -- <image dir> [count]
//! [direct]` (e.g. `scripts/demo-sources/node_modules/emoji-datasource-twitter/img/twitter/64`);
//! `direct` runs the direct path alone (for a profiler).

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use alignscope_vision::{
    DirectEncoder, FEATURE_DIM, FeatureCache, ImageEncoder, locate_weights, preprocess,
};
use burn::backend::Flex;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: bench_encoder <image dir> [count]")?,
    );
    let count: usize = args.next().map(|c| c.parse()).transpose()?.unwrap_or(256);
    let direct_only = args.next().is_some_and(|a| a == "direct");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|e| e == "png" || e == "jpg" || e == "jpeg")
        })
        .collect();
    paths.sort();
    paths.truncate(count);
    let weights = locate_weights(&[])?;
    println!(
        "{} images from {}, {} threads",
        paths.len(),
        dir.display(),
        rayon::current_num_threads()
    );

    let started = Instant::now();
    let inputs: Vec<Vec<f32>> = paths
        .iter()
        .map(|p| preprocess(p))
        .collect::<Result<_, _>>()?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "decode + resize alone, one thread: {:.1} images/s",
        inputs.len() as f64 / seconds
    );

    if direct_only {
        let direct = DirectEncoder::load(&weights)?;
        let started = Instant::now();
        let _ = direct.features(&inputs);
        let rate = inputs.len() as f64 / started.elapsed().as_secs_f64();
        println!("direct network alone: {rate:.1} images/s");
        return Ok(());
    }
    let burn = ImageEncoder::<Flex>::load(&weights, &Default::default())?;
    let started = Instant::now();
    let before = burn.encode_files(&paths, 1, &mut |_| {})?;
    let burn_seconds = started.elapsed().as_secs_f64();
    let burn_rate = paths.len() as f64 / burn_seconds;
    println!("before: Burn (Flex) batch 1, from the files: {burn_rate:.1} images/s");

    let direct = DirectEncoder::load(&weights)?;
    let scratch = tempfile::tempdir()?;
    let cache = FeatureCache::open(scratch.path(), "bench", FEATURE_DIM)?;
    let started = Instant::now();
    let after = direct.encode_files_cached(&paths, &cache, &AtomicBool::new(false), &mut |_| {})?;
    let direct_seconds = started.elapsed().as_secs_f64();
    let direct_rate = paths.len() as f64 / direct_seconds;
    println!(
        "after: direct, from the files (hashing and an empty cache included): {direct_rate:.1} images/s"
    );
    println!("speed-up: {:.2}x", direct_rate / burn_rate);

    let mut worst = 0.0f32;
    let mut largest = 0.0f32;
    for (a, b) in before.features.iter().zip(&after.features) {
        if let (Some(a), Some(b)) = (a, b) {
            for (x, y) in a.iter().zip(b) {
                worst = worst.max((x - y).abs());
                largest = largest.max(x.abs());
            }
        }
    }
    println!(
        "largest feature difference: {worst:e} (largest feature value {largest:.3}; relative {:e})",
        worst / largest.max(f32::MIN_POSITIVE)
    );
    Ok(())
}
