//! Encoder throughput on CPU: images per second over a folder of images, per batch size.
//!
//! `cargo run --release -p alignscope-vision --example bench_encoder -- <image dir> [count]`
//! (e.g. `scripts/demo-sources/node_modules/emoji-datasource-twitter/img/twitter/64`).
//! Preprocessing (decode, resize) is timed separately from the network.

use std::path::PathBuf;
use std::time::Instant;

use alignscope_vision::{ImageEncoder, locate_weights, preprocess};
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Flex, NdArray};
use burn::prelude::Backend;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: bench_encoder <image dir> [count]")?,
    );
    let count: usize = args.next().map(|c| c.parse()).transpose()?.unwrap_or(256);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "png"))
        .collect();
    paths.sort();
    paths.truncate(count);
    let weights = locate_weights(&[])?;
    println!("== Flex backend");
    bench::<Flex>(&weights, &paths, &Default::default())?;
    println!("== NdArray backend");
    bench::<NdArray>(&weights, &paths, &NdArrayDevice::Cpu)?;
    Ok(())
}

fn bench<B: Backend>(
    weights: &std::path::Path,
    paths: &[PathBuf],
    device: &B::Device,
) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let encoder = ImageEncoder::<B>::load(weights, device)?;
    println!("weights loaded in {:.2} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let inputs: Vec<Vec<f32>> = paths
        .iter()
        .map(|p| preprocess(p))
        .collect::<Result<_, _>>()?;
    let preprocess_seconds = started.elapsed().as_secs_f64();
    println!(
        "preprocess: {} images in {preprocess_seconds:.2} s = {:.1} images/s",
        inputs.len(),
        inputs.len() as f64 / preprocess_seconds
    );
    for batch in [1usize, 4, 16] {
        let started = Instant::now();
        for chunk in inputs.chunks(batch) {
            let _ = encoder.features(chunk).into_data();
        }
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "network, batch {batch:>2}: {} images in {seconds:.2} s = {:.1} images/s",
            inputs.len(),
            inputs.len() as f64 / seconds
        );
    }
    let started = Instant::now();
    let encoded = encoder.encode_files(paths, 1, &mut |_| {})?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "end to end (encode_files, batch 1): {} images in {seconds:.2} s = {:.1} images/s",
        encoded.features.len(),
        encoded.features.len() as f64 / seconds
    );
    Ok(())
}
