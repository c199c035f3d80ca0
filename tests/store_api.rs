//! The backend API in-process on a real SQLite file: training runs recorded and
//! compared, candidates with their breakdown, decisions with an exact replayable
//! history, the review queue, seeds, and exports checked against their formats.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use alignscope::api::Api;
use alignscope::api::decoding::decoders_for;
use alignscope::api::dto::{
    DecisionRequest, DecoderMethod, DecodingState, ExportFormat, ExportRequest, ImportRequest,
    LinkKind, QueryOrder, ReviewItemDto, ReviewStrategy, SideDto, StartRunRequest,
};
use alignscope::api::review_queue::QueueView;
use alignscope::data_dir::DataDir;
use alignscope::device::DeviceArg;
use alignscope::store::{DatasetId, DecisionSource, RunId, RunStatus, Verdict, replay};
use alignscope_models::run::SavedModel;
use serde_json::json;

#[path = "store_api/team_review.rs"]
mod team_review;

fn planted(root: &Path) -> std::path::PathBuf {
    let dir = root.join("planted");
    let pair = alignscope_models::synthetic::planted_pair(120, 8, 4, 0.1, 3);
    alignscope_datasets::write_alignscope(&pair, &dir).expect("write the generated pair");
    dir
}

async fn open(root: &Path) -> (Api, DatasetId) {
    let api = Api::open(DataDir::at(root.join("home")).unwrap())
        .await
        .unwrap();
    let imported = api
        .import_dataset(ImportRequest {
            path: planted(root),
            ..ImportRequest::default()
        })
        .await
        .unwrap();
    (api, imported.dataset.id)
}

fn request(dataset: DatasetId, seed: u64, epochs: usize) -> StartRunRequest {
    StartRunRequest {
        dataset,
        model: "loginmea".into(),
        settings: [
            ("epochs".to_string(), json!(epochs)),
            ("eval_every".to_string(), json!(2)),
            ("seed".to_string(), json!(seed)),
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
    }
}

async fn train(api: &Api, dataset: DatasetId, seed: u64, epochs: usize) -> RunId {
    let run = api.start_run(request(dataset, seed, epochs)).await.unwrap();
    let done = api.wait_run(run.id).await.unwrap();
    assert_eq!(done.status, RunStatus::Completed, "{:?}", done.error);
    run.id
}

/// Run `run`'s undecided predictions in `strategy`'s order, at most `limit`.
async fn undecided(
    api: &Api,
    run: RunId,
    strategy: ReviewStrategy,
    limit: usize,
) -> Vec<ReviewItemDto> {
    api.review_queue(run, strategy, None, limit, QueueView::default())
        .await
        .unwrap()
}

fn decision(dataset: DatasetId, left: &str, right: &str, verdict: Verdict) -> DecisionRequest {
    DecisionRequest {
        dataset,
        left: left.into(),
        right: right.into(),
        verdict,
        source: DecisionSource::Manual,
        run: None,
        confidence: None,
        note: None,
        author: Some("tester".into()),
        strategy: None,
        session: None,
        blind: None,
        adjudication: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_are_recorded_compared_and_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let a = train(&api, dataset, 1, 4).await;
    let b = train(&api, dataset, 1, 6).await;

    let run = api.get_run(a).await.unwrap();
    assert_eq!(run.epochs_done, 4);
    assert!(run.config.as_ref().unwrap()["deviations"].is_array());
    let metrics = api.run_metrics(a).await.unwrap();
    assert_eq!(
        metrics.iter().map(|m| m.epoch).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert_eq!(
        metrics[3].hits_at_1, run.hits_at_1,
        "final metric = last eval"
    );
    let artifacts = api.run_artifacts(a).await.unwrap();
    let kinds: BTreeSet<_> = artifacts.iter().map(|a| a.kind.as_str()).collect();
    for kind in [
        "config",
        "candidates",
        "ranks",
        "checkpoint",
        "modality_weights",
    ] {
        assert!(kinds.contains(kind), "{kind} missing from {kinds:?}");
    }
    for artifact in &artifacts {
        let bytes = std::fs::read(api.data_dir().resolve_relative(&artifact.path)).unwrap();
        assert_eq!(bytes.len() as i64, artifact.bytes, "{}", artifact.path);
    }

    // Same seed and split: the same test queries; every one is in exactly one bucket.
    let c = api.compare_runs(a, b).await.unwrap();
    let test = run.config.as_ref().unwrap()["split"]["test"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(c.common_queries, test);
    assert_eq!(
        c.both_correct + c.neither_correct + c.a_only.len() + c.b_only.len(),
        c.common_queries
    );
    let h1 = |x: Option<f64>| x.unwrap();
    let expected_delta = h1(c.b.hits_at_1) - h1(c.a.hits_at_1);
    assert!((c.delta.unwrap()[0] - expected_delta).abs() < 1e-12);
    assert!(
        ((c.b_only.len() as f64 - c.a_only.len() as f64) / test as f64 - expected_delta).abs()
            < 1e-9,
        "flips explain the H@1 difference"
    );

    // Candidates of a test query: ten, best first, one score per modality, weights.
    let top = api.store().top_two(a, 0).await.unwrap();
    let query = api.entity_at(dataset, top[0].0).await.unwrap();
    let cands = api.candidates(a, SideDto::Left, &query.key).await.unwrap();
    assert_eq!(cands.candidates.len(), 10);
    assert!(
        cands
            .candidates
            .windows(2)
            .all(|w| w[0].score >= w[1].score)
    );
    for cand in &cands.candidates {
        assert_eq!(cand.modality_scores.len(), cands.modalities.len());
        assert_eq!(
            cand.weights.as_ref().map(Vec::len),
            Some(cands.weight_modalities.len())
        );
    }
    assert_eq!(cands.candidates[0].entity.entity, top[0].1);
    // The store was filled from the predictions in memory; the TSV artifact, read back
    // by key, holds the same candidates and scores.
    let loaded = alignscope_datasets::load(&tmp.path().join("planted"), &Default::default())
        .expect("the planted pair loads");
    let from_files =
        alignscope::run_files::read_exports(&run.run_dir.join("exports"), &loaded.pair.keys())
            .expect("the exports read back");
    let in_files: Vec<_> = from_files
        .predictions
        .iter()
        .filter(|p| p.direction == 0 && p.query == top[0].0)
        .collect();
    assert_eq!(in_files.len(), cands.candidates.len());
    for (file, stored) in in_files.iter().zip(&cands.candidates) {
        assert_eq!(file.candidate, stored.entity.entity);
        assert!(
            (file.score - stored.score).abs() < 1e-6,
            "{file:?} vs {stored:?}"
        );
        assert_eq!(file.modality_scores.len(), stored.modality_scores.len());
    }
    let detail = api
        .entity_detail(dataset, SideDto::Left, &query.key)
        .await
        .unwrap();
    // Search by name: the exact label comes first, the side filter holds.
    let found = api
        .search_entities(dataset, &query.label, Some(SideDto::Left), 5)
        .await
        .unwrap();
    assert_eq!(found[0], query);
    assert!(found.iter().all(|e| e.side == SideDto::Left));
    let none = api
        .search_entities(dataset, "no such name %_", None, 5)
        .await
        .unwrap();
    assert!(none.is_empty());
    assert!(detail.relation_count > 0 && !detail.neighbours.is_empty());

    // A running run cannot be deleted; a finished one goes with its folder.
    let dir = api.get_run(b).await.unwrap().run_dir;
    assert!(dir.exists());
    api.delete_run(b).await.unwrap();
    assert!(!dir.exists());
    assert!(api.get_run(b).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_decisions_and_undos_replay_exactly() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let entities = api.store().entities(dataset).await.unwrap();
    let (left, right): (Vec<_>, Vec<_>) = entities.iter().partition(|e| e.side == 0);
    // A small pool of pairs so that pairs are decided several times over.
    let mut state = 0x9e37_79b9_u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    // The model: per pair, a stack of standing verdicts.
    let mut stacks: BTreeMap<(String, String), Vec<Verdict>> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    let mut snapshots = Vec::new();
    let standing = |stacks: &BTreeMap<(String, String), Vec<Verdict>>| -> BTreeMap<_, _> {
        stacks
            .iter()
            .filter_map(|(k, s)| s.last().map(|v| (k.clone(), *v)))
            .collect::<BTreeMap<_, _>>()
    };
    for _ in 0..1000 {
        let l = &left[next(12)].key;
        let r = &right[next(12)].key;
        let verdict = [Verdict::Accept, Verdict::Reject, Verdict::Unsure][next(3)];
        api.record_decision(decision(dataset, l, r, verdict))
            .await
            .unwrap();
        stacks
            .entry((l.clone(), r.clone()))
            .or_default()
            .push(verdict);
        order.push((l.clone(), r.clone()));
        snapshots.push(standing(&stacks));
    }
    for step in 0..1000 {
        let undo = api
            .undo_decision(dataset, Some("tester".into()), None)
            .await
            .unwrap()
            .unwrap();
        let pair = order.pop().unwrap();
        assert_eq!((undo.left_key.clone(), undo.right_key.clone()), pair);
        let stack = stacks.get_mut(&pair).unwrap();
        stack.pop();
        assert_eq!(undo.verdict, stack.last().copied().unwrap_or(Verdict::None));
        snapshots.push(standing(&stacks));
        if step % 250 == 0 {
            let now: BTreeMap<_, _> = api
                .standing_decisions(dataset)
                .await
                .unwrap()
                .into_iter()
                .map(|d| ((d.left_key, d.right_key), d.verdict))
                .collect();
            assert_eq!(now, standing(&stacks));
        }
    }
    assert!(
        api.undo_decision(dataset, Some("tester".into()), None)
            .await
            .unwrap()
            .is_none()
    );
    assert!(api.standing_decisions(dataset).await.unwrap().is_empty());

    // The history holds every row, and every prefix replays to the state at that time.
    let history = api.decision_history(dataset).await.unwrap();
    assert_eq!(history.len(), 2000);
    for (i, snapshot) in snapshots.iter().enumerate() {
        let replayed: BTreeMap<_, _> = replay(&history[..=i])
            .into_iter()
            .map(|(k, d)| (k, d.verdict))
            .collect();
        assert_eq!(&replayed, snapshot, "after row {}", i + 1);
    }

    // Append-only: the database itself refuses to rewrite history.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", api.store().path().display()))
        .await
        .unwrap();
    for sql in [
        "UPDATE decisions SET verdict = 'accept'",
        "DELETE FROM decisions",
    ] {
        let err = sqlx::query(sql).execute(&pool).await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
    }
    assert_eq!(api.decision_history(dataset).await.unwrap(), history);

    // Unknown entities are refused with their key named.
    let err = api
        .record_decision(decision(
            dataset,
            "no-such-key",
            &right[0].key,
            Verdict::Accept,
        ))
        .await
        .unwrap_err();
    assert!(err.message.contains("no-such-key"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_queue_seeds_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 7, 4).await;

    let queue = undecided(&api, run, ReviewStrategy::LowestMargin, 15).await;
    assert_eq!(queue.len(), 15);
    assert!(
        queue
            .windows(2)
            .all(|w| w[0].margin.unwrap() <= w[1].margin.unwrap())
    );
    // Decide the first two: accept one, reject the other; they leave the queue.
    let (first, second) = (&queue[0], &queue[1]);
    let mut accept = decision(dataset, &first.left.key, &first.right.key, Verdict::Accept);
    accept.run = Some(run);
    api.record_decision(accept).await.unwrap();
    api.record_decision(decision(
        dataset,
        &second.left.key,
        &second.right.key,
        Verdict::Reject,
    ))
    .await
    .unwrap();
    let again = undecided(&api, run, ReviewStrategy::LowestMargin, 15).await;
    assert!(
        again
            .iter()
            .all(|i| i.left.key != first.left.key || i.right.key != first.right.key)
    );
    assert_eq!(again[0].left.key, queue[2].left.key);
    let hubs = undecided(&api, run, ReviewStrategy::Hubs, 50).await;
    assert!(hubs.iter().all(|h| h.hub_count > 1));
    assert!(hubs.windows(2).all(|w| w[0].hub_count >= w[1].hub_count));
    let disagreements = undecided(&api, run, ReviewStrategy::Disagreement, 1000).await;
    for d in &disagreements {
        let back = api
            .candidates(run, SideDto::Right, &d.right.key)
            .await
            .unwrap();
        assert_ne!(
            back.candidates.first().map(|c| &c.entity.key),
            Some(&d.left.key)
        );
    }

    // Seeds: training pairs + accepted - rejected.
    let seeds = api.seeds_for_new_run(run).await.unwrap();
    assert_eq!(seeds.from_training, 36, "30% of 120 gold pairs");
    let accepted = (first.left.key.clone(), first.right.key.clone());
    assert!(seeds.pairs.contains(&accepted));
    assert_eq!(
        seeds.pairs.len(),
        seeds.from_training + seeds.accepted_added - seeds.rejected_removed
    );
    // A new run trains on exactly those seeds, and tests on gold pairs not touching them.
    let mut request = request(dataset, 7, 2);
    request.seeds_from = Some(run);
    let retrained = api.start_run(request).await.unwrap();
    let retrained = api.wait_run(retrained.id).await.unwrap();
    assert_eq!(
        retrained.status,
        RunStatus::Completed,
        "{:?}",
        retrained.error
    );
    let split = &retrained.config.as_ref().unwrap()["split"];
    assert_eq!(split["train"], seeds.pairs.len());
    let stored: Vec<(String, String)> = serde_json::from_value(split["seeds"].clone()).unwrap();
    assert_eq!(stored, seeds.pairs);
    let seeded_left: BTreeSet<&str> = seeds.pairs.iter().map(|p| p.0.as_str()).collect();
    let ranks = api.store().ranks(retrained.id).await.unwrap();
    assert_eq!(ranks.len() as u64, 2 * split["test"].as_u64().unwrap());
    for r in ranks.iter().filter(|r| r.direction == 0) {
        let key = api.entity_at(dataset, r.query).await.unwrap().key;
        assert!(
            !seeded_left.contains(key.as_str()),
            "{key} is a seed and a test query"
        );
    }

    // SSSOM: metadata, curie map covering every CURIE, required columns, justifications.
    let sssom = api
        .export_pairs(&ExportRequest {
            run: Some(run),
            ..ExportRequest::new(dataset, ExportFormat::Sssom)
        })
        .await
        .unwrap();
    let header: Vec<&str> = sssom.lines().take_while(|l| l.starts_with('#')).collect();
    let yaml: String = header.iter().map(|l| format!("{}\n", &l[2..])).collect();
    let prefixes: BTreeSet<String> = yaml
        .lines()
        .skip_while(|l| !l.starts_with("curie_map:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.trim().split(':').next().unwrap().to_string())
        .collect();
    for key in ["mapping_set_id:", "license:", "curie_map:"] {
        assert!(
            yaml.lines().any(|l| l.starts_with(key)),
            "{key} missing:\n{yaml}"
        );
    }
    let mut rows = sssom.lines().skip(header.len());
    let columns: Vec<&str> = rows.next().unwrap().split('\t').collect();
    for required in [
        "subject_id",
        "predicate_id",
        "object_id",
        "mapping_justification",
    ] {
        assert!(columns.contains(&required), "{required}");
    }
    let col = |name: &str| columns.iter().position(|c| *c == name).unwrap();
    let mut justifications = BTreeMap::new();
    let mut subjects = Vec::new();
    for row in rows {
        let f: Vec<&str> = row.split('\t').collect();
        assert_eq!(f.len(), columns.len(), "{row}");
        for id in [
            f[col("subject_id")],
            f[col("object_id")],
            f[col("predicate_id")],
        ] {
            let prefix = id.split(':').next().unwrap();
            assert!(prefixes.contains(prefix), "{prefix} not in the curie map");
        }
        let c: f64 = f[col("confidence")].parse().unwrap();
        assert!((0.0..=1.0).contains(&c));
        *justifications
            .entry(f[col("mapping_justification")].to_string())
            .or_insert(0) += 1;
        subjects.push((
            f[col("subject_label")].to_string(),
            f[col("object_label")].to_string(),
        ));
    }
    assert_eq!(justifications.get("semapv:ManualMappingCuration"), Some(&1));
    assert!(justifications.contains_key("semapv:SemanticSimilarityThresholdMatching"));
    assert_eq!(justifications.len(), 2, "{justifications:?}");
    assert!(!subjects.contains(&(second.left.label.clone(), second.right.label.clone())));

    // N-Triples: one owl:sameAs triple per exported pair, IRIs without forbidden characters.
    let nt = api
        .export_pairs(&ExportRequest {
            run: Some(run),
            ..ExportRequest::new(dataset, ExportFormat::Nt)
        })
        .await
        .unwrap();
    assert_eq!(nt.lines().count(), subjects.len());
    for line in nt.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        assert_eq!(parts.len(), 4, "{line}");
        assert_eq!(parts[1], "<http://www.w3.org/2002/07/owl#sameAs>");
        assert_eq!(parts[3], ".");
        for iri in [parts[0], parts[2]] {
            assert!(iri.starts_with("<http") && iri.ends_with('>'), "{iri}");
            assert!(
                !iri[1..iri.len() - 1].contains(['<', '>', '"', '{', '}', '|', '^', '`', '\\'])
            );
        }
    }
    // Plain TSV without the run: the accepted pair only.
    let tsv = api
        .export_pairs(&ExportRequest::new(dataset, ExportFormat::Tsv))
        .await
        .unwrap();
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(lines[0], "left\tright\tjustification\tconfidence");
    assert_eq!(lines.len(), 2);
    assert!(lines[1].starts_with(&format!("{}\t{}\t", first.left.key, first.right.key)));

    // With a threshold: the accepted pair plus only the predictions scoring at least it.
    let model_scores = |text: &str| -> Vec<f64> {
        text.lines()
            .skip(1)
            .map(|l| l.split('\t').collect::<Vec<_>>())
            .filter(|f| f[2] == "semapv:SemanticSimilarityThresholdMatching")
            .map(|f| f[3].parse().unwrap())
            .collect()
    };
    let all = model_scores(
        &api.export_pairs(&ExportRequest {
            run: Some(run),
            ..ExportRequest::new(dataset, ExportFormat::Tsv)
        })
        .await
        .unwrap(),
    );
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    // Midway between two distinct middle scores: the file's 6 decimals cannot tie with it.
    let i = (sorted.len() / 2..sorted.len())
        .find(|&i| sorted[i] > sorted[i - 1] + 1e-4)
        .expect("distinct scores");
    let threshold = (sorted[i - 1] + sorted[i]) / 2.0;
    let above = api
        .export_pairs(&ExportRequest {
            run: Some(run),
            min_score: Some(threshold),
            ..ExportRequest::new(dataset, ExportFormat::Tsv)
        })
        .await
        .unwrap();
    let kept = model_scores(&above);
    assert_eq!(kept.len(), all.iter().filter(|&&s| s >= threshold).count());
    assert!(kept.len() < all.len() && !kept.is_empty());
    assert!(above.contains(&format!("{}\t{}\t", first.left.key, first.right.key)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decodings_are_saved_and_feed_the_export_and_the_review_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 5, 4).await;

    // Nothing decoded yet: idle, and the export and review order that need it say how.
    let idle = api.decoding(run).await.unwrap();
    assert_eq!(idle.state, DecodingState::Idle);
    assert!(idle.result.is_none());
    let error = api
        .review_queue(
            run,
            ReviewStrategy::OneToOne,
            None,
            10,
            QueueView::default(),
        )
        .await
        .unwrap_err();
    assert!(
        error.message.contains("decode it first"),
        "{}",
        error.message
    );
    let error = api
        .export_pairs(&ExportRequest {
            run: Some(run),
            decoder: Some(DecoderMethod::Greedy),
            ..ExportRequest::new(dataset, ExportFormat::Tsv)
        })
        .await
        .unwrap_err();
    assert!(error.message.contains("runs decode"), "{}", error.message);

    // In the background, followed until it ends.
    let started = api
        .start_decoding(
            run,
            vec![DecoderMethod::Greedy, DecoderMethod::Sinkhorn],
            None,
            None,
            false,
            None,
        )
        .await
        .unwrap();
    assert_eq!(started.state, DecodingState::Decoding);
    assert_eq!(started.total, 4, "scoring, then rank, greedy and Sinkhorn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let done = loop {
        let state = api.decoding(run).await.unwrap();
        if state.state != DecodingState::Decoding {
            break state;
        }
        assert!(std::time::Instant::now() < deadline, "decoding never ended");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(done.state, DecodingState::Done, "{:?}", done.message);
    let result = done.result.expect("a saved decoding");
    let methods: Vec<DecoderMethod> = result.outcomes.iter().map(|o| o.method).collect();
    assert_eq!(
        methods,
        [
            DecoderMethod::Rank,
            DecoderMethod::Greedy,
            DecoderMethod::Sinkhorn
        ]
    );
    assert!(result.test_pairs > 50, "{} test pairs", result.test_pairs);
    for o in &result.outcomes {
        assert_eq!(o.one_to_one, o.method != DecoderMethod::Rank);
        assert!(o.paired <= result.test_pairs && o.correct <= o.paired);
        let last = o.curve.last().expect("a curve");
        assert_eq!(last.kept, o.paired, "{}", o.label);
        assert!((last.precision * o.paired as f64 - o.correct as f64).abs() < 1e-6);
        assert!(
            o.curve
                .windows(2)
                .all(|w| w[0].kept < w[1].kept && w[0].threshold >= w[1].threshold)
        );
    }
    let run_row = api.get_run(run).await.unwrap();
    assert!(run_row.run_dir.join("exports/decoding.json").is_file());

    // A later decoding of the same model adds Hungarian and keeps the others.
    let decoders = decoders_for(&[DecoderMethod::Hungarian], None, None).unwrap();
    api.decode_run(run, SavedModel::Latest, DeviceArg::Cpu, decoders, |_| {})
        .await
        .unwrap();
    let merged = api.decoding(run).await.unwrap().result.unwrap();
    let methods: Vec<DecoderMethod> = merged.outcomes.iter().map(|o| o.method).collect();
    assert_eq!(
        methods,
        [
            DecoderMethod::Rank,
            DecoderMethod::Greedy,
            DecoderMethod::Hungarian,
            DecoderMethod::Sinkhorn
        ]
    );
    let sinkhorn = &merged.outcomes[3];
    assert_eq!(sinkhorn.hits_at_1, result.outcomes[2].hits_at_1);

    // The export's model rows are the Sinkhorn pairs: one per left entity and per right
    // entity, with the decoder's confidence (a share, so within [0, 1]).
    let exported = api
        .export_pairs(&ExportRequest {
            run: Some(run),
            decoder: Some(DecoderMethod::Sinkhorn),
            ..ExportRequest::new(dataset, ExportFormat::Tsv)
        })
        .await
        .unwrap();
    let rows: Vec<Vec<&str>> = exported
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), sinkhorn.paired);
    let lefts: BTreeSet<&str> = rows.iter().map(|r| r[0]).collect();
    let rights: BTreeSet<&str> = rows.iter().map(|r| r[1]).collect();
    assert_eq!((lefts.len(), rights.len()), (rows.len(), rows.len()));
    let confidences: Vec<f64> = rows.iter().map(|r| r[3].parse().unwrap()).collect();
    assert!(confidences.iter().all(|c| (0.0..=1.0).contains(c)));
    let confident = api
        .export_pairs(&ExportRequest {
            run: Some(run),
            min_score: Some(0.5),
            decoder: Some(DecoderMethod::Sinkhorn),
            ..ExportRequest::new(dataset, ExportFormat::Tsv)
        })
        .await
        .unwrap();
    assert_eq!(
        confident.lines().count() - 1,
        confidences.iter().filter(|&&c| c >= 0.5).count()
    );

    // The one-to-one review order: Sinkhorn's pairs, least confident first; a decided
    // pair leaves it.
    let queue = undecided(&api, run, ReviewStrategy::OneToOne, 10).await;
    assert_eq!(queue.len(), 10.min(sinkhorn.paired));
    assert!(queue.windows(2).all(|w| w[0].score <= w[1].score));
    assert!(queue[0].reason.contains("Sinkhorn"), "{}", queue[0].reason);
    assert!(
        rows.iter()
            .any(|r| r[0] == queue[0].left.key && r[1] == queue[0].right.key)
    );
    api.record_decision(decision(
        dataset,
        &queue[0].left.key,
        &queue[0].right.key,
        Verdict::Reject,
    ))
    .await
    .unwrap();
    let after = undecided(&api, run, ReviewStrategy::OneToOne, 10).await;
    assert_eq!(after[0].left.key, queue[1].left.key);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_lists_pair_context_and_precision_from_random_samples() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 11, 4).await;

    // The query list in each order.
    let by_confidence = api
        .run_queries(run, QueryOrder::Confidence, 1000)
        .await
        .unwrap();
    assert_eq!(
        by_confidence.len(),
        84,
        "70% of 120 gold pairs are test queries"
    );
    assert!(by_confidence.windows(2).all(|w| w[0].score <= w[1].score));
    let by_error = api.run_queries(run, QueryOrder::Error, 10).await.unwrap();
    assert_eq!(by_error.len(), 10);
    assert!(
        by_error
            .windows(2)
            .all(|w| w[0].true_rank.unwrap() >= w[1].true_rank.unwrap())
    );
    // The worst ten are the ten worst of all queries (ties: lower entity first).
    let mut worst: Vec<(i64, i64)> = by_confidence
        .iter()
        .map(|q| (q.true_rank.unwrap(), q.entity.entity))
        .collect();
    worst.sort_by_key(|&(rank, entity)| (std::cmp::Reverse(rank), entity));
    assert_eq!(
        by_error.iter().map(|q| q.entity.entity).collect::<Vec<_>>(),
        worst[..10].iter().map(|w| w.1).collect::<Vec<_>>()
    );
    let by_degree = api
        .run_queries(run, QueryOrder::Degree, 1000)
        .await
        .unwrap();
    assert_eq!(by_degree.len(), 84);
    assert!(by_degree.windows(2).all(|w| w[0].degree >= w[1].degree));
    let few = api.run_queries(run, QueryOrder::Degree, 5).await.unwrap();
    let ids = |queries: &[alignscope::api::dto::RunQueryDto]| -> Vec<i64> {
        queries.iter().map(|q| q.entity.entity).collect()
    };
    assert_eq!(ids(&few), ids(&by_degree[..5]));
    assert!(by_degree[0].degree > 0);

    // Corpus views: H@1 by degree and by modality add up to the run's H@1; hubs; both
    // similarities; the projection of every test entity.
    let analysis = api.run_analysis(run).await.unwrap();
    let run_row = api.get_run(run).await.unwrap();
    let hits = (run_row.hits_at_1.unwrap() * 84.0).round() as usize;
    let total = |groups: &[alignscope::api::dto::HitsGroupDto]| {
        (
            groups.iter().map(|g| g.queries).sum::<usize>(),
            groups.iter().map(|g| g.hits_at_1).sum::<usize>(),
        )
    };
    assert_eq!(total(&analysis.by_degree), (84, hits));
    for m in &analysis.by_modality {
        assert_eq!(
            total(&[m.with.clone(), m.without.clone()]),
            (84, hits),
            "{}",
            m.modality
        );
    }
    assert!(
        analysis
            .hubs
            .windows(2)
            .all(|w| w[0].top1_of >= w[1].top1_of)
    );
    assert!(analysis.hubs.iter().all(|h| h.top1_of >= 2));
    let metrics = analysis.similarity_metrics.expect("written at export");
    let csls = metrics["csls"]["left_to_right"]["hits_at_1"]
        .as_f64()
        .unwrap();
    assert!(
        (csls - run_row.hits_at_1.unwrap()).abs() < 1e-9,
        "the run ranks by CSLS"
    );
    // Cosine ranks (the other similarity written at export) are real metrics of the same
    // embeddings: MRR between H@1 and 1, H@10 at least H@1, and on the planted pair well
    // above chance (an MRR of about 0.06 over 84 candidates; measured 0.27 here).
    for direction in ["left_to_right", "right_to_left"] {
        let cosine = &metrics["cosine"][direction];
        let (h1, h10, mrr) = (
            cosine["hits_at_1"].as_f64().unwrap(),
            cosine["hits_at_10"].as_f64().unwrap(),
            cosine["mrr"].as_f64().unwrap(),
        );
        assert!(
            h1 <= mrr && mrr <= 1.0 && h1 <= h10,
            "{direction}: {cosine}"
        );
        assert!(mrr >= 0.15, "{direction}: {cosine}");
    }
    let projection = api.run_projection(run).await.unwrap();
    assert_eq!(projection.x.len(), 2 * 84);
    assert_eq!(projection.kind.iter().filter(|&&k| k == 0).count(), hits);
    assert_eq!(projection.kind.iter().filter(|&&k| k == 2).count(), 84);
    assert!(
        projection
            .x
            .iter()
            .chain(&projection.y)
            .all(|v| v.is_finite())
    );
    let spread = |v: &[f32]| v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    assert!(spread(&projection.x) > 0.0 && spread(&projection.y) > 0.0);

    // Pair context: both neighbourhoods, and links that are real alignments.
    let query = &by_degree[0];
    let context = api
        .pair_context(run, &query.entity.key, &query.top1.key)
        .await
        .unwrap();
    assert_eq!(context.left.center.key, query.entity.key);
    assert_eq!(context.right.center.key, query.top1.key);
    assert!(!context.left.nodes.is_empty() && !context.right.nodes.is_empty());
    let seeds = api.training_pairs(run).await.unwrap();
    let key_of = |n: &alignscope::api::dto::NeighbourhoodDto, id: i64| {
        std::iter::once(&n.center)
            .chain(n.nodes.iter().map(|x| &x.entity))
            .find(|e| e.entity == id)
            .map(|e| e.key.clone())
            .expect("a link joins drawn nodes")
    };
    assert!(
        !context.links.is_empty(),
        "a hub query's neighbours include seeds"
    );
    for link in &context.links {
        let pair = (
            key_of(&context.left, link.left),
            key_of(&context.right, link.right),
        );
        match link.kind {
            LinkKind::Seed => assert!(seeds.contains(&pair)),
            LinkKind::MutualTop1 => {
                let forward = api.candidates(run, SideDto::Left, &pair.0).await.unwrap();
                assert_eq!(forward.candidates[0].entity.key, pair.1);
            }
            LinkKind::Accepted => panic!("nothing is accepted yet"),
        }
    }

    // Training pairs are kept per run: a run trained after a delete gets its own.
    let doomed = train(&api, dataset, 12, 1).await;
    let doomed_pairs = api.training_pairs(doomed).await.unwrap();
    api.delete_run(doomed).await.unwrap();
    let reborn = train(&api, dataset, 13, 1).await;
    let reborn_pairs = api.training_pairs(reborn).await.unwrap();
    assert_eq!(reborn_pairs.len(), doomed_pairs.len());
    assert_ne!(
        reborn_pairs, doomed_pairs,
        "another seed splits the gold pairs otherwise"
    );
    assert_eq!(api.training_pairs(run).await.unwrap(), seeds);

    // Random order: every prediction once, in an order that is not the query order.
    let random = undecided(&api, run, ReviewStrategy::Random, 1000).await;
    assert_eq!(random.len(), 84);
    let again = undecided(&api, run, ReviewStrategy::Random, 1000).await;
    let keys = |q: &[ReviewItemDto]| q.iter().map(|i| i.left.key.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&random), keys(&again), "the order is fixed per run");
    let mut sorted = keys(&random);
    sorted.sort();
    assert_ne!(keys(&random), sorted);

    // Decide ten random-sample pairs by their gold truth, plus one lowest-margin pair:
    // only the random ones enter the estimate, which must equal their true precision.
    let mut true_count = 0;
    for item in random.iter().take(10) {
        let truth = api
            .candidates(run, SideDto::Left, &item.left.key)
            .await
            .unwrap()
            .candidates[0]
            .is_true;
        true_count += usize::from(truth);
        let verdict = if truth {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        let mut d = decision(dataset, &item.left.key, &item.right.key, verdict);
        d.run = Some(run);
        d.strategy = Some(ReviewStrategy::Random);
        api.record_decision(d).await.unwrap();
    }
    let margin = undecided(&api, run, ReviewStrategy::LowestMargin, 1).await;
    let mut d = decision(
        dataset,
        &margin[0].left.key,
        &margin[0].right.key,
        Verdict::Unsure,
    );
    d.run = Some(run);
    d.strategy = Some(ReviewStrategy::LowestMargin);
    api.record_decision(d).await.unwrap();
    let progress = api.review_progress(run).await.unwrap();
    assert_eq!(progress.predictions, 84);
    assert_eq!(progress.accepted, true_count);
    assert_eq!(progress.rejected, 10 - true_count);
    assert_eq!(progress.unsure, 1);
    let sample = &progress.random_sample;
    assert_eq!(sample.accepted + sample.rejected, 10);
    assert_eq!(sample.precision, Some(true_count as f64 / 10.0));
    assert!(sample.low.unwrap() <= sample.precision.unwrap());
    assert!(sample.high.unwrap() >= sample.precision.unwrap());

    // Accept the top-1 of the context's centre: the centre link becomes `accepted`
    // unless it is a seed already.
    let mut d = decision(dataset, &query.entity.key, &query.top1.key, Verdict::Accept);
    d.run = Some(run);
    api.record_decision(d).await.unwrap();
    let context = api
        .pair_context(run, &query.entity.key, &query.top1.key)
        .await
        .unwrap();
    let centre = context
        .links
        .iter()
        .find(|l| l.left == context.left.center.entity && l.right == context.right.center.entity)
        .expect("the accepted centre pair is linked");
    assert_eq!(centre.kind, LinkKind::Accepted);

    // Train again with the decisions: the same settings, the accepted pairs as seeds, the
    // rejected ones recorded as kept out of the pseudo seeds.
    let again = api.retrain_with_decisions(run).await.unwrap();
    assert_eq!(again.seeds_from, Some(run));
    let again = api.wait_run(again.id).await.unwrap();
    assert_eq!(again.status, RunStatus::Completed, "{:?}", again.error);
    let split = &again.config.as_ref().unwrap()["split"];
    let seeded: Vec<(String, String)> = serde_json::from_value(split["seeds"].clone()).unwrap();
    assert!(seeded.contains(&(query.entity.key.clone(), query.top1.key.clone())));
    let rejected: Vec<(String, String)> =
        serde_json::from_value(split["rejected"].clone()).unwrap_or_default();
    assert_eq!(rejected.len(), 10 - true_count);
    for pair in &rejected {
        assert!(!seeded.contains(pair));
    }
    assert_eq!(
        again.config.as_ref().unwrap()["train"],
        api.get_run(run).await.unwrap().config.unwrap()["train"],
        "same training settings"
    );

    // Run ids are never used again: the newest run's decisions (its random-sample review)
    // stay its own after it is deleted, instead of becoming the next run's.
    let doomed = train(&api, dataset, 14, 1).await;
    for item in undecided(&api, doomed, ReviewStrategy::Random, 1000).await {
        let mut request = decision(dataset, &item.left.key, &item.right.key, Verdict::Accept);
        request.run = Some(doomed);
        request.strategy = Some(ReviewStrategy::Random);
        api.record_decision(request).await.unwrap();
    }
    api.delete_run(doomed).await.unwrap();
    // The same seed: the same split and predictions, so every decision names one of them.
    let reborn = train(&api, dataset, 14, 1).await;
    assert!(
        reborn > doomed,
        "run {reborn} took the deleted run {doomed}'s id"
    );
    let progress = api.review_progress(reborn).await.unwrap();
    assert!(
        progress.accepted > 0,
        "the deleted run's decisions cover the new run's predictions"
    );
    assert_eq!(
        (
            progress.random_sample.accepted,
            progress.random_sample.rejected
        ),
        (0, 0),
        "the new run's precision sample counts another run's decisions"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_that_goes_away_mid_call_never_leaves_a_run_without_a_job() {
    use alignscope::api::ApiCall;
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    // A client that disconnects while `start_run` is under way, at many points of it: the
    // HTTP server drops the call's future then.
    for (i, micros) in [
        0u64, 50, 200, 500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000,
    ]
    .into_iter()
    .enumerate()
    {
        let call = ApiCall::StartRun {
            request: request(dataset, 100 + i as u64, 1),
        };
        let _ =
            tokio::time::timeout(std::time::Duration::from_micros(micros), api.call(call)).await;
    }
    // Whatever was created runs to its end: no run is left queued without a job (which
    // a later read would find orphaned and mark interrupted).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(180);
    let runs = loop {
        let runs = api.list_runs().await.unwrap();
        if runs.len() == 10 && runs.iter().all(|r| !r.status.is_active()) {
            break runs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "calls dropped by their caller never finished: {:?}",
            runs.iter().map(|r| (r.id, r.status)).collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    for run in runs {
        assert_eq!(
            run.status,
            RunStatus::Completed,
            "run {}: {:?}",
            run.id,
            run.error
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undo_takes_back_only_the_same_reviewers_decision_in_the_same_window() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let entities = api.store().entities(dataset).await.unwrap();
    let (left, right): (Vec<_>, Vec<_>) = entities.iter().partition(|e| e.side == 0);
    let take = |i: usize, author: &str, session: Option<&str>| {
        let mut d = decision(dataset, &left[i].key, &right[i].key, Verdict::Accept);
        d.author = Some(author.into());
        d.session = session.map(str::to_string);
        d
    };
    // Ann decides pair 0 in window w1, then pair 1 in window w2; Bob decides pair 2 last.
    for request in [
        take(0, "ann", Some("w1")),
        take(1, "ann", Some("w2")),
        take(2, "bob", Some("w1")),
    ] {
        api.record_decision(request).await.unwrap();
    }
    let undo = |author: &str, session: Option<&str>| {
        let api = api.clone();
        let (author, session) = (author.to_string(), session.map(str::to_string));
        async move {
            api.undo_decision(dataset, Some(author), session)
                .await
                .unwrap()
                .map(|row| row.left_key)
        }
    };
    // Ann's undo in w1 takes back her w1 decision, not the newer w2 one or Bob's newest.
    assert_eq!(undo("ann", Some("w1")).await, Some(left[0].key.clone()));
    assert_eq!(undo("ann", Some("w1")).await, None);
    // Without a window (the CLI): her newest anywhere.
    assert_eq!(undo("ann", None).await, Some(left[1].key.clone()));
    assert_eq!(undo("ann", None).await, None);
    assert_eq!(undo("bob", Some("w2")).await, None);
    assert_eq!(undo("bob", Some("w1")).await, Some(left[2].key.clone()));
    assert!(api.standing_decisions(dataset).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_cold_entity_requests_read_the_dataset_once() {
    let tmp = tempfile::tempdir().unwrap();
    let (first, dataset) = open(tmp.path()).await;
    let keys: Vec<String> = first
        .store()
        .entities(dataset)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.side == 0)
        .take(6)
        .map(|e| e.key)
        .collect();
    drop(first);
    // Another process on the same data directory: nothing loaded yet.
    let api = Api::open(DataDir::at(tmp.path().join("home")).unwrap())
        .await
        .unwrap();
    let calls = keys.iter().map(|key| {
        let (api, key) = (api.clone(), key.clone());
        tokio::spawn(async move { api.entity_detail(dataset, SideDto::Left, &key).await })
    });
    for detail in futures_util::future::join_all(calls).await {
        detail.unwrap().unwrap();
    }
    assert_eq!(api.dataset_loads(), 1, "six cold requests, one read");
}

/// A 1×1 red PNG.
const TINY_PNG: &[u8] = b"\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90\x77\x53\xde\x00\x00\x00\x0c\x49\x44\x41\x54\x78\x9c\x63\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60\x82";

/// `target` as a path relative to the current directory (up to their common folder).
fn relative_to_cwd(target: &Path) -> std::path::PathBuf {
    let cwd = std::env::current_dir().unwrap();
    let common = cwd
        .components()
        .zip(target.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut relative = std::path::PathBuf::new();
    for _ in cwd.components().skip(common) {
        relative.push("..");
    }
    relative.extend(target.components().skip(common));
    relative
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dataset_imported_by_a_relative_path_serves_its_images() {
    // Beside the source tree (the tests' current folder), so that the relative path does
    // not climb to the file system's root, where `..` stops mattering.
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let photo = tmp.path().join("photo.png");
    std::fs::write(&photo, TINY_PNG).unwrap();
    let mut pair = alignscope_models::synthetic::planted_pair(20, 4, 3, 0.0, 1);
    pair.left.images[0] = vec![photo];
    let dir = tmp.path().join("with-images");
    alignscope_datasets::write_alignscope(&pair, &dir).unwrap();
    let relative = relative_to_cwd(&dir);
    assert!(relative.is_relative() && relative.join("left").is_dir());

    let api = Api::open(DataDir::at(tmp.path().join("home")).unwrap())
        .await
        .unwrap();
    let imported = api
        .import_dataset(ImportRequest {
            path: relative,
            ..ImportRequest::default()
        })
        .await
        .unwrap();
    let key = &pair.left.entities[0].key;
    let image = api
        .entity_image(imported.dataset.id, SideDto::Left, key, 0)
        .await
        .unwrap();
    assert_eq!(
        std::fs::read(&image).unwrap(),
        TINY_PNG,
        "{}",
        image.display()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_left_running_by_a_gone_process_is_interrupted_when_read() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    // As a process that died, or could not store its run's end, leaves it: running in
    // the store, its lock free.
    let row = api
        .store()
        .create_run(&alignscope::store::NewRun {
            dataset,
            model: "loginmea".into(),
            request: serde_json::json!({}),
            device: "cpu".into(),
            seed: 1,
            code_version: "test".into(),
            epochs_planned: 1,
        })
        .await
        .unwrap();
    api.store().mark_started(row.id).await.unwrap();
    let read = api.get_run(row.id).await.unwrap();
    assert_eq!(read.status, RunStatus::Interrupted);
    assert!(read.error.unwrap().contains("runs resume"));
    let listed = api.list_runs().await.unwrap();
    assert_eq!(listed[0].status, RunStatus::Interrupted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_dataset_loses_its_runs_keeps_its_decisions_and_comes_back_on_import() {
    let root = tempfile::tempdir().unwrap();
    let (api, dataset) = open(root.path()).await;
    let run = train(&api, dataset, 1, 2).await;
    let run_dir = api.get_run(run).await.unwrap().run_dir;
    assert!(run_dir.is_dir());
    api.record_decision(decision(dataset, "l0", "r0", Verdict::Accept))
        .await
        .unwrap();
    let before = api
        .export_pairs(&ExportRequest::new(dataset, ExportFormat::Tsv))
        .await
        .unwrap();

    let removed = api.remove_dataset(dataset).await.unwrap();
    assert_eq!((removed.runs_removed, removed.decisions_kept), (1, 1));
    assert!(!run_dir.exists(), "the run folder is gone");
    assert!(api.get_run(run).await.is_err(), "the run is gone");
    assert!(api.list_datasets().await.unwrap().is_empty());
    assert!(api.dataset(dataset).await.unwrap().removed_at.is_some());
    // The decision history stays exportable; training is refused.
    let after = api
        .export_pairs(&ExportRequest::new(dataset, ExportFormat::Tsv))
        .await
        .unwrap();
    assert_eq!(after, before);
    let refused = api.start_run(request(dataset, 1, 1)).await.unwrap_err();
    assert!(
        refused.message.contains("was removed"),
        "{}",
        refused.message
    );
    assert!(api.remove_dataset(dataset).await.is_err(), "removed twice");

    // Importing the folder again restores it, decisions included.
    let again = api
        .import_dataset(ImportRequest {
            path: root.path().join("planted"),
            ..ImportRequest::default()
        })
        .await
        .unwrap();
    assert_eq!(again.dataset.id, dataset);
    assert!(again.dataset.removed_at.is_none());
    assert_eq!(api.list_datasets().await.unwrap().len(), 1);
    assert_eq!(api.standing_decisions(dataset).await.unwrap().len(), 1);
    train(&api, dataset, 1, 1).await;
}
