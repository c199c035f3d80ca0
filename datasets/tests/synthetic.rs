//! The synthetic pair generator: deterministic, planted alignment, heavy-tailed degrees,
//! informative image-like features, and a round trip through AlignScope's format.

use alignscope_datasets::{
    Format, LoadOptions, SyntheticError, SyntheticOptions, fingerprint, load, synthetic_pair,
    write_alignscope,
};

fn small() -> SyntheticOptions {
    SyntheticOptions {
        entities: 3_000,
        ..SyntheticOptions::default()
    }
}

#[test]
fn the_same_seed_gives_the_same_pair_and_another_seed_another() {
    let (a, report) = synthetic_pair(&small()).unwrap();
    let (b, _) = synthetic_pair(&small()).unwrap();
    assert_eq!(fingerprint(&a).unwrap(), fingerprint(&b).unwrap());
    let (c, _) = synthetic_pair(&SyntheticOptions { seed: 8, ..small() }).unwrap();
    assert_ne!(fingerprint(&a).unwrap(), fingerprint(&c).unwrap());
    assert_eq!(report.entities, 3_000);
    assert_eq!(a.left.entities.len(), 3_000);
    assert_eq!(a.right.entities.len(), 3_000);
}

#[test]
fn the_planted_alignment_is_one_to_one_and_the_right_graph_keeps_most_mapped_facts() {
    let options = small();
    let (pair, report) = synthetic_pair(&options).unwrap();
    assert_eq!(pair.gold.len(), 2_700, "90% matched");
    assert_eq!(report.gold, 2_700);
    let mut lefts: Vec<u32> = pair.gold.iter().map(|g| g.left).collect();
    let mut rights: Vec<u32> = pair.gold.iter().map(|g| g.right).collect();
    lefts.dedup();
    rights.sort_unstable();
    rights.dedup();
    assert_eq!((lefts.len(), rights.len()), (2_700, 2_700), "one-to-one");
    // Left facts between matched entities, mapped through the gold pairs: about `keep`
    // of them are on the right (relation names differ, indices are offset).
    let right_of: std::collections::HashMap<u32, u32> =
        pair.gold.iter().map(|g| (g.left, g.right)).collect();
    let offset = options.relations as u32;
    let right: std::collections::HashSet<(u32, u32, u32)> = pair
        .right
        .triples
        .iter()
        .map(|t| (t.head, t.relation, t.tail))
        .collect();
    let mapped: Vec<(u32, u32, u32)> = pair
        .left
        .triples
        .iter()
        .filter_map(|t| {
            Some((
                *right_of.get(&t.head)?,
                t.relation + offset,
                *right_of.get(&t.tail)?,
            ))
        })
        .collect();
    let kept = mapped.iter().filter(|t| right.contains(t)).count() as f64 / mapped.len() as f64;
    assert!((0.75..0.86).contains(&kept), "kept share {kept}");
    assert!(pair.relations.name(0).starts_with("left:"));
    assert!(pair.relations.name(offset).starts_with("right:"));
}

#[test]
fn degrees_are_heavy_tailed_like_dbp15k() {
    let (_, report) = synthetic_pair(&small()).unwrap();
    assert!(
        report.median_degree >= 2 && report.median_degree <= 8,
        "{report:?}"
    );
    assert!(report.max_degree > 30 * report.median_degree, "{report:?}");
    assert_eq!(report.triples.0, 12_000);
}

#[test]
fn image_vectors_of_counterparts_are_closer_than_those_of_others() {
    let (pair, report) = synthetic_pair(&small()).unwrap();
    let (left, right) = (
        pair.left.image_features.as_ref().unwrap(),
        pair.right.image_features.as_ref().unwrap(),
    );
    assert_eq!((left.dim, right.dim), (64, 64));
    let share = report.images.0 as f64 / 3_000.0;
    assert!((0.65..0.75).contains(&share), "image share {share}");
    let distance =
        |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f32>();
    let (mut closer, mut compared) = (0, 0);
    let with_both: Vec<_> = pair
        .gold
        .iter()
        .filter(|g| left.vector(g.left).is_some() && right.vector(g.right).is_some())
        .collect();
    for (k, g) in with_both.iter().enumerate() {
        let other = with_both[(k + 1) % with_both.len()];
        let l = left.vector(g.left).unwrap();
        compared += 1;
        if distance(l, right.vector(g.right).unwrap())
            < distance(l, right.vector(other.right).unwrap())
        {
            closer += 1;
        }
    }
    assert!(
        closer as f64 > 0.95 * compared as f64,
        "{closer} of {compared}"
    );
}

#[test]
fn a_written_pair_reads_back_with_the_same_content() {
    let (pair, _) = synthetic_pair(&SyntheticOptions {
        entities: 500,
        ..SyntheticOptions::default()
    })
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("synthetic");
    write_alignscope(&pair, &dest).unwrap();
    let loaded = load(&dest, &LoadOptions::default()).unwrap();
    assert_eq!(loaded.format, Format::AlignScope);
    assert_eq!(
        fingerprint(&loaded.pair).unwrap(),
        fingerprint(&pair).unwrap()
    );
}

#[test]
fn options_out_of_range_are_refused_with_their_name() {
    let err = synthetic_pair(&SyntheticOptions {
        matched_share: 1.5,
        ..small()
    })
    .unwrap_err();
    assert!(matches!(
        err,
        SyntheticError::OutOfRange {
            what: "matched share",
            ..
        }
    ));
    assert!(
        err.to_string()
            .contains("matched share must be in (0, 1], got 1.5")
    );
    assert!(
        synthetic_pair(&SyntheticOptions {
            entities: 1,
            ..small()
        })
        .is_err()
    );
    assert!(
        synthetic_pair(&SyntheticOptions {
            degree_exponent: 2.0,
            ..small()
        })
        .is_err()
    );
}
