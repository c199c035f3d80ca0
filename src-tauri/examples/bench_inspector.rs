//! Inspector benchmark at scale (`bench_store` measures the store on a real DBP15K run): a synthetic pair
//! (`alignscope_datasets::synthetic`) of N entities per side is imported into a fresh
//! store, a completed run with ten candidates per test query in both directions and
//! modality weights for every entity is registered, and the calls the inspector makes are
//! timed: entity search (substrings, exact labels, one and two characters, no match),
//! candidates, entity detail, neighbourhood, pair context and the query list.
//!
//! The run's candidates are not a model's output (training at 1M does not fit this
//! machine): each test query gets its true counterpart at a random rank or not at all,
//! and random right entities with descending scores. The store's work per call does not
//! depend on which entities they are.
//!
//! `cargo run --release -p alignscope --example bench_inspector -- [ENTITIES]` (default
//! 1,000,000). Prints import seconds and memory, then p50 / p99 / max milliseconds per
//! call over repeated calls on different entities.

use std::time::Instant;

use alignscope::api::Api;
use alignscope::api::dto::{ImportRequest, QueryOrder, SideDto};
use alignscope::data_dir::DataDir;
use alignscope::store::{NewRun, PredictionRow, RankRow, RunOutcome, RunStatus};
use alignscope_datasets::{SyntheticOptions, synthetic_pair, write_alignscope};
use alignscope_models::resources::resident_memory_mib;
use alignscope_models::rng::SeededRng;

/// Calls timed per kind.
const CALLS: usize = 200;
/// Candidates stored per query and direction (as the evaluation keeps).
const TOP_K: usize = 10;
/// Modality columns of the stored scores and weights.
const MODALITIES: [&str; 4] = ["structure", "relation", "attribute", "image"];

/// Milliseconds of each call, summarised.
fn report(what: &str, mut millis: Vec<f64>) {
    millis.sort_by(f64::total_cmp);
    let at = |p: f64| millis[((millis.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "  {what:<44} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} calls)",
        at(0.5),
        at(0.99),
        millis[millis.len() - 1],
        millis.len()
    );
}

/// Times `call` once per item of `inputs`.
async fn time_each<T, F, Fut>(inputs: &[T], mut call: F) -> Vec<f64>
where
    F: FnMut(&T) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut millis = Vec::with_capacity(inputs.len());
    for input in inputs {
        let started = Instant::now();
        call(input).await;
        millis.push(started.elapsed().as_secs_f64() * 1e3);
    }
    millis
}

/// A random piece of `text` of `len` characters (the whole text when shorter).
fn piece(text: &str, len: usize, rng: &mut SeededRng) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= len {
        return text.to_string();
    }
    let start = rng.below(chars.len() - len + 1);
    chars[start..start + len].iter().collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let entities: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let folder = scratch.path().join("pair");

    let started = Instant::now();
    let options = SyntheticOptions {
        entities,
        ..SyntheticOptions::default()
    };
    let (pair, _) = synthetic_pair(&options).expect("valid options");
    write_alignscope(&pair, &folder).expect("pair written");
    println!(
        "{entities} entities per side: generated and written in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let api = Api::open(DataDir::at(scratch.path().join("data")).expect("data dir"))
        .await
        .expect("store opened");
    let before = resident_memory_mib();
    let started = Instant::now();
    let imported = api
        .import_dataset(ImportRequest {
            path: folder.clone(),
            format: Some("alignscope".into()),
            ..ImportRequest::default()
        })
        .await
        .expect("imported");
    let dataset = imported.dataset.id;
    println!(
        "import: {:.1} s, resident memory +{:.0} MiB, database {:.0} MiB",
        started.elapsed().as_secs_f64(),
        resident_memory_mib() - before,
        database_mib(&api)
    );

    let started = Instant::now();
    let mut rng = SeededRng::new(11);
    let run = register_run(&api, &pair, dataset, &mut rng).await;
    println!(
        "run with {} predictions registered in {:.1} s, database {:.0} MiB",
        api.store().prediction_count(run).await.expect("count"),
        started.elapsed().as_secs_f64(),
        database_mib(&api)
    );

    let left = &pair.left.entities;
    let sample: Vec<usize> = (0..CALLS).map(|_| rng.below(pair.gold.len())).collect();
    let labels: Vec<String> = sample
        .iter()
        .map(|&g| left[pair.gold[g].left as usize].label())
        .collect();
    let keys: Vec<String> = sample
        .iter()
        .map(|&g| left[pair.gold[g].left as usize].key.clone())
        .collect();
    let right_keys: Vec<String> = sample
        .iter()
        .map(|&g| pair.right.entities[pair.gold[g].right as usize].key.clone())
        .collect();

    println!("search (limit 50, both sides):");
    let searches: [(&str, Vec<String>); 6] = [
        ("exact label", labels.clone()),
        (
            "5 characters of a label",
            labels.iter().map(|l| piece(l, 5, &mut rng)).collect(),
        ),
        (
            "3 characters of a label",
            labels.iter().map(|l| piece(l, 3, &mut rng)).collect(),
        ),
        (
            "2 characters of a label",
            labels.iter().map(|l| piece(l, 2, &mut rng)).collect(),
        ),
        (
            "1 character",
            labels.iter().map(|l| piece(l, 1, &mut rng)).collect(),
        ),
        ("no match (\"qqxzq\")", vec!["qqxzq".to_string(); CALLS / 4]),
    ];
    for (what, queries) in searches {
        let millis = time_each(&queries, |q| {
            let api = api.clone();
            let q = q.clone();
            async move {
                api.search_entities(dataset, &q, None, 50)
                    .await
                    .expect("search");
            }
        })
        .await;
        report(what, millis);
    }

    println!("inspector:");
    let started = Instant::now();
    api.entity_detail(dataset, SideDto::Left, &keys[0])
        .await
        .expect("detail");
    println!(
        "  first entity detail (loads the pair): {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let millis = time_each(&keys, |k| {
        let api = api.clone();
        let k = k.clone();
        async move {
            api.candidates(run, SideDto::Left, &k)
                .await
                .expect("candidates");
        }
    })
    .await;
    report("candidates of a left entity", millis);
    let millis = time_each(&keys, |k| {
        let api = api.clone();
        let k = k.clone();
        async move {
            api.entity_detail(dataset, SideDto::Left, &k)
                .await
                .expect("detail");
        }
    })
    .await;
    report("entity detail", millis);
    let millis = time_each(&keys, |k| {
        let api = api.clone();
        let k = k.clone();
        async move {
            api.neighbourhood(dataset, SideDto::Left, &k, 2, 60)
                .await
                .expect("neighbourhood");
        }
    })
    .await;
    report("neighbourhood, 2 hops, 60 nodes", millis);
    let pairs: Vec<(String, String)> = keys.iter().cloned().zip(right_keys).collect();
    let millis = time_each(&pairs, |(l, r)| {
        let api = api.clone();
        let (l, r) = (l.clone(), r.clone());
        async move {
            api.pair_context(run, &l, &r).await.expect("pair context");
        }
    })
    .await;
    report("pair context", millis);
    for order in [
        QueryOrder::Confidence,
        QueryOrder::Error,
        QueryOrder::Degree,
    ] {
        let millis = time_each(&[(); 5], |_| {
            let api = api.clone();
            async move {
                api.run_queries(run, order, 200).await.expect("queries");
            }
        })
        .await;
        report(&format!("query list, 200 by {order:?}"), millis);
    }
}

/// The size of the store's database file (with its write-ahead log).
fn database_mib(api: &Api) -> f64 {
    let path = api.data_dir().database();
    let mut bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.into_os_string();
    wal.push("-wal");
    bytes += std::fs::metadata(wal).map(|m| m.len()).unwrap_or(0);
    bytes as f64 / (1024.0 * 1024.0)
}

/// Registers a completed run over the pair's gold: 70% of the pairs are test queries with
/// [`TOP_K`] candidates in each direction, every entity has modality weights.
async fn register_run(
    api: &Api,
    pair: &alignscope_datasets::MmkgPair,
    dataset: alignscope::store::DatasetId,
    rng: &mut SeededRng,
) -> alignscope::store::RunId {
    let store = api.store();
    let run = store
        .create_run(&NewRun {
            dataset,
            model: "loginmea".into(),
            request: serde_json::json!({"benchmark": "bench_inspector"}),
            device: "cpu".into(),
            seed: 1,
            code_version: alignscope::code_version(),
            epochs_planned: 1,
        })
        .await
        .expect("run")
        .id;
    let columns: Vec<String> = MODALITIES.iter().map(|m| m.to_string()).collect();
    store
        .set_modality_columns(run, &columns, &columns)
        .await
        .expect("columns");
    let left_count = pair.left.entities.len() as i64;
    let right_count = pair.right.entities.len() as i64;
    let mut predictions = Vec::new();
    let mut ranks = Vec::new();
    for gold in &pair.gold {
        if rng.next_f64() >= 0.7 {
            continue;
        }
        let (left, right) = (i64::from(gold.left), left_count + i64::from(gold.right));
        for (direction, query, truth, others, offset) in [
            (0, left, right, right_count, left_count),
            (1, right, left, left_count, 0),
        ] {
            let true_rank = 1 + rng.below(TOP_K + 3) as i64;
            ranks.push(RankRow {
                direction,
                query,
                truth,
                rank: true_rank,
            });
            let mut score = rng.uniform(0.5, 0.9);
            for rank in 1..=TOP_K as i64 {
                let candidate = if rank == true_rank {
                    truth
                } else {
                    offset + rng.below(others as usize) as i64
                };
                score -= rng.uniform(0.0, 0.02);
                predictions.push(PredictionRow {
                    direction,
                    query,
                    rank,
                    candidate,
                    score,
                    is_true: candidate == truth,
                    modality_scores: (0..MODALITIES.len())
                        .map(|_| rng.uniform(-0.2, 1.0) as f32)
                        .collect(),
                });
            }
        }
    }
    let weights: Vec<(i64, Vec<f32>)> = (0..left_count + right_count)
        .map(|entity| {
            let raw: Vec<f32> = (0..MODALITIES.len())
                .map(|_| rng.next_f64() as f32)
                .collect();
            let sum: f32 = raw.iter().sum();
            (entity, raw.iter().map(|w| w / sum).collect())
        })
        .collect();
    store
        .replace_predictions(run, &predictions, &ranks, &weights)
        .await
        .expect("predictions stored");
    store.mark_started(run).await.expect("started");
    store
        .finish_run(
            run,
            RunStatus::Completed,
            &RunOutcome {
                best_epoch: Some(1),
                headline: None,
                metrics: None,
                epochs_done: 1,
                peak_memory_mib: None,
            },
        )
        .await
        .expect("finished");
    run
}
