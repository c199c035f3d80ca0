//! The sentence encoder really reads: paraphrases land closer than unrelated sentences,
//! embeddings are unit vectors that do not depend on the batch, and the tokenizer
//! splits words into the model's WordPieces. Needs `scripts/setup.sh` (the model).

use alignscope_text::{SentenceEncoder, locate_model};
use burn::backend::NdArray;

fn encoder() -> Option<SentenceEncoder<NdArray>> {
    match locate_model(&[]) {
        Ok(dir) => Some(SentenceEncoder::load(&dir, &Default::default()).expect("the model loads")),
        Err(error) => {
            if std::env::var_os("ALIGNSCOPE_REQUIRE_SETUP").is_some() {
                panic!("{error}");
            }
            eprintln!("SKIPPED: {error}");
            None
        }
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[test]
fn paraphrases_are_closer_than_unrelated_sentences() {
    let Some(encoder) = encoder() else { return };
    let texts = [
        "birth date: 12 March 1946",
        "date of birth: 1946-03-12",
        "population: 405,657 inhabitants",
        "capacity: 80,018 seats",
        "A man is playing a guitar.",
        "Someone plays the guitar.",
        "The stock market fell sharply today.",
    ];
    let embeddings = encoder.embed(&texts, 3, &mut |_, _| {}).unwrap();
    for e in &embeddings {
        let norm: f32 = e.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "not a unit vector: {norm}");
    }
    let sim = |a: usize, b: usize| cosine(&embeddings[a], &embeddings[b]);
    assert!(
        sim(0, 1) > sim(0, 2) + 0.1,
        "{} vs {}",
        sim(0, 1),
        sim(0, 2)
    );
    assert!(
        sim(0, 1) > sim(0, 3) + 0.1,
        "{} vs {}",
        sim(0, 1),
        sim(0, 3)
    );
    assert!(sim(4, 5) > 0.6, "guitar paraphrase {}", sim(4, 5));
    assert!(
        sim(4, 5) > sim(4, 6) + 0.4,
        "{} vs {}",
        sim(4, 5),
        sim(4, 6)
    );

    // One at a time gives the same vectors as a padded batch.
    let alone = encoder.embed(&texts[6..], 1, &mut |_, _| {}).unwrap();
    let worst = alone[0]
        .iter()
        .zip(&embeddings[6])
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(worst < 1e-5, "batching changed the embedding by {worst}");
}

#[test]
fn the_tokenizer_gives_the_models_wordpieces() {
    let Some(encoder) = encoder() else { return };
    // [CLS] hello world [SEP] in the uncased BERT vocabulary.
    assert_eq!(
        encoder.tokens("Hello world").unwrap(),
        [101, 7592, 2088, 102]
    );
    let long = "word ".repeat(1000);
    assert_eq!(
        encoder.tokens(&long).unwrap().len(),
        alignscope_text::MAX_TOKENS
    );
}

/// The first 8 values of three embeddings as the reference computes them: Hugging Face
/// `transformers` 5.25.0 `AutoModel` + `AutoTokenizer` on the same model folder, torch
/// 2.15.0 on the CPU, mean pooling over the attention mask, L2 normalisation (the
/// script is `tests/torch_parity.rs`'s, run once on 2026-12-04).
#[test]
fn a_few_sentences_give_the_references_numbers() {
    let Some(encoder) = encoder() else { return };
    let expected: [(&str, [f32; 8]); 3] = [
        (
            "birth date: 1946-03-12",
            [
                -0.036974, -0.019825, -0.003727, 0.042582, -0.058441, 0.042645, -0.016244, 0.012617,
            ],
        ),
        (
            "A man is playing a guitar.",
            [
                0.021664, -0.004864, -0.009649, -0.063401, -0.167493, 0.004676, 0.0806, -0.024142,
            ],
        ),
        (
            "Hello world",
            [
                -0.034477, 0.031023, 0.006735, 0.026109, -0.039362, -0.160302, 0.066924, -0.006441,
            ],
        ),
    ];
    let texts: Vec<&str> = expected.iter().map(|(t, _)| *t).collect();
    let ours = encoder.embed(&texts, 3, &mut |_, _| {}).unwrap();
    for ((text, reference), got) in expected.iter().zip(&ours) {
        for (i, (a, b)) in got.iter().zip(reference).enumerate() {
            assert!(
                (a - b).abs() < 2e-4,
                "{text:?} value {i}: {a} against the reference's {b}"
            );
        }
    }
    assert_eq!(
        encoder.tokens("birth date: 1946-03-12").unwrap(),
        [101, 4182, 3058, 1024, 3918, 1011, 6021, 1011, 2260, 102]
    );
}
