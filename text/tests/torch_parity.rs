//! The Burn port computes what the reference computes: sentence-transformers'
//! all-MiniLM-L6-v2 pipeline (Hugging Face `transformers` BertModel and tokenizer from
//! the same model folder, mean pooling over the attention mask, L2 normalisation) on the
//! same sentences, to 1e-3 relative.
//!
//! Runs where `ALIGNSCOPE_TORCH_PYTHON` names a Python with `torch` and `transformers`
//! installed (PyTorch is too large for CI); skips otherwise.

use std::process::Command;

use alignscope_text::{SentenceEncoder, locate_model};
use burn::backend::NdArray;

const REFERENCE: &str = r#"
import json, sys
import torch
from transformers import AutoModel, AutoTokenizer
model_dir, sentences = sys.argv[1], json.loads(sys.argv[2])
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModel.from_pretrained(model_dir).eval()
batch = tokenizer(sentences, padding=True, truncation=True, max_length=256, return_tensors="pt")
with torch.no_grad():
    hidden = model(**batch).last_hidden_state
mask = batch["attention_mask"].unsqueeze(-1).float()
mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
out = torch.nn.functional.normalize(mean, p=2, dim=1)
ids = [[int(t) for t, m in zip(row, keep) if m] for row, keep in zip(batch["input_ids"], batch["attention_mask"])]
print(json.dumps({"embeddings": out.tolist(), "ids": ids, "torch": torch.__version__}))
"#;

#[test]
fn embeddings_and_tokens_match_the_pytorch_reference() {
    let Some(python) = std::env::var_os("ALIGNSCOPE_TORCH_PYTHON") else {
        eprintln!("SKIPPED: set ALIGNSCOPE_TORCH_PYTHON to a Python with torch and transformers");
        return;
    };
    let dir = locate_model(&[]).expect("the model (run scripts/setup.sh)");
    let sentences = [
        "birth date: 1946-03-12",
        "populationTotal: 405657",
        "name: Szczecin",
        "A man is playing a guitar.",
        "Ünïcödé, emoji 🐱 and CJK 北京 in one attribute value",
        "",
    ];
    let output = Command::new(python)
        .args([
            "-c",
            REFERENCE,
            dir.to_str().unwrap(),
            &serde_json::to_string(&sentences).unwrap(),
        ])
        .output()
        .expect("the reference Python runs");
    assert!(
        output.status.success(),
        "reference failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let encoder = SentenceEncoder::<NdArray>::load(&dir, &Default::default()).unwrap();
    let ours = encoder.embed(&sentences, 4, &mut |_, _| {}).unwrap();
    for (i, sentence) in sentences.iter().enumerate() {
        let ids: Vec<u32> = serde_json::from_value(reference["ids"][i].clone()).unwrap();
        assert_eq!(
            encoder.tokens(sentence).unwrap(),
            ids,
            "tokens of {sentence:?}"
        );
        let expected: Vec<f32> =
            serde_json::from_value(reference["embeddings"][i].clone()).unwrap();
        let scale = expected.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = ours[i]
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs() / scale)
            .fold(0.0f32, f32::max);
        println!(
            "{sentence:?}: worst difference {worst:.2e} of the largest value (torch {})",
            reference["torch"]
        );
        assert!(worst < 1e-3, "{sentence:?} differs by {worst}");
    }
}
