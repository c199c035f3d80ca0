//! The offline stand-in for TMEA's LLM step: attribute keys that mean the same align by
//! their words' embeddings, and unrelated keys stay apart, with the threshold the
//! abstract representation uses. Needs `scripts/setup.sh` (the model).

use alignscope_datasets::abstracts::{KEY_SIMILARITY_THRESHOLD, align_keys};
use alignscope_datasets::model::Vocabulary;
use alignscope_datasets::statements::key_words;
use alignscope_text::{SentenceEncoder, locate_model};
use burn::backend::NdArray;

#[test]
fn keys_that_mean_the_same_align_and_the_rest_are_filtered() {
    let dir = match locate_model(&[]) {
        Ok(dir) => dir,
        Err(error) => {
            if std::env::var_os("ALIGNSCOPE_REQUIRE_SETUP").is_some() {
                panic!("{error}");
            }
            eprintln!("SKIPPED: {error}");
            return;
        }
    };
    let encoder = SentenceEncoder::<NdArray>::load(&dir, &Default::default()).expect("loads");
    let left = [
        "http://dbpedia.org/ontology/releaseDate",
        "http://dbpedia.org/ontology/runtime",
        "http://dbpedia.org/property/birthPlace",
        "http://dbpedia.org/ontology/populationTotal",
        "colour",
    ];
    let right = [
        "http://yago-knowledge.org/resource/debutDate",
        "http://yago-knowledge.org/resource/running_time",
        "http://yago-knowledge.org/resource/placeOfBirth",
        "http://yago-knowledge.org/resource/numberOfInhabitants",
        "http://yago-knowledge.org/resource/isbn",
        "colour",
    ];
    let mut vocabulary = Vocabulary::default();
    let left_ids: Vec<u32> = left.iter().map(|k| vocabulary.intern(k)).collect();
    let right_ids: Vec<u32> = right.iter().map(|k| vocabulary.intern(k)).collect();
    let words: Vec<String> = vocabulary.names().iter().map(|k| key_words(k)).collect();
    let texts: Vec<&str> = words.iter().map(String::as_str).collect();
    let vectors = encoder.embed(&texts, 8, &mut |_, _| {}).unwrap();
    let similarity = |a: u32, b: u32| -> f32 {
        let (a, b) = (&vectors[a as usize], &vectors[b as usize]);
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    };
    for &l in &left_ids {
        let row: Vec<String> = right_ids
            .iter()
            .map(|&r| format!("{:.2}", similarity(l, r)))
            .collect();
        println!("{:<16} {}", words[l as usize], row.join(" "));
    }
    let alignment = align_keys(
        &vocabulary,
        &left_ids,
        &right_ids,
        &similarity,
        KEY_SIMILARITY_THRESHOLD,
    );
    let pairs: Vec<(String, String)> = alignment
        .pairs
        .iter()
        .map(|p| (key_words(&p.left), key_words(&p.right)))
        .collect();
    println!("{pairs:?}");
    let has = |l: &str, r: &str| pairs.iter().any(|(a, b)| a == l && b == r);
    assert!(has("colour", "colour"), "{pairs:?}");
    assert!(has("release date", "debut date"), "{pairs:?}");
    assert!(has("birth place", "place of birth"), "{pairs:?}");
    assert!(has("runtime", "running time"), "{pairs:?}");
    assert!(
        has("population total", "number of inhabitants"),
        "{pairs:?}"
    );
    assert!(
        !pairs.iter().any(|(_, r)| r == "isbn"),
        "isbn has no counterpart: {pairs:?}"
    );
}
