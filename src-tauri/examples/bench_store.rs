//! Store benchmark on a real run: trains LoginMEA for a few epochs on a DBP15K pair
//! (default zh_en) through the API, then times
//! - inserting the run's predictions (top-10 candidates both ways with per-modality
//!   scores, true-match ranks, per-entity weights) in one transaction, against a
//!   reference of one INSERT statement per row in one transaction;
//! - "candidates of entity X in run R" with the per-modality breakdown, weights and
//!   decisions (the API call the inspector makes), p50/p99 over 1,000 random queries.
//!
//! `cargo run --release -p alignscope --example bench_store -- [DATASET_DIR] [EPOCHS]`
//! Targets: p99 < 5 ms, insert < 3 s.

use std::path::PathBuf;
use std::time::Instant;

use alignscope::api::Api;
use alignscope::api::dto::{ImportRequest, SideDto, StartRunRequest};
use alignscope::data_dir::DataDir;
use alignscope::device::DeviceArg;
use alignscope::run_files::read_exports;
use alignscope::store::{RunStatus, encode_f32s};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let dataset = args.next().map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/datasets/dbp15k/zh_en")
    });
    let epochs: usize = args.next().and_then(|e| e.parse().ok()).unwrap_or(1);
    let home = tempfile::tempdir().expect("temp dir");
    let api = Api::open(DataDir::at(home.path().to_path_buf()).expect("data dir"))
        .await
        .expect("open the store");

    let t = Instant::now();
    let imported = api
        .import_dataset(ImportRequest {
            path: dataset.clone(),
            ..ImportRequest::default()
        })
        .await
        .expect("import");
    let import_seconds = t.elapsed().as_secs_f64();
    eprintln!(
        "imported {} in {import_seconds:.2} s; training {epochs} epoch(s)...",
        dataset.display()
    );
    let run = api
        .start_run(StartRunRequest {
            dataset: imported.dataset.id,
            model: "loginmea".into(),
            settings: [
                ("epochs".to_string(), epochs.into()),
                ("eval_every".to_string(), epochs.into()),
            ]
            .into(),
            loginmea: None,
            train: None,
            train_ratio: 0.3,
            valid_ratio: 0.0,
            device: DeviceArg::Cpu,
            seeds_from: None,
            seeds: None,
            rejected: None,
        })
        .await
        .expect("start");
    let done = api.wait_run(run.id).await.expect("run");
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);

    let entities = api
        .store()
        .entities(imported.dataset.id)
        .await
        .expect("entities");
    let loaded = alignscope_datasets::load(&dataset, &Default::default()).expect("load");
    let rows = read_exports(&done.run_dir.join("exports"), &loaded.pair.keys()).expect("exports");
    let store = api.store();

    let mut batched = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        store
            .replace_predictions(run.id, &rows.predictions, &rows.ranks, &rows.weights)
            .await
            .expect("insert");
        batched.push(t.elapsed().as_secs_f64());
    }
    batched.sort_by(f64::total_cmp);

    // Reference: the same predictions, one INSERT per row, one transaction.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", store.path().display()))
        .await
        .expect("pool");
    sqlx::query("DELETE FROM predictions WHERE run_id = ?")
        .bind(run.id)
        .execute(&pool)
        .await
        .expect("clear");
    let t = Instant::now();
    let mut tx = pool.begin().await.expect("tx");
    for p in &rows.predictions {
        sqlx::query("INSERT INTO predictions (run_id, direction, query, rank, candidate, score, is_true, modality_scores) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .bind(run.id)
            .bind(p.direction)
            .bind(p.query)
            .bind(p.rank)
            .bind(p.candidate)
            .bind(p.score)
            .bind(p.is_true)
            .bind(encode_f32s(&p.modality_scores))
            .execute(&mut *tx)
            .await
            .expect("insert row");
    }
    tx.commit().await.expect("commit");
    let row_by_row = t.elapsed().as_secs_f64();
    pool.close().await;
    store
        .replace_predictions(run.id, &rows.predictions, &rows.ranks, &rows.weights)
        .await
        .expect("insert");

    // 1,000 random left-to-right test queries (xorshift over the ranks list).
    let queries: Vec<i64> = rows
        .ranks
        .iter()
        .filter(|r| r.direction == 0)
        .map(|r| r.query)
        .collect();
    let keys: std::collections::HashMap<i64, &str> = entities
        .iter()
        .map(|e| (e.entity, e.key.as_str()))
        .collect();
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut api_ms = Vec::new();
    let mut store_ms = Vec::new();
    for _ in 0..1000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let query = queries[(state % queries.len() as u64) as usize];
        let t = Instant::now();
        let c = api
            .candidates(run.id, SideDto::Left, keys[&query])
            .await
            .expect("candidates");
        api_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(c.candidates.len(), 10);
        let t = Instant::now();
        store.candidates(run.id, 0, query).await.expect("rows");
        store_ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    api_ms.sort_by(f64::total_cmp);
    store_ms.sort_by(f64::total_cmp);

    println!(
        "store benchmark on {} (run {} epochs, {} entities)",
        dataset.display(),
        epochs,
        entities.len()
    );
    println!(
        "  predictions: {} candidate rows, {} ranks, {} weight rows",
        rows.predictions.len(),
        rows.ranks.len(),
        rows.weights.len()
    );
    println!("  {:<46} {:>10}", "figure", "value");
    println!(
        "  {:<46} {:>8.3} s",
        "insert predictions (median of 3, batched)", batched[1]
    );
    println!(
        "  {:<46} {:>8.3} s",
        "reference: one INSERT per candidate row", row_by_row
    );
    println!(
        "  {:<46} {:>8.1} x",
        "batched speed-up over the reference",
        row_by_row / batched[1]
    );
    println!(
        "  {:<46} {:>7.3} ms",
        "candidates with breakdown (API) p50",
        percentile(&api_ms, 0.5)
    );
    println!(
        "  {:<46} {:>7.3} ms",
        "candidates with breakdown (API) p99",
        percentile(&api_ms, 0.99)
    );
    println!(
        "  {:<46} {:>7.3} ms",
        "candidate rows only (store) p50",
        percentile(&store_ms, 0.5)
    );
    println!(
        "  {:<46} {:>7.3} ms",
        "candidate rows only (store) p99",
        percentile(&store_ms, 0.99)
    );
    println!(
        "  {:<46} {:>8.2} s",
        "dataset import (load, validate, register)", import_seconds
    );
    println!("  targets: insert < 3 s, p99 < 5 ms");
}
