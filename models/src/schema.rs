//! A model's knobs as data: each field's key, kind, default (the paper's), allowed range
//! or choices, group and one-line help. The CLI's `--set key=value`, the API's settings
//! map and the GUI's training form all read and check settings through this one schema,
//! so a model declares its knobs once.
//!
//! Settings are a flat map from key to JSON value. [`Schema::resolve`] checks a partial
//! map (unknown key, wrong type, out of range or not a choice: refused, naming the key
//! and what is allowed) and fills in the defaults; the model then reads the resolved map
//! into its typed config with [`typed`].

use std::collections::BTreeMap;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Settings: key to value. Resolved settings hold every key of the model's schema.
pub type Settings = BTreeMap<String, Value>;

/// The kind of value a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// A whole number.
    Int,
    /// A real number.
    Float,
    /// On or off.
    Bool,
    /// One of `choices`.
    Choice,
    /// A subset of `choices`, in their order.
    List,
}

impl FieldKind {
    fn noun(self) -> &'static str {
        match self {
            Self::Int => "a whole number",
            Self::Float => "a number",
            Self::Bool => "true or false",
            Self::Choice => "one of the choices",
            Self::List => "a comma-separated list of choices",
        }
    }
}

/// Where a field sits in the training form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum FieldGroup {
    /// The model's architecture and its ablation switches.
    Model,
    /// The loss.
    Loss,
    /// Optimiser and schedule.
    Training,
    /// Iterative learning (pseudo seeds).
    Iterative,
    /// Evaluation.
    Evaluation,
}

/// One knob.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Key in the settings map.
    pub key: String,
    /// Kind of value.
    pub kind: FieldKind,
    /// Form group.
    pub group: FieldGroup,
    /// The paper's default (`null` for an optional knob that is off).
    pub default: Value,
    /// Smallest allowed value (numbers).
    pub min: Option<f64>,
    /// Largest allowed value (numbers).
    pub max: Option<f64>,
    /// Allowed values (`choice`, `list`).
    pub choices: Option<Vec<String>>,
    /// Whether `null` (off) is allowed.
    pub optional: bool,
    /// What the knob does, in one sentence.
    pub help: String,
}

/// A field before its default is known: see [`Schema::new`].
#[derive(Debug, Clone)]
pub struct FieldDef {
    key: &'static str,
    kind: FieldKind,
    group: FieldGroup,
    help: &'static str,
    min: Option<f64>,
    max: Option<f64>,
    choices: &'static [&'static str],
    optional: bool,
}

impl FieldDef {
    fn new(key: &'static str, kind: FieldKind, group: FieldGroup, help: &'static str) -> Self {
        Self {
            key,
            kind,
            group,
            help,
            min: None,
            max: None,
            choices: &[],
            optional: false,
        }
    }

    /// A whole number.
    pub fn int(key: &'static str, group: FieldGroup, help: &'static str) -> Self {
        Self::new(key, FieldKind::Int, group, help)
    }

    /// A real number.
    pub fn float(key: &'static str, group: FieldGroup, help: &'static str) -> Self {
        Self::new(key, FieldKind::Float, group, help)
    }

    /// A switch.
    pub fn bool(key: &'static str, group: FieldGroup, help: &'static str) -> Self {
        Self::new(key, FieldKind::Bool, group, help)
    }

    /// One of `choices`.
    pub fn choice(
        key: &'static str,
        group: FieldGroup,
        help: &'static str,
        choices: &'static [&'static str],
    ) -> Self {
        Self::new(key, FieldKind::Choice, group, help).with_choices(choices)
    }

    /// A subset of `choices`.
    pub fn list(
        key: &'static str,
        group: FieldGroup,
        help: &'static str,
        choices: &'static [&'static str],
    ) -> Self {
        Self::new(key, FieldKind::List, group, help).with_choices(choices)
    }

    fn with_choices(self, choices: &'static [&'static str]) -> Self {
        Self { choices, ..self }
    }

    /// Inclusive bounds (`None`: unbounded on that side).
    pub fn range(self, min: Option<f64>, max: Option<f64>) -> Self {
        Self { min, max, ..self }
    }

    /// At least `min`.
    pub fn at_least(self, min: f64) -> Self {
        let max = self.max;
        self.range(Some(min), max)
    }

    /// `null` (off) is allowed.
    pub fn optional(self) -> Self {
        Self {
            optional: true,
            ..self
        }
    }

    /// The key.
    pub fn key(&self) -> &'static str {
        self.key
    }

    fn with_default(&self, default: Value) -> Field {
        Field {
            key: self.key.into(),
            kind: self.kind,
            group: self.group,
            default,
            min: self.min,
            max: self.max,
            choices: (!self.choices.is_empty())
                .then(|| self.choices.iter().map(|c| c.to_string()).collect()),
            optional: self.optional,
            help: self.help.into(),
        }
    }
}

/// A setting was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SettingError {
    /// No such key.
    #[error("unknown setting `{key}` for {model}{}; known settings: {}", suggestion(.key, .known), .known.join(", "))]
    UnknownKey {
        /// The model.
        model: String,
        /// The key given.
        key: String,
        /// The keys there are.
        known: Vec<String>,
    },
    /// The value has the wrong type or is not allowed.
    #[error("setting `{key}` = {value}: must be {allowed}")]
    Invalid {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// No such model.
    #[error("unknown model `{model}`; the models are: {}", .known.join(", "))]
    UnknownModel {
        /// The id given.
        model: String,
        /// The ids there are.
        known: Vec<String>,
    },
    /// `--set` text without `=`.
    #[error("`{0}` is not key=value (e.g. `--set learning_rate=0.001`)")]
    NotAnAssignment(String),
    /// The values do not make a model together.
    #[error("{model}: {message}")]
    Inconsistent {
        /// The model.
        model: String,
        /// What is wrong.
        message: String,
    },
}

/// " (did you mean `x`?)" for the known key closest to `key`, if any is close.
fn suggestion(key: &str, known: &[String]) -> String {
    known
        .iter()
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

/// A model's knobs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The model id the schema belongs to (for messages).
    pub model: String,
    /// Fields, in form order.
    pub fields: Vec<Field>,
}

impl Schema {
    /// The schema of `defs`, each default read from `defaults` (a config struct that
    /// serialises to a flat object with one member per field).
    ///
    /// # Panics
    /// If `defaults` lacks a field's key or has a member no field describes: a
    /// programming error the registry's tests catch.
    pub fn new(model: &str, defs: &[FieldDef], defaults: &impl Serialize) -> Self {
        let object = match serde_json::to_value(defaults) {
            Ok(Value::Object(o)) => o,
            other => panic!("{model}: the default config is not a JSON object: {other:?}"),
        };
        let fields: Vec<Field> = defs
            .iter()
            .map(|d| {
                let default = object.get(d.key).cloned().unwrap_or_else(|| {
                    panic!("{model}: the default config has no member `{}`", d.key)
                });
                d.with_default(default)
            })
            .collect();
        for key in object.keys() {
            assert!(
                fields.iter().any(|f| &f.key == key),
                "{model}: config member `{key}` has no schema field"
            );
        }
        Self {
            model: model.into(),
            fields,
        }
    }

    /// The field of `key`.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Every key, in form order.
    pub fn keys(&self) -> Vec<String> {
        self.fields.iter().map(|f| f.key.clone()).collect()
    }

    /// The defaults (the paper's settings).
    pub fn defaults(&self) -> Settings {
        self.fields
            .iter()
            .map(|f| (f.key.clone(), f.default.clone()))
            .collect()
    }

    fn unknown(&self, key: &str) -> SettingError {
        SettingError::UnknownKey {
            model: self.model.clone(),
            key: key.into(),
            known: self.keys(),
        }
    }

    /// `given` checked and completed with the defaults.
    pub fn resolve(&self, given: &Settings) -> Result<Settings, SettingError> {
        let mut resolved = self.defaults();
        for (key, value) in given {
            let field = self.field(key).ok_or_else(|| self.unknown(key))?;
            resolved.insert(key.clone(), field.check(value)?);
        }
        Ok(resolved)
    }

    /// Parses `key=value` (as `--set` takes it) into a typed value for `key`; the value
    /// is checked by [`Schema::resolve`].
    pub fn parse_assignment(&self, text: &str) -> Result<(String, Value), SettingError> {
        let (key, raw) = text
            .split_once('=')
            .ok_or_else(|| SettingError::NotAnAssignment(text.into()))?;
        let key = key.trim();
        let field = self.field(key).ok_or_else(|| self.unknown(key))?;
        Ok((key.to_string(), field.parse(raw.trim())?))
    }
}

impl Field {
    fn invalid(&self, value: &dyn fmt::Display) -> SettingError {
        SettingError::Invalid {
            key: self.key.clone(),
            value: value.to_string(),
            allowed: self.allowed(),
        }
    }

    /// What the field allows, in words.
    pub fn allowed(&self) -> String {
        let mut text = self.kind.noun().to_string();
        match (self.min, self.max) {
            (Some(lo), Some(hi)) => text.push_str(&format!(" from {lo} to {hi}")),
            (Some(lo), None) => text.push_str(&format!(" of at least {lo}")),
            (None, Some(hi)) => text.push_str(&format!(" of at most {hi}")),
            (None, None) => {}
        }
        if let Some(choices) = &self.choices {
            text.push_str(&format!(" ({})", choices.join(", ")));
        }
        if self.optional {
            text.push_str(", or none (off)");
        }
        text
    }

    /// Parses command-line text into a value of this field's kind.
    pub fn parse(&self, raw: &str) -> Result<Value, SettingError> {
        if self.optional && matches!(raw, "none" | "off" | "null" | "") {
            return Ok(Value::Null);
        }
        let value = match self.kind {
            FieldKind::Int => raw.parse::<i64>().ok().map(Value::from),
            FieldKind::Float => raw
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Value::from),
            FieldKind::Bool => match raw {
                "true" | "on" | "yes" | "1" => Some(Value::Bool(true)),
                "false" | "off" | "no" | "0" => Some(Value::Bool(false)),
                _ => None,
            },
            FieldKind::Choice => Some(Value::from(raw)),
            FieldKind::List => Some(Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(Value::from)
                    .collect(),
            )),
        };
        let value = value.ok_or_else(|| self.invalid(&raw))?;
        // Refused as typed (`2`, not the `2.0` it was read as).
        self.check(&value).map_err(|_| self.invalid(&raw))
    }

    /// `value` if this field allows it (an integral number for an int field is taken as
    /// such, a list is put in the order of the choices).
    pub fn check(&self, value: &Value) -> Result<Value, SettingError> {
        if value.is_null() {
            return if self.optional {
                Ok(Value::Null)
            } else {
                Err(self.invalid(value))
            };
        }
        let in_range =
            |x: f64| self.min.is_none_or(|lo| x >= lo) && self.max.is_none_or(|hi| x <= hi);
        let choice_ok = |v: &Value| {
            v.as_str().is_some_and(|s| {
                self.choices
                    .as_ref()
                    .is_none_or(|c| c.iter().any(|x| x == s))
            })
        };
        match self.kind {
            FieldKind::Int => {
                let x = value.as_f64().filter(|x| x.fract() == 0.0 && in_range(*x));
                match x {
                    Some(x) if x >= 0.0 => Ok(Value::from(x as u64)),
                    Some(x) => Ok(Value::from(x as i64)),
                    None => Err(self.invalid(value)),
                }
            }
            FieldKind::Float => match value.as_f64() {
                Some(x) if x.is_finite() && in_range(x) => Ok(Value::from(x)),
                _ => Err(self.invalid(value)),
            },
            FieldKind::Bool => match value {
                Value::Bool(_) => Ok(value.clone()),
                _ => Err(self.invalid(value)),
            },
            FieldKind::Choice if choice_ok(value) => Ok(value.clone()),
            FieldKind::List => {
                let items = value.as_array().ok_or_else(|| self.invalid(value))?;
                if !items.iter().all(choice_ok) {
                    return Err(self.invalid(value));
                }
                let order = self.choices.clone().unwrap_or_default();
                let mut names: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                names.sort_by_key(|n| order.iter().position(|c| c == n));
                names.dedup();
                Ok(Value::from(names))
            }
            FieldKind::Choice => Err(self.invalid(value)),
        }
    }
}

/// Reads resolved settings into a model's typed config.
pub fn typed<T: DeserializeOwned>(model: &str, settings: &Settings) -> Result<T, SettingError> {
    let object: serde_json::Map<String, Value> = settings.clone().into_iter().collect();
    serde_json::from_value(Value::Object(object)).map_err(|e| SettingError::Inconsistent {
        model: model.into(),
        message: format!("settings do not make a config: {e}"),
    })
}

/// Settings from `(key, value)` pairs.
pub fn settings_of(pairs: &[(&str, Value)]) -> Settings {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

/// Only the members of `settings` whose keys `keys` lists.
pub fn subset(settings: &Settings, keys: &[&str]) -> Settings {
    settings
        .iter()
        .filter(|(k, _)| keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(Serialize, Deserialize, Default)]
    struct Demo {
        epochs: usize,
        lr: f64,
        fusion: String,
        modalities: Vec<String>,
        restart: Option<usize>,
    }

    fn schema() -> Schema {
        Schema::new(
            "demo",
            &[
                FieldDef::int("epochs", FieldGroup::Training, "Epochs.")
                    .range(Some(1.0), Some(10.0)),
                FieldDef::float("lr", FieldGroup::Training, "Rate.").at_least(0.0),
                FieldDef::choice(
                    "fusion",
                    FieldGroup::Model,
                    "Fusion.",
                    &["low_rank", "concat"],
                ),
                FieldDef::list("modalities", FieldGroup::Model, "Mods.", &["a", "b", "c"]),
                FieldDef::int("restart", FieldGroup::Training, "Restart.").optional(),
            ],
            &Demo {
                epochs: 5,
                lr: 0.5,
                fusion: "low_rank".into(),
                modalities: vec!["a".into()],
                restart: None,
            },
        )
    }

    #[test]
    fn resolve_fills_defaults_and_checks_each_value() {
        let s = schema();
        let given: Settings = [("epochs".to_string(), json!(7))].into();
        let resolved = s.resolve(&given).unwrap();
        assert_eq!(resolved["epochs"], json!(7));
        assert_eq!(resolved["lr"], json!(0.5));
        let err = s
            .resolve(&[("epochs".to_string(), json!(11))].into())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "setting `epochs` = 11: must be a whole number from 1 to 10"
        );
        let err = s
            .resolve(&[("epochs".to_string(), json!(2.5))].into())
            .unwrap_err();
        assert!(err.to_string().contains("whole number"), "{err}");
        let err = s
            .resolve(&[("fusion".to_string(), json!("tensor"))].into())
            .unwrap_err();
        assert!(err.to_string().contains("(low_rank, concat)"), "{err}");
        let err = s.resolve(&[("restart".to_string(), json!(null))].into());
        assert_eq!(err.unwrap()["restart"], json!(null));
    }

    #[test]
    fn unknown_keys_name_the_closest_known_one() {
        let err = schema()
            .resolve(&[("epoch".to_string(), json!(3))].into())
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("unknown setting `epoch` for demo (did you mean `epochs`?)"),
            "{text}"
        );
        assert!(
            text.contains("known settings: epochs, lr, fusion, modalities, restart"),
            "{text}"
        );
    }

    #[test]
    fn assignments_parse_by_kind() {
        let s = schema();
        assert_eq!(
            s.parse_assignment("lr=1e-3").unwrap(),
            ("lr".into(), json!(0.001))
        );
        assert_eq!(
            s.parse_assignment("modalities=c, a").unwrap().1,
            json!(["a", "c"]),
            "lists take the choices' order"
        );
        assert_eq!(s.parse_assignment("restart=off").unwrap().1, json!(null));
        assert!(s.parse_assignment("lr").is_err());
        assert!(
            s.parse_assignment("lr=fast")
                .unwrap_err()
                .to_string()
                .contains("a number")
        );
        assert!(s.parse_assignment("modalities=a,d").is_err());
    }

    #[test]
    fn typed_reads_resolved_settings() {
        let s = schema();
        let d: Demo = typed("demo", &s.defaults()).unwrap();
        assert_eq!(d.epochs, 5);
        assert_eq!(d.fusion, "low_rank");
    }
}
