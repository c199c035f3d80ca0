//! Entity search: the trigram index and the short-needle scan agree with a substring
//! match, and the index follows inserts, removals and upgrades.

use super::datasets::{MATCHES_RANKED, NewDataset, NewEntity};
use super::{DatasetId, Store};

fn entity(entity: i64, side: i64, key: &str, name: &str, label: &str) -> NewEntity {
    NewEntity {
        entity,
        side,
        key: key.into(),
        name: name.into(),
        label: label.into(),
    }
}

async fn dataset(store: &Store, tag: &str, entities: &[NewEntity]) -> DatasetId {
    store
        .insert_dataset(
            &NewDataset {
                name: tag.into(),
                source_path: format!("/data/{tag}"),
                format: "alignscope".into(),
                image_features: None,
                fingerprint: tag.into(),
                statistics: serde_json::json!({}),
            },
            entities,
        )
        .await
        .unwrap()
}

/// Keys of the entities a search returns, in its order.
async fn keys(store: &Store, dataset: DatasetId, needle: &str, side: Option<i64>) -> Vec<String> {
    store
        .search_entities(dataset, needle, side, 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.key)
        .collect()
}

fn cities() -> Vec<NewEntity> {
    vec![
        entity(0, 0, "L0", "http://en.dbpedia.org/resource/Paris", "Paris"),
        entity(
            1,
            0,
            "L1",
            "http://en.dbpedia.org/resource/Paris_Hilton",
            "Paris Hilton",
        ),
        entity(
            2,
            0,
            "L2",
            "http://en.dbpedia.org/resource/Comparison",
            "Comparison",
        ),
        entity(3, 0, "L3", "100%_juice", "100% juice"),
        entity(4, 1, "R0", "http://fr.dbpedia.org/resource/Paris", "paris"),
        entity(5, 1, "R1", "北京市", "北京市"),
        entity(6, 1, "R2", "say \"hi\"", "say \"hi\""),
    ]
}

#[tokio::test]
async fn searches_match_substrings_case_blind_with_exact_labels_first() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let a = dataset(&store, "a", &cities()).await;
    // Another dataset with the same text never shows up in the first one's results.
    let b = dataset(&store, "b", &cities()).await;

    // Indexed (3+ characters): exact labels first, then shorter labels, any case.
    assert_eq!(
        keys(&store, a, "Paris", None).await,
        ["L0", "R0", "L2", "L1"]
    );
    assert_eq!(
        keys(&store, a, "PARI", None).await,
        ["L0", "R0", "L2", "L1"]
    );
    assert_eq!(keys(&store, a, "Paris", Some(1)).await, ["R0"]);
    assert_eq!(keys(&store, b, "hilton", None).await, ["L1"]);
    // Key and name match too; characters the query syntaxes treat specially are literal.
    assert_eq!(keys(&store, a, "R1", None).await, ["R1"]);
    assert_eq!(keys(&store, a, "fr.dbpedia", None).await, ["R0"]);
    assert_eq!(keys(&store, a, "0% j", None).await, ["L3"]);
    assert_eq!(keys(&store, a, "\"hi\"", None).await, ["R2"]);
    assert_eq!(keys(&store, a, "北京市", None).await, ["R1"]);
    assert!(keys(&store, a, "Parisx", None).await.is_empty());
    assert!(keys(&store, a, "AND OR NOT", None).await.is_empty());

    // Short needles scan: the same rules.
    assert_eq!(keys(&store, a, "北京", None).await, ["R1"]);
    assert_eq!(keys(&store, a, "%", None).await, ["L3"]);
    assert_eq!(keys(&store, a, "_", None).await, ["L3", "L1"]);
    assert_eq!(keys(&store, a, "Pa", Some(0)).await, ["L0", "L2", "L1"]);
    assert!(keys(&store, a, "zq", None).await.is_empty());
}

#[tokio::test]
async fn the_index_follows_removals_and_restores() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    let a = dataset(&store, "a", &cities()).await;
    store.mark_dataset_removed(a, false).await.unwrap();
    assert!(keys(&store, a, "Paris", None).await.is_empty());
    store.restore_dataset(a, &cities()).await.unwrap();
    assert_eq!(
        keys(&store, a, "Paris", None).await,
        ["L0", "R0", "L2", "L1"]
    );
    // A dataset row deleted outright takes its index entries along (the cascade fires
    // the trigger).
    sqlx::query("DELETE FROM datasets WHERE id = ?")
        .bind(a)
        .execute(store.pool())
        .await
        .unwrap();
    let (left,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM entity_search WHERE entity_search MATCH 'Paris'")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn huge_match_sets_rank_a_bounded_sample_and_every_exact_label() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.db")).await.unwrap();
    // More substring matches than a search ranks, all before the exact labels in entity
    // order: "abc" + 1 to 10 x's, then 500 labels "abc" and 500 labels "ab".
    let cap = MATCHES_RANKED;
    let entities: Vec<NewEntity> = (0..cap + 1000)
        .map(|i| {
            let label = match i {
                i if i < cap => format!("abc{}", "x".repeat(1 + i as usize % 10)),
                i if i < cap + 500 => "abc".to_string(),
                _ => "ab".to_string(),
            };
            entity(i, 0, &format!("k{i}"), &label, &label)
        })
        .collect();
    let a = dataset(&store, "big", &entities).await;
    let labels = |found: Vec<super::datasets::EntityRow>| -> Vec<String> {
        found.into_iter().map(|e| e.label).collect()
    };
    for (needle, exact) in [("ab", "ab"), ("abc", "abc")] {
        // Exact labels always come first, though no scan or index walk reaches them...
        let top = labels(store.search_entities(a, needle, None, 505).await.unwrap());
        assert!(
            top[..500].iter().all(|l| l == exact),
            "{needle}: {:?}",
            &top[..3]
        );
        // ...then the shortest of the ranked substring matches.
        assert_eq!(top[500..], vec!["abcx".to_string(); 5], "{needle}");
    }
    // Where fewer than the cap match, every match is ranked.
    let all = store
        .search_entities(a, "abcxx", None, 10_000)
        .await
        .unwrap();
    assert_eq!(all.len() as i64, cap / 10 * 9);
}

#[tokio::test]
async fn upgrading_a_version_6_database_indexes_its_entities() {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let options = SqliteConnectOptions::from_str("sqlite:")
        .unwrap()
        .filename(&path)
        .create_if_missing(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    super::migrator(6).run(&pool).await.unwrap();
    for sql in [
        "INSERT INTO datasets (id, name, source_path, format, fingerprint, statistics, created_at)
         VALUES (3, 'd', '/d', 'alignscope', 'f', '{}', 0)",
        "INSERT INTO entities (dataset_id, entity, side, key, name, label) VALUES
         (3, 0, 0, 'L0', 'Paris', 'Paris'), (3, 1, 1, 'R0', 'Parigi', 'Parigi')",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let store = Store::open(&path).await.unwrap();
    assert_eq!(keys(&store, DatasetId(3), "Pari", None).await, ["L0", "R0"]);
    assert_eq!(keys(&store, DatasetId(3), "igi", None).await, ["R0"]);
}
