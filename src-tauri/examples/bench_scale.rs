//! Scale benchmark: synthetic pairs (`alignscope_datasets::synthetic`) at 100k and 1M
//! entities per side, and approximate nearest-neighbour candidate retrieval over all
//! right entities at 1M against exact search measured in the same run.
//!
//! Prints, per size: generation seconds, triples, degrees, image vectors; for the index:
//! build seconds, the resident memory it added, recall@10 against exact search on 1,000
//! queries, per-query latency (p50/p99) of the index and of exact search.
//!
//! `cargo run --release -p alignscope --example bench_scale -- [SIZES...]`
//! (default `100000 1000000`). Training at 100k is measured with the CLI (README,
//! "Scale").

use std::time::Instant;

use alignscope_datasets::{SyntheticOptions, synthetic_pair};
use alignscope_models::eval::ann::{AnnIndex, AnnParams, exact_nearest, recall};
use alignscope_models::resources::resident_memory_mib;

/// Queries measured against exact search.
const QUERIES: usize = 1_000;
const K: usize = 10;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Unit rows of the entities that have a vector, with their entity indices.
fn unit_rows(features: &alignscope_datasets::model::EntityFeatures) -> (Vec<f32>, Vec<u32>) {
    let mut rows = Vec::new();
    let mut ids = Vec::new();
    for (entity, row) in features.rows.iter().enumerate() {
        if let Some(r) = row {
            let v = &features.data[*r as usize * features.dim..(*r as usize + 1) * features.dim];
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
            rows.extend(v.iter().map(|x| x / norm));
            ids.push(entity as u32);
        }
    }
    (rows, ids)
}

fn main() {
    let sizes: Vec<usize> = {
        let given: Vec<usize> = std::env::args()
            .skip(1)
            .filter_map(|a| a.parse().ok())
            .collect();
        if given.is_empty() {
            vec![100_000, 1_000_000]
        } else {
            given
        }
    };
    for n in sizes {
        let before = resident_memory_mib();
        let started = Instant::now();
        let options = SyntheticOptions {
            entities: n,
            ..SyntheticOptions::default()
        };
        let (pair, report) = synthetic_pair(&options).expect("valid options");
        let generated = started.elapsed().as_secs_f64();
        println!(
            "\n{n} entities per side: generated in {generated:.1} s ({:.0} MiB held); {} gold pairs; triples {} + {}; degree median {}, largest {}; image vectors {} + {} of width {}",
            resident_memory_mib() - before,
            report.gold,
            report.triples.0,
            report.triples.1,
            report.median_degree,
            report.max_degree,
            report.images.0,
            report.images.1,
            options.image_dim.unwrap_or(0)
        );
        let (Some(left), Some(right)) = (&pair.left.image_features, &pair.right.image_features)
        else {
            continue;
        };
        let dim = right.dim;
        let (candidates, candidate_ids) = unit_rows(right);
        let (all_queries, query_ids) = unit_rows(left);
        let right_of: std::collections::HashMap<u32, u32> =
            pair.gold.iter().map(|g| (g.left, g.right)).collect();
        // Queries: the first left entities with a vector whose counterpart has one too.
        let indexed: std::collections::HashSet<u32> = candidate_ids.iter().copied().collect();
        let chosen: Vec<usize> = query_ids
            .iter()
            .enumerate()
            .filter(|(_, id)| right_of.get(id).is_some_and(|r| indexed.contains(r)))
            .map(|(i, _)| i)
            .take(QUERIES)
            .collect();
        let queries: Vec<f32> = chosen
            .iter()
            .flat_map(|&i| all_queries[i * dim..(i + 1) * dim].iter().copied())
            .collect();
        drop(pair);

        let params = AnnParams::default();
        let memory_before = resident_memory_mib();
        let started = Instant::now();
        let index = AnnIndex::build(&candidates, dim, params);
        let build = started.elapsed().as_secs_f64();
        let index_mib = resident_memory_mib() - memory_before;

        let started = Instant::now();
        let exact = exact_nearest(&candidates, &queries, dim, K);
        let exact_ms = started.elapsed().as_secs_f64() * 1e3 / chosen.len().max(1) as f64;
        println!(
            "  HNSW (M {}, ef_construction {}) over {} right vectors of width {dim}: built in {build:.1} s on {} threads, {index_mib:.0} MiB ({:.0} bytes per vector); exact search {exact_ms:.2} ms per query",
            params.connections,
            params.ef_construction,
            index.len(),
            rayon::current_num_threads(),
            index_mib * 1048576.0 / index.len().max(1) as f64
        );
        println!(
            "  {:>5} {:>10} {:>9} {:>9} {:>9} {:>12}",
            "ef", "recall@10", "p50 ms", "p99 ms", "vs exact", "true in top10"
        );
        for ef in [32, 64, 128, 256] {
            let mut ann_ms = Vec::new();
            let found: Vec<Vec<(u32, f32)>> = queries
                .chunks_exact(dim)
                .map(|q| {
                    let t = Instant::now();
                    let f = index.search_with(q, K, ef);
                    ann_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    f
                })
                .collect();
            ann_ms.sort_by(f64::total_cmp);
            let true_in_top = found
                .iter()
                .zip(&chosen)
                .filter(|&(f, &q)| {
                    let truth = right_of[&query_ids[q]];
                    f.iter().any(|(j, _)| candidate_ids[*j as usize] == truth)
                })
                .count();
            let p50 = percentile(&ann_ms, 0.5);
            println!(
                "  {ef:>5} {:>10.4} {p50:>9.3} {:>9.3} {:>8.1}x {:>7} / {}",
                recall(&found, &exact),
                percentile(&ann_ms, 0.99),
                exact_ms / p50,
                true_in_top,
                chosen.len()
            );
        }
    }
}
