//! Benchmark: reading and validating a dataset (default: DBP15K zh_en beside the
//! checkout), against a reference measured in the same run: reading the same files' bytes
//! and counting their lines, the floor any loader pays.
//!
//! `cargo run --release -p alignscope-datasets --example bench_load [-- <dir> [runs]]`

use std::path::{Path, PathBuf};
use std::time::Instant;

use alignscope_datasets::{LoadOptions, dataset_stats, fingerprint, load};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn read_bytes_reference(dir: &Path) -> usize {
    let mut lines = 0;
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        if entry.path().is_file() {
            let bytes = std::fs::read(entry.path()).unwrap();
            lines += bytes.iter().filter(|&&b| b == b'\n').count();
        }
    }
    lines
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir: PathBuf = args.next().map(PathBuf::from).unwrap_or_else(|| {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/dbp15k/zh_en")
    });
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(7);

    let started = Instant::now();
    let first = load(&dir, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let first_seconds = started.elapsed().as_secs_f64();
    let rss_after_one_load = peak_rss_mib();
    let stats = dataset_stats(&first.pair);
    let print = fingerprint(&first.pair).unwrap();
    drop(first);

    let (mut loads, mut references) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let lines = read_bytes_reference(&dir);
        references.push(t.elapsed().as_secs_f64());
        assert!(lines > 0);
        let t = Instant::now();
        let loaded = load(&dir, &LoadOptions::default()).unwrap();
        loads.push(t.elapsed().as_secs_f64());
        assert_eq!(loaded.pair.gold.len(), stats.gold_pairs);
    }
    let (load_median, reference_median) = (median(loads), median(references));
    println!(
        "dataset      {} ({} + {} entities, {} + {} triples, {} gold pairs)",
        dir.display(),
        stats.left.entities,
        stats.right.entities,
        stats.left.triples,
        stats.right.triples,
        stats.gold_pairs
    );
    println!("fingerprint  {print}");
    println!("runs         {runs} (+1 cold)");
    println!(
        "first load (cold)                    {:>9.3} s",
        first_seconds
    );
    println!(
        "load + validate, median              {:>9.3} s   target < 1 s",
        load_median
    );
    println!(
        "reference: read bytes + count lines  {:>9.3} s",
        reference_median
    );
    println!(
        "ratio load / reference               {:>9.1} x",
        load_median / reference_median
    );
    match rss_after_one_load {
        Some(mib) => {
            println!("peak resident memory after one load  {mib:>9.1} MiB target < 200 MB")
        }
        None => println!("peak resident memory: /proc/self/status not available"),
    }
}
