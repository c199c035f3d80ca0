//! `alignscope models list` and `alignscope models show <id>`: the model registry.

use std::io::Write;

use alignscope_models::registry::{self, ModelInfo};
use alignscope_models::schema::FieldGroup;
use clap::Subcommand;
use serde_json::{Value, json};

use super::CliError;

/// `alignscope models ...`
#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// List the models with their papers and modalities.
    List,
    /// Show a model's settings (defaults, allowed values, help), ablations and
    /// deviations from its paper.
    Show {
        /// Model id (`alignscope models list` shows them).
        id: String,
    },
}

/// A model as `--json` prints it: its registry entry with `config` the schema's fields.
fn model_json(info: &ModelInfo) -> Value {
    json!({
        "id": info.id,
        "name": info.name,
        "citation": info.citation,
        "summary": info.summary,
        "modalities": info.modalities,
        "modality_weights": info.modality_weights,
        "config": info.config.fields,
        "ablations": info.ablations,
        "deviations": info.deviations,
    })
}

/// Runs a `models` command.
pub fn run(command: &ModelsCommand, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    match command {
        ModelsCommand::List => {
            let models: Vec<&ModelInfo> = registry::all().iter().map(|m| m.info()).collect();
            if json {
                let list: Vec<Value> = models.iter().map(|m| model_json(m)).collect();
                writeln!(out, "{}", Value::Array(list))?;
                return Ok(());
            }
            let modalities: Vec<String> = models
                .iter()
                .map(|m| {
                    let kinds: Vec<&str> = m.modalities.iter().map(|k| k.as_str()).collect();
                    kinds.join(", ")
                })
                .collect();
            // The modalities column is as wide as its longest entry, plus a gap.
            let width = modalities.iter().map(String::len).max().unwrap_or(0) + 2;
            writeln!(
                out,
                "{:<11}{:<11}{:<width$}paper",
                "id", "name", "modalities"
            )?;
            for (m, kinds) in models.iter().zip(&modalities) {
                writeln!(
                    out,
                    "{:<11}{:<11}{kinds:<width$}{}",
                    m.id, m.name, m.citation
                )?;
            }
            writeln!(
                out,
                "\n`alignscope models show <id>` lists a model's settings; `alignscope train --model <id> --set key=value` sets them."
            )?;
        }
        ModelsCommand::Show { id } => {
            let info = registry::find(id)?.info();
            if json {
                writeln!(out, "{}", model_json(info))?;
                return Ok(());
            }
            show(info, out)?;
        }
    }
    Ok(())
}

fn show(info: &ModelInfo, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{} ({})", info.name, info.id)?;
    writeln!(out, "{}", info.citation)?;
    writeln!(out, "{}", info.summary)?;
    let modalities: Vec<&str> = info.modalities.iter().map(|k| k.as_str()).collect();
    writeln!(out, "modalities: {}", modalities.join(", "))?;
    if info.modality_weights {
        writeln!(out, "learns per-entity modality weights")?;
    }
    for group in [
        FieldGroup::Model,
        FieldGroup::Loss,
        FieldGroup::Training,
        FieldGroup::Iterative,
        FieldGroup::Evaluation,
    ] {
        let fields: Vec<_> = info
            .config
            .fields
            .iter()
            .filter(|f| f.group == group)
            .collect();
        if fields.is_empty() {
            continue;
        }
        writeln!(out, "\n{group:?} settings (key = paper default; allowed)")?;
        for f in fields {
            writeln!(out, "  {} = {}", f.key, f.default)?;
            writeln!(out, "      {} ({})", f.help, f.allowed())?;
        }
    }
    if !info.ablations.is_empty() {
        writeln!(out, "\nAblations (the paper's table)")?;
        for a in &info.ablations {
            let sets: Vec<String> = a
                .settings
                .iter()
                .map(|(k, v)| match v {
                    Value::Array(items) => format!(
                        "--set {k}={}",
                        items
                            .iter()
                            .filter_map(Value::as_str)
                            .collect::<Vec<_>>()
                            .join(",")
                    ),
                    Value::String(s) => format!("--set {k}={s}"),
                    other => format!("--set {k}={other}"),
                })
                .collect();
            writeln!(out, "  {:<28}{}", a.label, sets.join(" "))?;
        }
    }
    writeln!(out, "\nDeviations from the paper")?;
    for d in &info.deviations {
        writeln!(out, "  - {d}")?;
    }
    Ok(())
}
