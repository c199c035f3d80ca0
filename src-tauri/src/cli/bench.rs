//! `alignscope bench`: trains several models on the same splits of one dataset, several
//! seeds each, through the store, and prints a paper-style table (mean ± standard
//! deviation over seeds of H@1, H@10 and MRR, seconds per epoch and peak memory),
//! written as Markdown and CSV too.

use std::io::Write;
use std::path::PathBuf;

use alignscope_models::registry;
use alignscope_models::schema::{SettingError, Settings};
use clap::Args;
use serde::Serialize;
use serde_json::json;

use super::train::follow_to_end;
use super::{CliError, SourceArgs};
use crate::api::Api;
use crate::api::dto::{RunDto, StartRunRequest};
use crate::device::DeviceArg;
use crate::store::DatasetId;

/// `alignscope bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The dataset folder.
    #[arg(long)]
    pub dataset: PathBuf,
    /// How to read it.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Models to compare, comma-separated (`alignscope models list`); `all` for every
    /// registered model.
    #[arg(long, value_delimiter = ',', required = true)]
    pub models: Vec<String>,
    /// Seeds per model: runs use seeds `--seed`, `--seed + 1`, …; every model sees the
    /// same splits.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub seeds: u32,
    /// The first seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Settings: `model.key=value` for one model, `key=value` for every model
    /// (repeatable).
    #[arg(long = "set", value_name = "[MODEL.]KEY=VALUE")]
    pub set: Vec<String>,
    /// Also run the models' registry ablations whose label contains one of these texts
    /// (comma-separated; `all`: every ablation; a text equal to a whole label picks that
    /// ablation alone), on the same splits, each a row of its own (`alignscope models
    /// show <model>` lists them).
    #[arg(long, value_delimiter = ',', value_name = "LABEL TEXT")]
    pub ablations: Vec<String>,
    /// Share of gold pairs used as training seeds.
    #[arg(long, default_value_t = 0.3)]
    pub ratio: f64,
    /// Several seed shares, comma-separated (`0.05,0.1,0.2,0.3,0.5`: the papers'
    /// low-resource figure): every model and seed at each, one table per share and a
    /// table of H@1 against the share; instead of `--ratio`.
    #[arg(
        long,
        value_delimiter = ',',
        conflicts_with = "ratio",
        value_name = "RATIOS"
    )]
    pub ratios: Vec<f64>,
    /// Share of gold pairs held out for choosing each run's best epoch (0: none, and the
    /// table reports the last epoch). With a validation part the table reports the test
    /// metrics of the epoch with the best validation H@1.
    #[arg(long, default_value_t = 0.0)]
    pub valid_ratio: f64,
    /// Where to train.
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Folder for the Markdown and CSV tables [default: `benchmarks/` in the data
    /// directory].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// One row of the table: a model, or one of its ablations, with its settings.
#[derive(Debug, Clone)]
struct Variant {
    model: String,
    /// The ablation's label; `None`: the model as configured.
    ablation: Option<String>,
    settings: Settings,
}

/// One row's runs: a variant at one seed ratio.
#[derive(Debug, Clone, Serialize)]
struct ModelRow {
    model: String,
    ablation: Option<String>,
    name: String,
    /// The share of gold pairs its runs trained on.
    seed_ratio: f64,
    runs: Vec<i64>,
    hits_at_1: Summary,
    hits_at_10: Summary,
    mrr: Summary,
    /// The epoch the metrics are of (the last one, or the best by validation).
    epoch: Summary,
    seconds_per_epoch: Summary,
    peak_memory_mib: Summary,
}

/// A run's reported test metrics: H@1, H@10, MRR and the epoch they are of.
type Reported = [f64; 4];

/// The test metrics to report for a run: those of its best epoch by validation H@1 where
/// it had a validation part, else its final ones (the last epoch's).
fn reported(run: &RunDto, by_validation: bool) -> Result<Reported, CliError> {
    let nan = f64::NAN;
    if !by_validation {
        return Ok([
            run.hits_at_1.unwrap_or(nan),
            run.hits_at_10.unwrap_or(nan),
            run.mrr.unwrap_or(nan),
            run.epochs_done as f64,
        ]);
    }
    match (run.best_epoch, run.best_valid_hits_at_1, run.best_hits_at_1) {
        (Some(epoch), Some(_chosen_by), Some(h1)) => Ok([
            h1,
            run.best_hits_at_10.unwrap_or(nan),
            run.best_mrr.unwrap_or(nan),
            epoch as f64,
        ]),
        _ => Err(CliError::NoBestEpoch { run: run.id.0 }),
    }
}

/// Mean and sample standard deviation.
#[derive(Debug, Clone, Copy, Serialize)]
struct Summary {
    mean: f64,
    std: f64,
}

impl Summary {
    fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n.max(1.0);
        let var = if values.len() > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
        } else {
            0.0
        };
        Self {
            mean,
            std: var.sqrt(),
        }
    }

    fn text(&self, digits: usize) -> String {
        format!("{:.digits$} ± {:.digits$}", self.mean, self.std)
    }
}

/// `all` stands for every registered model, in the registry's order; other names stay
/// as given (checked later).
fn expand_models(models: &[String]) -> Vec<String> {
    if models.iter().any(|m| m == "all") {
        registry::all()
            .iter()
            .map(|f| f.info().id.clone())
            .collect()
    } else {
        models.to_vec()
    }
}

/// The settings of each model: `key=value` for all, `model.key=value` for one; each
/// checked against its model's schema before anything runs.
fn settings_per_model(models: &[String], sets: &[String]) -> Result<Vec<Settings>, SettingError> {
    let mut per_model = Vec::new();
    for model in models {
        let schema = &registry::find(model)?.info().config;
        let mut settings = Settings::new();
        for text in sets {
            let (target, assignment) = match text.split_once('=') {
                Some((key, _)) if key.contains('.') => {
                    let (m, rest) = text.split_once('.').expect("a dot");
                    (Some(m), rest)
                }
                _ => (None, text.as_str()),
            };
            if target.is_some_and(|m| m != model) {
                continue;
            }
            let (key, value) = schema.parse_assignment(assignment)?;
            settings.insert(key, value);
        }
        registry::resolve(model, &settings)?;
        per_model.push(settings);
    }
    for text in sets {
        if let Some((m, _)) = text.split_once('=').and_then(|(k, _)| k.split_once('.'))
            && !models.iter().any(|x| x == m)
        {
            return Err(SettingError::UnknownModel {
                model: m.into(),
                known: models.to_vec(),
            });
        }
    }
    Ok(per_model)
}

/// Each model with its settings, followed by those of its ablations whose label contains
/// one of `filters` (`all`: every one; a filter equal to some model's whole label picks
/// only the labels equal to it, so `w/o MMPF` leaves out `w/o MMPF-img`); the ablation's
/// settings go over the model's. A filter that matches no ablation of any model is refused.
fn variants(
    models: &[String],
    per_model: Vec<Settings>,
    filters: &[String],
) -> Result<Vec<Variant>, CliError> {
    let mut labels: Vec<(&String, String)> = Vec::new();
    for model in models {
        let info = registry::find(model)?.info();
        labels.extend(info.ablations.iter().map(|a| (model, a.label.clone())));
    }
    let wants = |label: &str, filter: &str| {
        let whole_label = labels.iter().any(|(_, l)| l == filter);
        filter == "all" || label == filter || (!whole_label && label.contains(filter))
    };
    for filter in filters {
        if !labels.iter().any(|(_, label)| wants(label, filter)) {
            return Err(CliError::NoSuchAblation {
                filter: filter.clone(),
                models: models.join(", "),
                known: labels
                    .iter()
                    .map(|(model, label)| format!("{model}: {label}"))
                    .collect(),
            });
        }
    }
    let mut out = Vec::new();
    for (model, settings) in models.iter().zip(per_model) {
        let info = registry::find(model)?.info();
        out.push(Variant {
            model: model.clone(),
            ablation: None,
            settings: settings.clone(),
        });
        for ablation in &info.ablations {
            if !filters.iter().any(|f| wants(&ablation.label, f)) {
                continue;
            }
            let mut with = settings.clone();
            with.extend(ablation.settings.clone());
            registry::resolve(model, &with)?;
            out.push(Variant {
                model: model.clone(),
                ablation: Some(ablation.label.clone()),
                settings: with,
            });
        }
    }
    Ok(out)
}

/// Runs `alignscope bench`.
pub async fn bench(
    api: &Api,
    args: &BenchArgs,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let models = expand_models(&args.models);
    let variants = variants(
        &models,
        settings_per_model(&models, &args.set)?,
        &args.ablations,
    )?;
    let imported = api
        .import_dataset(args.source.import_request(&args.dataset))
        .await?;
    for w in &imported.warnings {
        eprintln!("warning: {w}");
    }
    let mut resolved = Vec::new();
    for variant in &variants {
        resolved.push((
            variant.model.as_str(),
            registry::resolve(&variant.model, &variant.settings)?,
        ));
    }
    let models: Vec<(&str, &Settings)> = resolved.iter().map(|(m, s)| (*m, s)).collect();
    super::encode::encode_what_models_read(api, &imported, &models, args.device).await?;
    let by_validation = args.valid_ratio > 0.0;
    let ratios = args.seed_ratios()?;
    let total = ratios.len() * variants.len() * args.seeds as usize;
    let mut done = 0;
    let mut rows = Vec::new();
    for &ratio in &ratios {
        let mut raw: Vec<Vec<[f64; 6]>> = vec![Vec::new(); variants.len()];
        let mut run_ids: Vec<Vec<i64>> = vec![Vec::new(); variants.len()];
        for s in 0..u64::from(args.seeds) {
            let seed = args.seed + s;
            for (m, variant) in variants.iter().enumerate() {
                done += 1;
                let what = match &variant.ablation {
                    Some(label) => format!("{} {label}", variant.model),
                    None => variant.model.clone(),
                };
                eprintln!(
                    "[bench {done}/{total}] {what}, seed {seed}, {:.0}% seeds",
                    ratio * 100.0
                );
                let (run, figures) =
                    run_once(api, args, imported.dataset.id, variant, seed, ratio).await?;
                raw[m].push(figures);
                run_ids[m].push(run);
            }
        }
        rows.extend(
            variants
                .iter()
                .zip(raw)
                .zip(run_ids)
                .map(|((variant, values), runs)| row_of(variant, ratio, &values, runs)),
        );
    }
    let mut title = format!(
        "{} ({}), {} seeds, {} seed(s) from {}, device {}",
        imported.dataset.name,
        args.dataset.display(),
        ratios
            .iter()
            .map(|r| format!("{:.0}%", r * 100.0))
            .collect::<Vec<_>>()
            .join("/"),
        args.seeds,
        args.seed,
        match args.device {
            DeviceArg::Cpu => "cpu",
            DeviceArg::Cuda => "cuda",
        }
    );
    if !args.set.is_empty() {
        title.push_str(&format!("; settings {}", args.set.join(", ")));
    }
    title.push_str(&if by_validation {
        format!(
            "; test metrics of the epoch with the best validation H@1 ({:.0}% of gold pairs held out)",
            args.valid_ratio * 100.0
        )
    } else {
        "; test metrics of the last epoch".to_string()
    });
    let markdown = markdown(&title, &rows);
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| api.data_dir().root().join("benchmarks"));
    std::fs::create_dir_all(&dir)?;
    let stem = format!(
        "bench-{}-{}",
        imported.dataset.id.0,
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    );
    let md_path = dir.join(format!("{stem}.md"));
    let csv_path = dir.join(format!("{stem}.csv"));
    alignscope_models::durable::write_atomically(&md_path, markdown.as_bytes())?;
    alignscope_models::durable::write_atomically(&csv_path, csv(&rows).as_bytes())?;
    if json {
        let value = json!({
            "title": title,
            "models": rows,
            "markdown": md_path,
            "csv": csv_path,
        });
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "{markdown}")?;
        writeln!(
            out,
            "written to {} and {}",
            md_path.display(),
            csv_path.display()
        )?;
    }
    Ok(())
}

impl BenchArgs {
    /// The seed ratios to run: `--ratios`, else `--ratio`; each checked with the
    /// validation share before anything trains.
    fn seed_ratios(&self) -> Result<Vec<f64>, CliError> {
        let ratios = if self.ratios.is_empty() {
            vec![self.ratio]
        } else {
            self.ratios.clone()
        };
        for &ratio in &ratios {
            if !StartRunRequest::split_fits(ratio, self.valid_ratio) {
                return Err(CliError::InvalidSeedRatio {
                    ratio,
                    valid: self.valid_ratio,
                });
            }
        }
        Ok(ratios)
    }
}

/// Trains `variant` once with `seed` on `ratio` of the gold pairs, to the end; its id and
/// its reported figures (H@1, H@10, MRR, epoch, seconds per epoch, peak MiB).
async fn run_once(
    api: &Api,
    args: &BenchArgs,
    dataset: DatasetId,
    variant: &Variant,
    seed: u64,
    ratio: f64,
) -> Result<(i64, [f64; 6]), CliError> {
    let mut settings = variant.settings.clone();
    settings.insert("seed".into(), json!(seed));
    let events = api.subscribe();
    let mut request = StartRunRequest::new(dataset, &variant.model, settings, ratio, args.device);
    request.valid_ratio = args.valid_ratio;
    let run = api.start_run(request).await?;
    let run = follow_to_end(api, run.id, events).await?;
    let [h1, h10, mrr, epoch] = reported(&run, args.valid_ratio > 0.0)?;
    let (seconds, peak) = (run.seconds_per_epoch, run.peak_memory_mib);
    let [seconds, peak] = [seconds, peak].map(|v| v.unwrap_or(f64::NAN));
    Ok((run.id.0, [h1, h10, mrr, epoch, seconds, peak]))
}

/// The table row of `variant` at `ratio` from its runs' figures.
fn row_of(variant: &Variant, ratio: f64, values: &[[f64; 6]], runs: Vec<i64>) -> ModelRow {
    let column = |c: usize| Summary::of(&values.iter().map(|v| v[c]).collect::<Vec<_>>());
    let name = registry::find(&variant.model)
        .map(|f| f.info().name.clone())
        .unwrap_or_else(|_| variant.model.clone());
    ModelRow {
        model: variant.model.clone(),
        ablation: variant.ablation.clone(),
        name: match &variant.ablation {
            Some(label) => format!("{name} {label}"),
            None => name,
        },
        seed_ratio: ratio,
        runs,
        hits_at_1: column(0),
        hits_at_10: column(1),
        mrr: column(2),
        epoch: column(3),
        seconds_per_epoch: column(4),
        peak_memory_mib: column(5),
    }
}

/// The rows' ratios, in their first order.
fn ratios_of(rows: &[ModelRow]) -> Vec<f64> {
    let mut ratios: Vec<f64> = Vec::new();
    for r in rows {
        if !ratios.contains(&r.seed_ratio) {
            ratios.push(r.seed_ratio);
        }
    }
    ratios
}

/// The paper-style table: one per seed ratio, and with several ratios a table of H@1
/// (mean ± std) against the ratio, a row per variant.
fn markdown(title: &str, rows: &[ModelRow]) -> String {
    let ratios = ratios_of(rows);
    if ratios.len() <= 1 {
        return format!("{title}\n\n{}", metrics_table(rows));
    }
    let mut text = format!("{title}\n");
    for &ratio in &ratios {
        let at: Vec<ModelRow> = rows
            .iter()
            .filter(|r| r.seed_ratio == ratio)
            .cloned()
            .collect();
        text.push_str(&format!(
            "\n### {:.0}% seeds\n\n{}",
            ratio * 100.0,
            metrics_table(&at)
        ));
    }
    text.push_str("\n### H@1 against the seed ratio\n\n| Model |");
    for ratio in &ratios {
        text.push_str(&format!(" {:.0}% |", ratio * 100.0));
    }
    text.push_str(&format!("\n|---|{}\n", "---|".repeat(ratios.len())));
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if !names.contains(&r.name.as_str()) {
            names.push(&r.name);
        }
    }
    for name in names {
        text.push_str(&format!("| {name} |"));
        for &ratio in &ratios {
            let cell = rows
                .iter()
                .find(|r| r.name == name && r.seed_ratio == ratio)
                .map_or("–".to_string(), |r| r.hits_at_1.text(3));
            text.push_str(&format!(" {cell} |"));
        }
        text.push('\n');
    }
    text
}

fn metrics_table(rows: &[ModelRow]) -> String {
    let mut text = String::from(
        "| Model | H@1 | H@10 | MRR | epoch | s/epoch | peak MiB | runs |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let runs: Vec<String> = r.runs.iter().map(|i| format!("#{i}")).collect();
        text.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.name,
            r.hits_at_1.text(3),
            r.hits_at_10.text(3),
            r.mrr.text(3),
            r.epoch.text(0),
            r.seconds_per_epoch.text(2),
            r.peak_memory_mib.text(0),
            runs.join(" ")
        ));
    }
    text
}

fn csv(rows: &[ModelRow]) -> String {
    let mut text = String::from(
        "model,ablation,seed_ratio,hits_at_1_mean,hits_at_1_std,hits_at_10_mean,hits_at_10_std,mrr_mean,mrr_std,epoch_mean,epoch_std,seconds_per_epoch_mean,seconds_per_epoch_std,peak_memory_mib_mean,peak_memory_mib_std,runs\n",
    );
    for r in rows {
        let runs: Vec<String> = r.runs.iter().map(i64::to_string).collect();
        text.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
            r.model,
            csv_field(r.ablation.as_deref().unwrap_or("")),
            r.seed_ratio,
            r.hits_at_1.mean,
            r.hits_at_1.std,
            r.hits_at_10.mean,
            r.hits_at_10.std,
            r.mrr.mean,
            r.mrr.std,
            r.epoch.mean,
            r.epoch.std,
            r.seconds_per_epoch.mean,
            r.seconds_per_epoch.std,
            r.peak_memory_mib.mean,
            r.peak_memory_mib.std,
            runs.join(" ")
        ));
    }
    text
}

/// `text` as one CSV field: quoted where it holds a comma, a quote or a line break.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_go_to_their_model_or_to_all() {
        let models = vec!["rrea".to_string(), "gcn-align".to_string()];
        let sets = vec!["epochs=5".to_string(), "rrea.dim=16".to_string()];
        let per_model = settings_per_model(&models, &sets).unwrap();
        assert_eq!(per_model[0]["epochs"], json!(5));
        assert_eq!(per_model[0]["dim"], json!(16));
        assert_eq!(per_model[1]["epochs"], json!(5));
        assert!(!per_model[1].contains_key("dim"));
        let err = settings_per_model(&models, &["dim=16".to_string()]).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown setting `dim` for gcn-align"),
            "{err}"
        );
        let err = settings_per_model(&models, &["tmea.x=1".to_string()]).unwrap_err();
        assert!(err.to_string().contains("unknown model `tmea`"), "{err}");
    }

    #[test]
    fn ablations_follow_their_model_with_their_settings_on_top() {
        let models = vec!["tmea".to_string(), "rrea".to_string()];
        let per_model = settings_per_model(&models, &["epochs=5".to_string()]).unwrap();
        let rows = variants(&models, per_model, &["w/o MMI".to_string()]).unwrap();
        let labels: Vec<(&str, Option<&str>)> = rows
            .iter()
            .map(|v| (v.model.as_str(), v.ablation.as_deref()))
            .collect();
        assert_eq!(
            labels,
            [
                ("tmea", None),
                ("tmea", Some("w/o MMI (random stand-in for missing images)")),
                ("tmea", Some("w/o MMI, neighbour-mean stand-in")),
                ("rrea", None),
            ]
        );
        assert_eq!(rows[2].settings["imputation"], json!(false));
        assert_eq!(rows[2].settings["stand_in"], json!("neighbour_mean"));
        assert_eq!(rows[2].settings["epochs"], json!(5));
        assert!(!rows[0].settings.contains_key("imputation"));
        let err = variants(&models, vec![Settings::new(); 2], &["w/o X".to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("no ablation of tmea, rrea has `w/o X`") && err.contains("tmea: w/o MMI"),
            "{err}"
        );
        assert_eq!(csv_field("w/o MMI, x"), "\"w/o MMI, x\"");
        let mpsea = vec!["mpsea".to_string()];
        let picked = |filter: &str| -> Vec<String> {
            variants(&mpsea, vec![Settings::new()], &[filter.to_string()])
                .unwrap()
                .into_iter()
                .filter_map(|v| v.ablation)
                .collect()
        };
        assert_eq!(picked("w/o MMPF"), ["w/o MMPF"]);
        assert_eq!(picked("MMPF"), ["w/o MMPF-img", "w/o MMPF-gph", "w/o MMPF"]);
    }

    #[test]
    fn all_names_every_registered_model() {
        let every = expand_models(&["all".to_string()]);
        assert_eq!(every.len(), registry::all().len());
        for id in "loginmea tmea mpsea rrea gcn-align eva mclea meaformer".split(' ') {
            assert!(every.iter().any(|m| m == id), "{id} in {every:?}");
        }
        let given = vec!["mpsea".to_string(), "rrea".to_string()];
        assert_eq!(expand_models(&given), given);
    }

    #[test]
    fn several_ratios_give_a_table_each_and_one_of_h1_against_the_ratio() {
        let rrea = Variant {
            model: "rrea".into(),
            ablation: None,
            settings: Settings::new(),
        };
        let figures = |h1: f64| [h1, 0.9, 0.5, 10.0, 1.5, 300.0];
        let rows = vec![
            row_of(&rrea, 0.05, &[figures(0.2), figures(0.4)], vec![1, 2]),
            row_of(&rrea, 0.3, &[figures(0.6)], vec![3]),
        ];
        let text = markdown("T", &rows);
        assert!(
            text.contains("### 5% seeds") && text.contains("### 30% seeds"),
            "{text}"
        );
        assert!(
            text.contains("| 5% | 30% |")
                && text.contains("| RREA | 0.300 ± 0.141 | 0.600 ± 0.000 |"),
            "{text}"
        );
        let single = markdown("T", &rows[1..]);
        assert!(
            !single.contains("###") && single.contains("| RREA | 0.600 ± 0.000 |"),
            "{single}"
        );
        let table = csv(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("model,ablation,seed_ratio,hits_at_1_mean,"));
        assert!(
            lines[1].starts_with("rrea,,0.05,0.30000000000000004,"),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("rrea,,0.3,0.6,"), "{}", lines[2]);
    }

    #[test]
    fn seed_ratios_are_checked_before_anything_trains() {
        #[derive(clap::Parser)]
        struct Command {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let parse = |extra: &[&str]| {
            let mut args = vec!["bench", "--dataset", "d", "--models", "rrea"];
            args.extend(extra);
            <Command as clap::Parser>::try_parse_from(args).map(|c| c.bench)
        };
        let several = parse(&["--ratios", "0.05,0.1,0.5"]).unwrap();
        assert_eq!(several.seed_ratios().unwrap(), [0.05, 0.1, 0.5]);
        assert_eq!(parse(&[]).unwrap().seed_ratios().unwrap(), [0.3]);
        assert!(
            parse(&["--ratio", "0.2", "--ratios", "0.1"]).is_err(),
            "one or the other"
        );
        let err = parse(&["--ratios", "0.1,0.95", "--valid-ratio", "0.1"])
            .unwrap()
            .seed_ratios()
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid seed ratio 0.95"), "{err}");
    }

    #[test]
    fn only_an_epoch_chosen_on_validation_is_reported_as_the_best() {
        let chosen = crate::cli::train::tests::completed_run(10, 5);
        assert_eq!(reported(&chosen, true).unwrap(), [0.64, 0.88, 0.73, 5.0]);
        assert_eq!(
            reported(&chosen, false).unwrap(),
            [0.635, 0.879, 0.72, 10.0]
        );
        // A best epoch without a validation H@1 was chosen on test H@1.
        let by_test = RunDto {
            best_valid_hits_at_1: None,
            ..chosen
        };
        assert!(matches!(
            reported(&by_test, true),
            Err(CliError::NoBestEpoch { run: 7 })
        ));
    }

    #[test]
    fn summaries_are_mean_and_sample_deviation() {
        let s = Summary::of(&[0.5, 0.7]);
        assert!((s.mean - 0.6).abs() < 1e-12);
        assert!((s.std - 0.141_421_356).abs() < 1e-6);
        assert_eq!(s.text(2), "0.60 ± 0.14");
    }
}
