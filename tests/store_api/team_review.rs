//! Review by several reviewers through the real API and a real SQLite file: identities
//! (names and ORCID iDs), second opinions that hide the first, Cohen's kappa against a
//! hand count, disputes, final adjudications, blind mode, and a history that keeps all.

use std::path::Path;

use alignscope::api::calibration::{CalibrationMethod, reliability};
use alignscope::api::dto::{ExportFormat, ExportRequest, ReviewScope, ReviewStrategy, SideDto};
use alignscope::api::review_queue::QueueView;
use alignscope::api::reviewers::ReviewSettingsUpdate;
use alignscope::store::{DecisionAction, Verdict};

use super::{decision, open, train};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reviewers_agree_disagree_and_an_adjudicator_settles_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 5, 2).await;
    let entities = api.store().entities(dataset).await.unwrap();
    let (left, right): (Vec<_>, Vec<_>) = entities.iter().partition(|e| e.side == 0);

    // The data directory's reviewer is an ORCID iD, normalised; a bad one is refused and
    // changes nothing.
    let settings = api
        .set_review_settings(ReviewSettingsUpdate {
            reviewer: Some("https://orcid.org/0000-0002-1825-0097".into()),
            ..ReviewSettingsUpdate::default()
        })
        .await
        .unwrap();
    assert_eq!(settings.reviewer, "orcid:0000-0002-1825-0097");
    assert!(settings.reviewer_set);
    let refused = api
        .set_review_settings(ReviewSettingsUpdate {
            reviewer: Some("0000-0002-1825-0098".into()),
            blind: Some(true),
            ..ReviewSettingsUpdate::default()
        })
        .await
        .unwrap_err();
    assert!(refused.message.contains("ORCID"), "{}", refused.message);
    let unchanged = api.review_settings().await.unwrap();
    assert_eq!(unchanged, settings, "a refused update writes nothing");

    let by = |i: usize, who: Option<&str>, verdict: Verdict| {
        let mut d = decision(dataset, &left[i].key, &right[i].key, verdict);
        d.author = who.map(str::to_string);
        d.run = Some(run);
        d
    };
    // Ann (the data directory's reviewer, named by nobody) and Bob decide pairs 0–9:
    // both accept 0–5; Ann accepts and Bob rejects 6–7; both reject 8; Ann is unsure of
    // 9, which Bob accepts. Ann alone decides pair 10.
    use Verdict::{Accept, Reject, Unsure};
    let ann_says = [
        Accept, Accept, Accept, Accept, Accept, Accept, Accept, Accept, Reject, Unsure, Accept,
    ];
    let bob_says = [
        Accept, Accept, Accept, Accept, Accept, Accept, Reject, Reject, Reject, Accept,
    ];
    for (i, &v) in ann_says.iter().enumerate() {
        let row = api.record_decision(by(i, None, v)).await.unwrap();
        assert_eq!(row.author, "orcid:0000-0002-1825-0097");
    }
    let ann = "orcid:0000-0002-1825-0097";

    // Bob's second-opinion queue holds every pair Ann decided, oldest first, and says
    // nothing of her verdicts.
    let queue = |scope, reviewer: &str| {
        let view = QueueView {
            scope,
            reviewer: Some(reviewer.to_string()),
            blind: false,
        };
        let api = api.clone();
        async move {
            api.review_queue(run, ReviewStrategy::LowestMargin, None, 100, view)
                .await
                .unwrap()
        }
    };
    let second = queue(ReviewScope::SecondOpinion, "bob").await;
    let keys: Vec<&str> = second.iter().map(|i| i.left.key.as_str()).collect();
    let expected: Vec<&str> = left[..11].iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, expected);
    assert!(second.iter().all(|i| i.reviews.is_empty()));
    for (i, &v) in bob_says.iter().enumerate() {
        api.record_decision(by(i, Some("bob"), v)).await.unwrap();
    }
    let second = queue(ReviewScope::SecondOpinion, "bob").await;
    assert_eq!(second.len(), 1, "only pair 10 is left for Bob");
    assert_eq!(second[0].left.key, left[10].key);

    // Kappa against the hand count. Rows Ann, columns Bob (accept, reject, unsure):
    // [[6, 2, 0], [0, 1, 0], [1, 0, 0]]; p_o = 7/10; p_e = 0.8·0.7 + 0.1·0.3 + 0.1·0
    // = 0.59; kappa = 0.11 / 0.41.
    let agreement = api.review_agreement(dataset).await.unwrap();
    assert_eq!(agreement.pairs.len(), 1);
    let p = &agreement.pairs[0];
    let (first, other) = (p.first.as_str(), p.second.as_str());
    assert_eq!((first, other), ("bob", ann), "reviewers in name order");
    // The table is Bob's rows against Ann's columns: the transpose of the hand count.
    assert_eq!(p.counts, vec![vec![6, 0, 1], vec![2, 1, 0], vec![0, 0, 0]]);
    assert_eq!((p.both, p.agreed), (10, 7));
    assert!(
        (p.kappa.unwrap() - 0.11 / 0.41).abs() < 1e-9,
        "{:?}",
        p.kappa
    );
    assert_eq!(agreement.disputed, 3);
    assert_eq!(agreement.adjudicated, 0);
    let tallies: Vec<(&str, usize)> = agreement
        .reviewers
        .iter()
        .map(|r| (r.reviewer.as_str(), r.decided))
        .collect();
    assert_eq!(tallies, vec![(ann, 11), ("bob", 10)]);

    // Disputed pairs stand for nothing until adjudicated, and form their own queue
    // with what each reviewer said.
    let standing = api.standing_decisions(dataset).await.unwrap();
    assert_eq!(standing.len(), 8, "11 pairs decided, 3 disputed");
    let disputes = queue(ReviewScope::Disagreements, "carol").await;
    let disputed: Vec<&str> = disputes.iter().map(|i| i.left.key.as_str()).collect();
    assert_eq!(
        disputed,
        vec![
            left[6].key.as_str(),
            left[7].key.as_str(),
            left[9].key.as_str()
        ]
    );
    let said: Vec<(&str, Verdict)> = disputes[2]
        .reviews
        .iter()
        .map(|r| (r.reviewer.as_str(), r.verdict))
        .collect();
    assert_eq!(said, vec![("bob", Accept), (ann, Unsure)]);

    // An adjudication is taken only where reviewers disagree; it is final.
    let mut settle = by(0, Some("carol"), Reject);
    settle.adjudication = Some(true);
    let agreed = api.record_decision(settle).await.unwrap_err();
    assert!(agreed.message.contains("agree"), "{}", agreed.message);
    let mut settle = by(10, Some("carol"), Reject);
    settle.adjudication = Some(true);
    let alone = api.record_decision(settle).await.unwrap_err();
    assert!(alone.message.contains("1 reviewer"), "{}", alone.message);
    let mut settle = by(6, Some("carol"), Accept);
    settle.adjudication = Some(true);
    let adjudication = api.record_decision(settle).await.unwrap();
    assert!(adjudication.adjudication);
    let late = api
        .record_decision(by(6, Some("bob"), Accept))
        .await
        .unwrap_err();
    assert!(late.message.contains("final"), "{}", late.message);
    let standing = api.standing_decisions(dataset).await.unwrap();
    let six = standing
        .iter()
        .find(|d| d.left_key == left[6].key)
        .expect("the adjudicated pair stands");
    assert_eq!((six.author.as_str(), six.verdict), ("carol", Accept));
    let agreement = api.review_agreement(dataset).await.unwrap();
    assert_eq!((agreement.disputed, agreement.adjudicated), (2, 1));
    assert_eq!(
        agreement.pairs[0].kappa, p.kappa,
        "an adjudication is not a review"
    );

    // Carol's undo takes the adjudication back: the pair is disputed again.
    let undo = api
        .undo_decision(dataset, Some("carol".into()), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(undo.undoes, Some(adjudication.id));
    let agreement = api.review_agreement(dataset).await.unwrap();
    assert_eq!((agreement.disputed, agreement.adjudicated), (3, 0));

    // Nothing was overwritten: 11 + 10 decisions, one adjudication, one undo.
    let history = api.decision_history(dataset).await.unwrap();
    assert_eq!(history.len(), 23);
    assert_eq!(
        history
            .iter()
            .filter(|r| r.action == DecisionAction::Undo)
            .count(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blind_mode_hides_the_model_and_the_estimate_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 6, 2).await;
    let view = |blind| QueueView {
        blind,
        ..QueueView::default()
    };
    let sighted = api
        .review_queue(run, ReviewStrategy::Random, None, 6, view(false))
        .await
        .unwrap();
    let blind = api
        .review_queue(run, ReviewStrategy::Random, None, 6, view(true))
        .await
        .unwrap();
    assert_eq!(
        blind.iter().map(|i| &i.left.key).collect::<Vec<_>>(),
        sighted.iter().map(|i| &i.left.key).collect::<Vec<_>>(),
        "the same pairs in the same order"
    );
    assert!(
        sighted
            .iter()
            .all(|i| i.score.is_some() && i.rank == Some(1))
    );
    for item in &blind {
        assert_eq!((item.score, item.rank, item.margin), (None, None, None));
        assert!(!item.reason.contains("margin") && !item.reason.contains("score"));
    }
    // Three random-order decisions in blind mode, two with the score in view.
    for (i, item) in sighted.iter().take(5).enumerate() {
        let mut d = decision(dataset, &item.left.key, &item.right.key, Verdict::Accept);
        d.run = Some(run);
        d.strategy = Some(ReviewStrategy::Random);
        d.blind = Some(i < 3);
        api.record_decision(d).await.unwrap();
    }
    let progress = api.review_progress(run).await.unwrap();
    let sample = &progress.random_sample;
    assert_eq!((sample.accepted, sample.blind, sample.sighted), (5, 3, 2));
    // Blind mode is a setting of the data directory, off by default.
    assert!(!api.review_settings().await.unwrap().blind);
    let on = api
        .set_review_settings(ReviewSettingsUpdate {
            blind: Some(true),
            ..ReviewSettingsUpdate::default()
        })
        .await
        .unwrap();
    assert!(on.blind);
    assert!(api.review_settings().await.unwrap().blind);
}

/// The Python with sssom-py (`bash scripts/setup.sh --sssom`), if there is one.
fn sssom_python() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("ALIGNSCOPE_SSSOM_PYTHON")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv-sssom/bin/python"));
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("ALIGNSCOPE_REQUIRE_SETUP").is_none(),
        "{} is missing: run `bash scripts/setup.sh --sssom`",
        path.display()
    );
    eprintln!(
        "SKIPPED the sssom-py validation: {} is missing",
        path.display()
    );
    None
}

/// Rows of an SSSOM text as maps from column to value.
fn sssom_rows(text: &str) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let columns: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), columns.len(), "{line}");
            columns
                .iter()
                .zip(fields)
                .map(|(c, f)| (c.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_carry_reviewers_dates_and_negatives_and_the_history_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let entities = api.store().entities(dataset).await.unwrap();
    let (left, right): (Vec<_>, Vec<_>) = entities.iter().partition(|e| e.side == 0);
    let ann = "0000-0002-1825-0097";
    let say = |i: usize, who: &str, verdict: Verdict, adjudication: bool| {
        let mut d = decision(dataset, &left[i].key, &right[i].key, verdict);
        d.author = Some(who.to_string());
        d.adjudication = Some(adjudication);
        d
    };
    use Verdict::{Accept, Reject};
    // Pair 0: Ann (an ORCID iD) and Bob accept. Pair 1: both reject. Pair 2: they
    // disagree. Pair 3: they disagree and Carol adjudicates: reject. Pair 4: Bob accepts,
    // then takes it back.
    for request in [
        say(0, ann, Accept, false),
        say(0, "Bob", Accept, false),
        say(1, ann, Reject, false),
        say(1, "Bob", Reject, false),
        say(2, ann, Accept, false),
        say(2, "Bob", Reject, false),
        say(3, ann, Accept, false),
        say(3, "Bob", Reject, false),
        say(3, "Carol", Reject, true),
        say(4, "Bob", Accept, false),
    ] {
        api.record_decision(request).await.unwrap();
    }
    api.undo_decision(dataset, Some("Bob".into()), None)
        .await
        .unwrap()
        .unwrap();

    // By default: the accepted pairs only, with who and when.
    let plain = api
        .export_pairs(&ExportRequest::new(dataset, ExportFormat::Sssom))
        .await
        .unwrap();
    let rows = sssom_rows(&plain);
    assert_eq!(rows.len(), 1, "{plain}");
    let row = &rows[0];
    assert_eq!(row["author_id"], "orcid:0000-0002-1825-0097");
    assert_eq!(row["author_label"], "Bob");
    assert_eq!(row["mapping_tool"], "AlignScope");
    assert!(row["other"].starts_with("decision="), "{}", row["other"]);
    assert!(
        row["comment"].contains("2 reviewers agree"),
        "{}",
        row["comment"]
    );
    let date = &row["mapping_date"];
    assert!(date.len() == 10 && date.starts_with("20"), "{date}");
    assert!(plain.contains("#   orcid: \"https://orcid.org/\""));

    // With negatives: the agreed and the adjudicated rejections, as `Not`.
    let with_negatives = ExportRequest {
        negatives: true,
        ..ExportRequest::new(dataset, ExportFormat::Sssom)
    };
    let negatives = api.export_pairs(&with_negatives).await.unwrap();
    let rows = sssom_rows(&negatives);
    let mut summary: Vec<(&str, &str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["subject_label"].as_str(),
                r["predicate_modifier"].as_str(),
                r["author_id"].as_str(),
                r["author_label"].as_str(),
            )
        })
        .collect();
    summary.sort();
    let mut expected = vec![
        (
            left[0].label.as_str(),
            "",
            "orcid:0000-0002-1825-0097",
            "Bob",
        ),
        (
            left[1].label.as_str(),
            "Not",
            "orcid:0000-0002-1825-0097",
            "Bob",
        ),
        (left[3].label.as_str(), "Not", "", "Carol"),
    ];
    expected.sort();
    assert_eq!(summary, expected);
    assert!(
        rows.iter()
            .any(|r| r["comment"].contains("adjudicated by Carol"))
    );

    // Without provenance: nobody is named.
    let anonymous = api
        .export_pairs(&ExportRequest {
            provenance: false,
            ..with_negatives.clone()
        })
        .await
        .unwrap();
    assert_eq!(sssom_rows(&anonymous).len(), 3);
    for name in ["orcid", "Bob", "Carol", "author_"] {
        assert!(!anonymous.contains(name), "{name} in:\n{anonymous}");
    }

    // N-Triples: rejections as owl:differentFrom.
    let nt = api
        .export_pairs(&ExportRequest {
            format: ExportFormat::Nt,
            ..with_negatives.clone()
        })
        .await
        .unwrap();
    assert_eq!(nt.matches("owl#sameAs").count(), 1);
    assert_eq!(nt.matches("owl#differentFrom").count(), 2);

    // The history: every row with who, when, and what it undid.
    let history = api
        .export_pairs(&ExportRequest::new(dataset, ExportFormat::History))
        .await
        .unwrap();
    let lines: Vec<Vec<&str>> = history.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(lines.len(), 1 + 11, "a header and 11 rows");
    let column = |name: &str| lines[0].iter().position(|c| *c == name).unwrap();
    let undo = lines.last().unwrap();
    assert_eq!(undo[column("action")], "undo");
    assert_eq!(undo[column("undoes")], lines[10][column("id")]);
    assert_eq!(undo[column("reviewer")], "Bob");
    assert!(undo[column("time")].ends_with('Z'));
    assert_eq!(lines[9][column("adjudication")], "yes");
    assert_eq!(lines[9][column("reviewer")], "Carol");
    assert_eq!(lines[1][column("reviewer")], "orcid:0000-0002-1825-0097");

    // The reference tooling reads every mapping of each SSSOM export.
    if let Some(python) = sssom_python() {
        let dir = tmp.path().join("exports");
        std::fs::create_dir_all(&dir).unwrap();
        let mut args = vec![
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/tools/sssom_validate.py")
                .display()
                .to_string(),
        ];
        for (name, text, rows) in [
            ("plain", &plain, 1),
            ("negatives", &negatives, 3),
            ("anonymous", &anonymous, 3),
        ] {
            let path = dir.join(format!("{name}.sssom.tsv"));
            std::fs::write(&path, text).unwrap();
            args.extend([path.display().to_string(), rows.to_string()]);
        }
        let out = std::process::Command::new(&python)
            .args(&args)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "sssom-py refused an export:\n{said}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(said.matches("valid SSSOM").count(), 3, "{said}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_pairs_that_break_one_to_one_or_the_neighbours_form_the_conflicts_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 8, 2).await;
    // The same generated pair the dataset was imported from: its graphs and gold pairs.
    let pair = alignscope_models::synthetic::planted_pair(120, 8, 4, 0.1, 3);
    let around = |graph: &alignscope_datasets::model::KnowledgeGraph, e: u32| {
        let mut near: Vec<u32> = graph
            .triples
            .iter()
            .filter_map(|t| match (t.head == e, t.tail == e) {
                (true, false) => Some(t.tail),
                (false, true) => Some(t.head),
                _ => None,
            })
            .collect();
        near.sort_unstable();
        near.dedup();
        near
    };
    let partner: std::collections::HashMap<u32, u32> =
        pair.gold.iter().map(|g| (g.left, g.right)).collect();
    // A left entity with three neighbours whose counterparts neighbour its counterpart.
    let (a, supporters) = (0..pair.left.entities.len() as u32)
        .find_map(|a| {
            let b = *partner.get(&a)?;
            let near_b = around(&pair.right, b);
            let supporters: Vec<u32> = around(&pair.left, a)
                .into_iter()
                .filter(|n| partner.get(n).is_some_and(|p| near_b.contains(p)))
                .take(3)
                .collect();
            (supporters.len() == 3).then_some((a, supporters))
        })
        .expect("the planted graph has a well-connected entity");
    let b = partner[&a];
    // A wrong partner for `a`: near none of the supporters' counterparts.
    let counterparts: Vec<u32> = supporters.iter().map(|n| partner[n]).collect();
    let wrong = (0..pair.right.entities.len() as u32)
        .find(|&r| {
            r != b && {
                let near = around(&pair.right, r);
                counterparts.iter().all(|c| !near.contains(c) && *c != r)
            }
        })
        .unwrap();
    let key = |side: &alignscope_datasets::model::KnowledgeGraph, e: u32| {
        side.entities[e as usize].key.clone()
    };
    let accept = |l: u32, r: u32| {
        let mut d = decision(
            dataset,
            &key(&pair.left, l),
            &key(&pair.right, r),
            Verdict::Accept,
        );
        d.run = Some(run);
        d
    };
    for &n in &supporters {
        api.record_decision(accept(n, partner[&n])).await.unwrap();
    }
    let conflicts_now = || {
        let api = api.clone();
        let view = QueueView {
            scope: ReviewScope::Conflicts,
            ..QueueView::default()
        };
        async move {
            api.review_queue(run, ReviewStrategy::LowestMargin, None, 100, view)
                .await
                .unwrap()
        }
    };
    let calm = conflicts_now().await;
    assert!(
        calm.is_empty(),
        "true pairs alone clash with nothing: {calm:?}"
    );
    api.record_decision(accept(a, b)).await.unwrap();
    api.record_decision(accept(a, wrong)).await.unwrap();
    let queue = conflicts_now().await;
    let found: std::collections::BTreeMap<(String, String), &str> = queue
        .iter()
        .map(|i| ((i.left.key.clone(), i.right.key.clone()), i.reason.as_str()))
        .collect();
    let (a_key, b_key, wrong_key) = (
        key(&pair.left, a),
        key(&pair.right, b),
        key(&pair.right, wrong),
    );
    assert_eq!(found.len(), 2, "{found:?}");
    let true_pair = found[&(a_key.clone(), b_key.clone())];
    assert!(true_pair.starts_with("one-to-one"), "{true_pair}");
    assert!(!true_pair.contains("structure"), "{true_pair}");
    let wrong_pair = found[&(a_key.clone(), wrong_key.clone())];
    assert!(wrong_pair.contains("one-to-one"), "{wrong_pair}");
    assert!(
        wrong_pair.contains("structure: 3 neighbours"),
        "{wrong_pair}"
    );
    let item = queue.iter().find(|i| i.right.key == wrong_key).unwrap();
    assert!(item.related.contains(&(a_key.clone(), b_key.clone())));
    assert_eq!(item.reviews.len(), 1, "who accepted it");

    // Rejecting the wrong partner resolves both conflicts.
    let mut reject = accept(a, wrong);
    reject.verdict = Verdict::Reject;
    api.record_decision(reject).await.unwrap();
    let after = conflicts_now().await;
    assert!(after.is_empty(), "{after:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calibrated_confidence_is_reliable_and_accepting_above_it_is_one_undoable_step() {
    let tmp = tempfile::tempdir().unwrap();
    let (api, dataset) = open(tmp.path()).await;
    let run = train(&api, dataset, 9, 6).await;
    // Too few reviewed pairs is a state, not an error: it says what to do.
    let too_few = api
        .calibration(run, CalibrationMethod::Isotonic)
        .await
        .unwrap();
    let missing = too_few.missing.expect("nothing fitted yet");
    assert!(missing.contains("at least 10"), "{missing}");
    assert!(too_few.reliability.is_empty());
    let refused = api
        .accept_preview(run, CalibrationMethod::Isotonic, 0.5)
        .await
        .unwrap_err();
    assert!(
        refused.message.contains("at least 10"),
        "{}",
        refused.message
    );

    // A reviewer checks 40 pairs of the random order against the truth.
    let queue = api
        .review_queue(run, ReviewStrategy::Random, None, 40, QueueView::default())
        .await
        .unwrap();
    for item in &queue {
        let candidates = api
            .candidates(run, SideDto::Left, &item.left.key)
            .await
            .unwrap();
        let right = candidates.candidates[0].is_true;
        assert_eq!(candidates.candidates[0].entity.key, item.right.key);
        let verdict = if right {
            Verdict::Accept
        } else {
            Verdict::Reject
        };
        let mut d = decision(dataset, &item.left.key, &item.right.key, verdict);
        d.run = Some(run);
        d.strategy = Some(ReviewStrategy::Random);
        api.record_decision(d).await.unwrap();
    }

    // Fitted on those, the probabilities are reliable on the other test predictions:
    // each bin of at least 5 predictions has its mean probability in the 95% interval of
    // its observed accuracy (smaller bins are too noisy to say either way).
    for method in [CalibrationMethod::Isotonic, CalibrationMethod::Platt] {
        let c = api.calibration(run, method).await.unwrap();
        assert_eq!(c.missing, None);
        eprintln!(
            "{method:?}: ECE {:.3} over {} held-out predictions; bins (predicted, observed, n): {:?}",
            c.ece,
            c.evaluated,
            c.reliability
                .iter()
                .map(|b| (
                    format!("{:.2}", b.predicted),
                    format!("{:.2}", b.observed),
                    b.count
                ))
                .collect::<Vec<_>>()
        );
        assert_eq!(c.accepted + c.rejected, 40);
        assert!(c.accepted > 0 && c.rejected > 0, "{c:?}");
        assert_eq!(
            c.reliability.iter().map(|b| b.count).sum::<usize>(),
            c.evaluated
        );
        for bin in c.reliability.iter().filter(|b| b.count >= 5) {
            assert!(
                bin.low <= bin.predicted && bin.predicted <= bin.high,
                "{method:?}: {bin:?}"
            );
        }
        assert!(c.ece < 0.2, "{method:?}: ECE {}", c.ece);
        assert!(
            c.curve.windows(2).all(|w| w[0].1 <= w[1].1 + 1e-12),
            "a higher score is never less likely right"
        );
    }
    // The raw scores, read as probabilities, are not: the check can fail.
    let raw: Vec<(f64, bool)> = {
        let mut raw = Vec::new();
        for item in api
            .review_queue(
                run,
                ReviewStrategy::Random,
                None,
                1000,
                QueueView::default(),
            )
            .await
            .unwrap()
        {
            let c = api
                .candidates(run, SideDto::Left, &item.left.key)
                .await
                .unwrap();
            raw.push((
                c.candidates[0].score.clamp(0.0, 1.0),
                c.candidates[0].is_true,
            ));
        }
        raw
    };
    let (bins, _) = reliability(&raw);
    assert!(
        bins.iter()
            .filter(|b| b.count >= 5)
            .any(|b| b.predicted < b.low || b.predicted > b.high),
        "raw scores are not probabilities: {bins:?}"
    );

    // Accepting above p: the preview records nothing; the step is undone by one undo.
    let before = api.decision_history(dataset).await.unwrap().len();
    let preview = api
        .accept_preview(run, CalibrationMethod::Isotonic, 0.5)
        .await
        .unwrap();
    assert!(preview.pairs > 0, "{preview:?}");
    assert!(preview.expected_wrong <= preview.pairs as f64 * 0.5 + 1e-9);
    assert_eq!(api.decision_history(dataset).await.unwrap().len(), before);
    let done = api
        .accept_above(run, CalibrationMethod::Isotonic, 0.5, None)
        .await
        .unwrap();
    assert_eq!(done.pairs, preview.pairs);
    assert!(done.batch.is_some());
    let history = api.decision_history(dataset).await.unwrap();
    assert_eq!(history.len(), before + done.pairs);
    assert!(
        history[before..]
            .iter()
            .all(|r| r.source == alignscope::store::DecisionSource::Model && r.batch == done.batch)
    );
    let standing_with = api.standing_decisions(dataset).await.unwrap().len();
    api.undo_decision(dataset, None, None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        api.standing_decisions(dataset).await.unwrap().len(),
        standing_with - done.pairs,
        "one undo takes the whole step back"
    );
    assert_eq!(
        api.decision_history(dataset).await.unwrap().len(),
        before + 2 * done.pairs
    );
}
