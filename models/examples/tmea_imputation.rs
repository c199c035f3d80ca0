//! What does a trained TMEA make of a missing image? For the right-graph entities whose
//! image the run's dataset lacks but a second copy of the dataset has (the demo with 40%
//! of the right images dropped against the demo with 10% dropped), it compares the token
//! the model used (the pseudo image with imputation, the stand-in's projection without)
//! with the projection of the real image, and ranks each such entity's counterpart among
//! the left graph's image tokens by that token alone, and by the whole joint embedding.
//!
//! `cargo run --release -p alignscope-models --example tmea_imputation -- <run folder> <dataset with the images> [best|latest]`
//!
//! With `TMEA_TOKENS_DIR` set, it also writes every token as `.npy` there (the raw tokens
//! of each modality, the real images' tokens, the presence mask) for analysis elsewhere.

use std::path::PathBuf;

use alignscope_datasets::npy::{NpyMatrix, write_npy_matrix};
use alignscope_models::ModelInputs;
use alignscope_models::inputs::ModalityKind;
use alignscope_models::ops::{l2_normalize, to_host};
use alignscope_models::run::{prepare, read_config, spec_of};
use alignscope_models::settings::model_part;
use alignscope_models::tmea::{self, TmeaConfig};
use alignscope_models::train::{CheckpointStore, load_model};
use alignscope_models::{AlignmentModel, registry};
use burn::backend::Flex;

type B = Flex;

/// Row-major `rows x cols` values.
struct Rows {
    cols: usize,
    values: Vec<f32>,
}

impl Rows {
    fn of(tensor: burn::tensor::Tensor<B, 2>) -> Self {
        let (_, cols, values) = to_host(tensor);
        Self { cols, values }
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }
}

fn dot(a: &[f32], b: &[f32]) -> f64 {
    a.iter().zip(b).map(|(x, y)| f64::from(x * y)).sum()
}

/// H@1, H@10 and MRR of ranking `target` among `candidates` by the dot product with
/// `query` (rows are unit vectors: cosine), over every (query, target) given.
fn retrieval(
    queries: &[(&[f32], usize)],
    candidates: &Rows,
    range: std::ops::Range<usize>,
) -> [f64; 3] {
    let (mut h1, mut h10, mut rr) = (0.0, 0.0, 0.0);
    for (query, target) in queries {
        let own = dot(query, candidates.row(*target));
        let rank = 1 + range
            .clone()
            .filter(|&c| c != *target && dot(query, candidates.row(c)) > own)
            .count();
        h1 += f64::from(u8::from(rank == 1));
        h10 += f64::from(u8::from(rank <= 10));
        rr += 1.0 / rank as f64;
    }
    let n = queries.len().max(1) as f64;
    [h1 / n, h10 / n, rr / n]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: tmea_imputation <run folder> <dataset with the images> [best|latest]");
        std::process::exit(2);
    }
    let run_dir = PathBuf::from(&args[1]);
    let config = read_config(&run_dir).expect("a run folder");
    assert_eq!(config.model, tmea::ID, "a TMEA run");
    let prepared = prepare(&spec_of(&config)).expect("the run's dataset");
    let mut with_images = spec_of(&config);
    with_images.dataset = PathBuf::from(&args[2]);
    let truth = prepare(&with_images).expect("the dataset with the images");
    let joint_count = prepared.task.right.end;
    assert!(
        truth.task.right.end == joint_count
            && (0..joint_count)
                .all(|j| prepared.pair.key_of_joint(j) == truth.pair.key_of_joint(j)),
        "both datasets hold the same entities in the same order"
    );
    let store = CheckpointStore::new(&run_dir);
    let model_path = match args.get(3).map(String::as_str) {
        Some("latest") => store
            .latest()
            .expect("checkpoints")
            .map(|d| d.join("model")),
        _ => store.best_model(),
    }
    .expect("a saved model");
    let tmea_config: TmeaConfig = model_part(tmea::ID, &config.settings).expect("TMEA settings");
    let seed = registry::find(tmea::ID)
        .and_then(|f| f.plan(&config.settings))
        .expect("a plan")
        .seed;
    let device = Default::default();
    let model = tmea_config.init::<B>(&prepared.shape, &prepared.graph, seed, &device);
    let model = load_model(&model_path, model, &device).expect("the saved model");

    let inputs = ModelInputs::<B>::upload(&prepared.graph, &prepared.inputs, &device);
    let true_inputs = ModelInputs::<B>::upload(&truth.graph, &truth.inputs, &device);
    let image = |views: Vec<tmea::TokenView<B>>| {
        views
            .into_iter()
            .find(|v| v.kind == ModalityKind::Image)
            .expect("the run has an image token")
    };
    let used = image(model.token_views(&inputs));
    let real = image(model.token_views(&true_inputs));
    if let Ok(dir) = std::env::var("TMEA_TOKENS_DIR") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("the tokens folder");
        let write = |name: String, tensor: burn::tensor::Tensor<B, 2>| {
            let (rows, cols, data) = to_host(tensor);
            let file = std::fs::File::create(dir.join(format!("{name}.npy"))).expect("a file");
            write_npy_matrix(file, &NpyMatrix { rows, cols, data }).expect("written");
        };
        for view in model.token_views(&inputs) {
            write(format!("raw-{}", view.kind.as_str()), view.raw);
        }
        write("real-image".into(), real.raw.clone());
        write("present-image".into(), used.present.clone());
        write("real-present-image".into(), real.present.clone());
    }
    let (filled, stand_in, present) = (
        Rows::of(used.filled),
        Rows::of(used.raw),
        Rows::of(used.present),
    );
    let (real_tokens, real_present) = (Rows::of(real.raw), Rows::of(real.present));
    let joint = Rows::of(l2_normalize(model.embed(&inputs)));

    let task = &prepared.task;
    let held_out: Vec<usize> = task
        .right
        .clone()
        .filter(|&e| present.values[e] < 0.5 && real_present.values[e] > 0.5)
        .collect();
    let missing_anyway = task
        .right
        .clone()
        .filter(|&e| present.values[e] < 0.5 && real_present.values[e] < 0.5)
        .count();
    let mean_cosine = |rows: &Rows| {
        held_out
            .iter()
            .map(|&e| dot(rows.row(e), real_tokens.row(e)))
            .sum::<f64>()
            / held_out.len().max(1) as f64
    };
    println!(
        "run {} ({}, {} model): imputation {}, stand-in {}",
        run_dir.display(),
        config.dataset.path.display(),
        args.get(3).map_or("best", String::as_str),
        tmea_config.imputation,
        tmea_config.stand_in.as_str()
    );
    println!(
        "{} right entities lack an image here that the second dataset has ({missing_anyway} lack it in both)",
        held_out.len()
    );
    println!(
        "mean cosine to the real image's token: used token {:.3}, stand-in's projection {:.3}",
        mean_cosine(&filled),
        mean_cosine(&stand_in)
    );
    let others: f64 = held_out
        .windows(2)
        .map(|w| dot(filled.row(w[0]), real_tokens.row(w[1])))
        .sum::<f64>()
        / held_out.len().saturating_sub(1).max(1) as f64;
    println!("mean cosine of the used token to another held-out entity's real token: {others:.3}");
    let consecutive = |rows: &Rows, entities: &[usize]| {
        entities
            .windows(2)
            .map(|w| dot(rows.row(w[0]), rows.row(w[1])))
            .sum::<f64>()
            / entities.len().saturating_sub(1).max(1) as f64
    };
    println!(
        "mean cosine between two held-out entities' tokens: used {:.3}, real {:.3} (near 1: one vector for all)",
        consecutive(&filled, &held_out),
        consecutive(&real_tokens, &held_out)
    );
    // The imputation's fit where it trains: entities with their image, whose pseudo image
    // the cross-reconstruction pulls towards the real one.
    let with_image: Vec<usize> = (0..joint_count)
        .filter(|&e| present.values[e] > 0.5)
        .collect();
    if let Some(pseudo) = model.pseudo_images(&inputs) {
        let pseudo = Rows::of(pseudo);
        let fit = with_image
            .iter()
            .map(|&e| dot(pseudo.row(e), filled.row(e)))
            .sum::<f64>()
            / with_image.len().max(1) as f64;
        println!(
            "entities with their image ({}): mean cosine of the pseudo image to the real one {fit:.3}, between two pseudo images {:.3}",
            with_image.len(),
            consecutive(&pseudo, &with_image)
        );
    }

    // Test pairs whose right entity is held out, and those whose right entity has its image.
    let pairs_missing: Vec<(usize, usize)> = task
        .test
        .iter()
        .map(|&(l, r)| (l as usize, r as usize))
        .filter(|(_, r)| held_out.contains(r))
        .collect();
    let pairs_with_image: Vec<(usize, usize)> = task
        .test
        .iter()
        .map(|&(l, r)| (l as usize, r as usize))
        .filter(|(_, r)| present.values[*r] > 0.5)
        .collect();
    let left = task.left.clone();
    let report = |label: &str, rows: &Rows, candidates: &Rows, pairs: &[(usize, usize)]| {
        let queries: Vec<(&[f32], usize)> = pairs.iter().map(|&(l, r)| (rows.row(r), l)).collect();
        let [h1, h10, mrr] = retrieval(&queries, candidates, left.clone());
        println!(
            "  {label:<44} {:>5} pairs  H@1 {h1:.3}  H@10 {h10:.3}  MRR {mrr:.3}",
            pairs.len()
        );
    };
    println!("right to left, cosine, among all left entities:");
    report(
        "image token used (held out)",
        &filled,
        &filled,
        &pairs_missing,
    );
    report(
        "stand-in's projection (held out)",
        &stand_in,
        &filled,
        &pairs_missing,
    );
    report(
        "real image's token (held out)",
        &real_tokens,
        &filled,
        &pairs_missing,
    );
    report("joint embedding (held out)", &joint, &joint, &pairs_missing);
    report(
        "joint embedding (image present)",
        &joint,
        &joint,
        &pairs_with_image,
    );
}
