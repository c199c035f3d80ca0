//! `alignscope dataset encode-images` and `dataset encode-text`, and the encoding steps of
//! `dataset import`: a dataset's image files, or its attribute statements and names, into
//! features, with a progress bar and ETA on stderr (a line per tenth where stderr is not a
//! terminal). Ctrl-C stops after the current batch; what was encoded is cached, so
//! running the command again resumes.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

use super::CliError;
use crate::api::Api;
use alignscope_models::inputs::ModalityKind;
use alignscope_models::registry;
use alignscope_models::schema::Settings;

use crate::api::dto::{EncodingDto, EncodingKind, EncodingState, ImportedDataset};
use crate::device::{DeviceArg, choose};
use crate::store::DatasetId;

/// Progress of an encoding on stderr.
struct EncodeDisplay {
    bar: Option<ProgressBar>,
    logged_tenths: usize,
}

impl EncodeDisplay {
    fn new() -> Self {
        Self {
            bar: None,
            logged_tenths: 0,
        }
    }

    fn show(&mut self, state: &EncodingDto) {
        let (what, unit) = match state.kind {
            EncodingKind::Images => ("images", "images/s"),
            EncodingKind::Text => ("text", "texts/s"),
        };
        if state.total == 0 {
            return;
        }
        let eta = state
            .eta_seconds
            .map(|s| format!("ETA {}", clock(s)))
            .unwrap_or_default();
        let rate = state
            .per_second
            .map(|r| format!("{r:.1} {unit}"))
            .unwrap_or_default();
        let cached = if state.from_cache > 0 {
            format!("{} from cache", state.from_cache)
        } else {
            String::new()
        };
        if std::io::stderr().is_terminal() {
            let bar = self.bar.get_or_insert_with(|| {
                let bar = ProgressBar::new(state.total as u64);
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "  encoding {what} [{{bar:30}}] {{pos}}/{{len}} {{msg}}"
                    ))
                    .expect("valid template")
                    .progress_chars("=> "),
                );
                bar
            });
            bar.set_position(state.done as u64);
            bar.set_message(format!("{rate} {eta} {cached}").trim().to_string());
        } else if state.done * 10 >= (self.logged_tenths + 1) * state.total {
            self.logged_tenths = state.done * 10 / state.total;
            eprintln!(
                "  encoding {what}: {}/{} {rate} {eta} {cached}",
                state.done, state.total
            );
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// `12:34` or `1:02:03`.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// Encodes the image files or the text of `dataset` on `device` with progress on stderr;
/// Ctrl-C cancels after the current batch. Returns the final state.
pub(super) async fn encode_with_progress(
    api: &Api,
    dataset: DatasetId,
    kind: EncodingKind,
    device: DeviceArg,
) -> Result<EncodingDto, CliError> {
    let chosen = choose(device);
    let label = chosen.1;
    let cancel = Arc::new(AtomicBool::new(false));
    let on_interrupt = cancel.clone();
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nstopping after the current batch (what was encoded is cached)…");
            on_interrupt.store(true, Ordering::Relaxed);
        }
    });
    let what = match kind {
        EncodingKind::Images => "image files",
        EncodingKind::Text => "attribute statements and names",
    };
    eprintln!("Encoding the {what} of dataset {dataset} on {label}…");
    let display = Arc::new(std::sync::Mutex::new(EncodeDisplay::new()));
    let shown = display.clone();
    let result = api
        .encode_features(dataset, kind, chosen, cancel, move |state| {
            shown.lock().expect("display").show(state)
        })
        .await;
    watcher.abort();
    display.lock().expect("display").finish();
    Ok(result?)
}

/// Before training `models` (id and resolved settings each) on an imported dataset: encodes
/// its image files if some lack features, and its text if some statements lack embeddings
/// and one of the models reads text (that costs minutes on a large graph), each with
/// progress on stderr. A cancelled encoding is an error (what was encoded is cached).
pub(super) async fn encode_what_models_read(
    api: &Api,
    imported: &ImportedDataset,
    models: &[(&str, &Settings)],
    device: DeviceArg,
) -> Result<(), CliError> {
    let mut reads_text = false;
    for (model, settings) in models {
        let needs = registry::find(model)?.input_needs(settings)?;
        reads_text |= needs.modalities.iter().any(|m| {
            matches!(
                m,
                ModalityKind::AttributeText | ModalityKind::Name | ModalityKind::AttributeAbstract
            )
        });
    }
    for (kind, due) in [
        (EncodingKind::Images, imported.images_to_encode),
        (EncodingKind::Text, imported.text_to_encode && reads_text),
    ] {
        if !due {
            continue;
        }
        let encoding = encode_with_progress(api, imported.dataset.id, kind, device).await?;
        describe(&encoding, &mut std::io::stderr())?;
        if encoding.state == EncodingState::Cancelled {
            return Err(CliError::Cancelled(
                "encoding cancelled before training; run the command again to resume".into(),
            ));
        }
    }
    Ok(())
}

/// One paragraph on an encoding's end.
pub(super) fn describe(state: &EncodingDto, out: &mut dyn Write) -> Result<(), CliError> {
    match state.state {
        EncodingState::Done => {
            if let Some(text) = &state.text_result {
                let pair = |v: &[usize]| {
                    format!(
                        "{} left + {} right",
                        v.first().copied().unwrap_or(0),
                        v.get(1).copied().unwrap_or(0)
                    )
                };
                writeln!(
                    out,
                    "text embeddings: statements of {} entities, names of {}, abstract sentences of {}; {} texts ({} distinct, {} from the cache) in {:.1} s with {}",
                    pair(&text.entities_with_attribute_text_features),
                    pair(&text.entities_with_name_features),
                    pair(&text.entities_with_attribute_abstract_features),
                    text.texts,
                    text.distinct,
                    text.from_cache,
                    state.elapsed_seconds,
                    text.encoder
                )?;
                writeln!(
                    out,
                    "attribute keys: {} of {} aligned across the graphs (the abstract sentences keep only those)",
                    text.aligned_attribute_keys,
                    pair(&text.attribute_keys),
                )?;
            }
            let Some(result) = &state.result else {
                return Ok(());
            };
            let with = &result.entities_with_image_features;
            writeln!(
                out,
                "image features: {} left + {} right entities, from {} image files ({} from the cache) in {:.1} s with {}",
                with.first().copied().unwrap_or(0),
                with.get(1).copied().unwrap_or(0),
                result.images,
                result.from_cache,
                state.elapsed_seconds,
                result.encoder
            )?;
            if result.failed > 0 {
                writeln!(
                    out,
                    "  {} image files could not be read or decoded (their entities are left without a feature); the first:",
                    result.failed
                )?;
                for failure in &result.failures {
                    writeln!(out, "    {}: {}", failure.path, failure.reason)?;
                }
            }
        }
        _ => {
            if let Some(message) = &state.message {
                let what = match state.kind {
                    EncodingKind::Images => "image features",
                    EncodingKind::Text => "text embeddings",
                };
                writeln!(out, "{what}: {message}")?;
            }
        }
    }
    Ok(())
}

/// `dataset encode-images <id>` and `dataset encode-text <id>`.
pub(super) async fn encode(
    api: &Api,
    dataset: i64,
    kind: EncodingKind,
    device: DeviceArg,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let state = encode_with_progress(api, DatasetId(dataset), kind, device).await?;
    if json {
        super::runs::line(out, &state)?;
    } else {
        describe(&state, out)?;
    }
    if state.state == EncodingState::Cancelled {
        let command = match kind {
            EncodingKind::Images => "encode-images",
            EncodingKind::Text => "encode-text",
        };
        return Err(CliError::Cancelled(format!(
            "encoding cancelled; `alignscope dataset {command} {dataset}` resumes it"
        )));
    }
    Ok(())
}
