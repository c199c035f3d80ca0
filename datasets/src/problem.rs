//! Problems found while loading a dataset: precise locations, fatal problems and
//! tolerable ones that are counted.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::model::EntityFeatures;

/// Where a problem is: a file and, for text files, a 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// The file, as the dataset folder path joined with the file name.
    pub file: PathBuf,
    /// 1-based line number, where the file is line-oriented text.
    pub line: Option<usize>,
}

impl Location {
    /// A whole file.
    pub fn file(file: impl Into<PathBuf>) -> Self {
        Self {
            file: file.into(),
            line: None,
        }
    }

    /// One line of a text file.
    pub fn line(file: impl Into<PathBuf>, line: usize) -> Self {
        Self {
            file: file.into(),
            line: Some(line),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

/// What is wrong, with what was expected instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A file the format requires does not exist.
    #[error("required file is missing: {what}")]
    MissingFile {
        /// What the file holds and how it is laid out.
        what: String,
    },
    /// Something other than a regular file where a file is expected.
    #[error(
        "not a regular file (it is {found}); point AlignScope at the file itself, not at a device, a FIFO or a folder"
    )]
    NotARegularFile {
        /// What is there, e.g. "a character device".
        found: &'static str,
    },
    /// A file larger than AlignScope reads for its kind (see [`crate::MAX_TEXT_FILE_BYTES`]
    /// and [`crate::MAX_FEATURE_FILE_BYTES`]).
    #[error(
        "the file is {size} bytes, more than the {limit} bytes ({} GiB) AlignScope reads from a {kind}; check that this is the right file",
        limit >> 30
    )]
    FileTooLarge {
        /// Its size in bytes (at least: it may have grown while being read).
        size: u64,
        /// The limit for its kind, in bytes.
        limit: u64,
        /// Its kind: "text file" or "feature file".
        kind: &'static str,
    },
    /// The file exists but could not be read.
    #[error("cannot read the file: {reason}")]
    Unreadable {
        /// The operating system's reason.
        reason: String,
    },
    /// Text that is not UTF-8.
    #[error("text is not valid UTF-8 (bad byte at column {column}); save the file as UTF-8")]
    NotUtf8 {
        /// 1-based byte column of the first invalid byte within the line.
        column: usize,
    },
    /// A line with the wrong number of tab-separated columns.
    #[error("expected {expected} tab-separated columns ({layout}), found {found}")]
    ColumnCount {
        /// The number (or range) of columns expected.
        expected: String,
        /// The columns the format expects, in order.
        layout: &'static str,
        /// The number of columns found.
        found: usize,
    },
    /// A field that must be an integer id is not one.
    #[error(
        "column {column} ({name}): `{value}` is not an integer id; expected a whole number >= 0"
    )]
    NotAnInteger {
        /// 1-based column number.
        column: usize,
        /// What the column holds.
        name: &'static str,
        /// The offending text (shortened).
        value: String,
    },
    /// A field that must be a number is not one.
    #[error(
        "column {column} ({name}): `{value}` is not a number; expected e.g. 42, -1.5 or \"3\"^^<xsd:integer>"
    )]
    NotANumber {
        /// 1-based column number.
        column: usize,
        /// What the column holds.
        name: &'static str,
        /// The offending text (shortened).
        value: String,
    },
    /// An entity is referenced that the graph does not declare.
    #[error(
        "{role} `{id}` is not an entity of {graph}; every {role} must be declared in {declared_in}"
    )]
    UnknownEntity {
        /// What the reference is (head entity, left entity of a pair, ...).
        role: &'static str,
        /// The unknown id or key.
        id: String,
        /// Which graph it should belong to.
        graph: &'static str,
        /// The file that declares that graph's entities.
        declared_in: String,
    },
    /// A relation id that the relation-name file does not declare.
    #[error("relation id `{id}` is not declared in {declared_in}")]
    UnknownRelation {
        /// The unknown id.
        id: String,
        /// The file that declares relation ids.
        declared_in: String,
    },
    /// An entity of the other graph where one of this graph is required.
    #[error(
        "{role} `{id}` belongs to {found_graph} (declared at {declared_at}), expected an entity of {expected_graph}"
    )]
    WrongGraph {
        /// What the reference is.
        role: &'static str,
        /// The id or key.
        id: String,
        /// The graph it was declared in.
        found_graph: &'static str,
        /// Where it was declared.
        declared_at: Location,
        /// The graph it must belong to.
        expected_graph: &'static str,
    },
    /// An id or key declared twice in one file.
    #[error("{what} `{id}` is declared twice (first at line {first_line}); ids must be unique")]
    DuplicateId {
        /// What is duplicated (entity id, entity key, relation id, ...).
        what: &'static str,
        /// The duplicated id.
        id: String,
        /// Line of the first declaration.
        first_line: usize,
    },
    /// An entity id declared in both graphs.
    #[error(
        "entity id `{id}` is declared in both graphs (also at {other}); the two graphs' ids must be disjoint"
    )]
    SharedId {
        /// The shared id.
        id: String,
        /// The other declaration.
        other: Location,
    },
    /// A feature vector whose length differs from the others.
    #[error(
        "feature vector of {entity} has {found} values, expected {expected} like the first vector (of {first_entity})"
    )]
    FeatureLength {
        /// The entity whose vector is wrong.
        entity: String,
        /// Its length.
        found: usize,
        /// The length of the first vector.
        expected: usize,
        /// The entity the expected length was taken from.
        first_entity: String,
    },
    /// Feature vectors with no values, or more than [`EntityFeatures::MAX_DIM`].
    #[error(
        "{of} has {width} values; a feature vector must have 1 to {} values",
        EntityFeatures::MAX_DIM
    )]
    FeatureWidth {
        /// Which vectors: one entity's, or every row of a matrix.
        of: String,
        /// Their length.
        width: usize,
    },
    /// A feature matrix with no rows (a shape such as `(0, d)`).
    #[error(
        "the feature matrix has no rows (shape {shape}); a graph without image features has neither file: delete {matrix} and {keys}"
    )]
    EmptyFeatureMatrix {
        /// The matrix's shape, as Python prints it.
        shape: String,
        /// The matrix file, relative to the dataset folder.
        matrix: String,
        /// Its key file, relative to the dataset folder.
        keys: String,
    },
    /// A feature vector with NaN or infinity.
    #[error(
        "feature vector of {entity} has the non-finite value {value} at index {index}; features must be finite numbers"
    )]
    NonFinite {
        /// The entity whose vector is wrong.
        entity: String,
        /// 0-based index in the vector.
        index: usize,
        /// The value, as text (NaN, inf, -inf).
        value: String,
    },
    /// A feature value that is not a vector.
    #[error("feature value of {entity} has shape {shape:?}; expected a vector (d,) or (1, d)")]
    FeatureShape {
        /// The entity.
        entity: String,
        /// The array's shape.
        shape: Vec<usize>,
    },
    /// A pickle file that cannot be decoded.
    #[error(
        "unreadable pickle: {reason}; expected a dict {{entity id: numpy float array}} written by Python's pickle (protocol 2-5)"
    )]
    Pickle {
        /// What the decoder found.
        reason: String,
    },
    /// A `.npy` file that cannot be decoded.
    #[error("unreadable .npy matrix: {reason}")]
    Npy {
        /// What the decoder found.
        reason: String,
    },
    /// A TSV header row different from the one the format defines.
    #[error("header must be `{expected}`, found `{found}`")]
    Header {
        /// The header the format defines (tabs shown as `<TAB>`).
        expected: String,
        /// What the file has.
        found: String,
    },
    /// A backslash escape our TSV format does not define.
    #[error("unknown escape `{escape}`; only \\\\, \\t, \\n and \\r are defined")]
    BadEscape {
        /// The escape found.
        escape: String,
    },
    /// A field that must not be empty.
    #[error("column {column} ({name}) is empty")]
    EmptyField {
        /// 1-based column number.
        column: usize,
        /// What the column holds.
        name: &'static str,
    },
    /// A metadata file that cannot be parsed.
    #[error("invalid metadata: {reason}")]
    Metadata {
        /// The parser's message.
        reason: String,
    },
    /// Two files of a format disagree (e.g. a feature key file and its matrix).
    #[error("{what}")]
    Inconsistent {
        /// The disagreement, stated fully.
        what: String,
    },
}

/// One fatal problem: where and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Where it is.
    pub location: Location,
    /// What is wrong.
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.kind)
    }
}

/// A tolerable problem: the data is usable, the problem is counted and reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum WarningKind {
    /// Empty lines in a line-oriented file.
    BlankLines,
    /// The same relational triple more than once (kept, as the reference code keeps them).
    DuplicateTriples,
    /// The same gold pair more than once (kept once).
    DuplicateGoldPairs,
    /// Two entities of one graph with the same name/URI.
    DuplicateEntityNames,
    /// Attribute lines for entities the graph does not declare (skipped).
    AttributesOfUnknownEntities,
    /// Image features keyed by ids that are in neither graph (skipped).
    FeaturesOfUnknownEntities,
    /// Image files whose name matches no entity (skipped).
    ImagesOfUnknownEntities,
    /// Image files that cannot be decoded (the entity is treated as having no image).
    UnreadableImages,
    /// Entities without any image while others of the same graph have one.
    EntitiesWithoutImage,
    /// Entities of a gold pair that take part in no relational triple.
    LinkedEntitiesWithoutTriples,
}

impl WarningKind {
    /// What the count counts.
    pub fn describe(self) -> &'static str {
        match self {
            Self::BlankLines => "blank lines skipped",
            Self::DuplicateTriples => {
                "duplicate relational triples (kept, as the papers' code keeps them)"
            }
            Self::DuplicateGoldPairs => "duplicate gold pairs (kept once)",
            Self::DuplicateEntityNames => {
                "entities sharing a name/URI with another entity of the same graph"
            }
            Self::AttributesOfUnknownEntities => {
                "attribute lines of entities the graph does not declare (skipped, as the papers' code does)"
            }
            Self::FeaturesOfUnknownEntities => {
                "image feature vectors of ids in neither graph (skipped)"
            }
            Self::ImagesOfUnknownEntities => "image files whose name matches no entity (skipped)",
            Self::UnreadableImages => {
                "image files that cannot be decoded (entity treated as without image)"
            }
            Self::EntitiesWithoutImage => {
                "entities without an image (the models impute their visual feature)"
            }
            Self::LinkedEntitiesWithoutTriples => {
                "gold-pair entities that appear in no relational triple"
            }
        }
    }

    /// A stable machine-readable name (used in `--json` output).
    pub fn code(self) -> &'static str {
        match self {
            Self::BlankLines => "blank_lines",
            Self::DuplicateTriples => "duplicate_triples",
            Self::DuplicateGoldPairs => "duplicate_gold_pairs",
            Self::DuplicateEntityNames => "duplicate_entity_names",
            Self::AttributesOfUnknownEntities => "attributes_of_unknown_entities",
            Self::FeaturesOfUnknownEntities => "features_of_unknown_entities",
            Self::ImagesOfUnknownEntities => "images_of_unknown_entities",
            Self::UnreadableImages => "unreadable_images",
            Self::EntitiesWithoutImage => "entities_without_image",
            Self::LinkedEntitiesWithoutTriples => "linked_entities_without_triples",
        }
    }
}

/// A counted tolerable problem with its first occurrence.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    /// What was counted.
    pub kind: WarningKind,
    /// How many times.
    pub count: usize,
    /// Where it happened first (a file and line, or a description).
    pub first: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} (first: {})",
            self.count,
            self.kind.describe(),
            self.first
        )
    }
}

/// How many fatal problems are kept with their text; the rest are only counted.
pub const MAX_REPORTED_PROBLEMS: usize = 50;

/// The fatal problems of a failed load: the first [`MAX_REPORTED_PROBLEMS`] and a total.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Problems {
    /// The first problems, in the order found.
    pub shown: Vec<Problem>,
    /// The total number found.
    pub total: usize,
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let noun = if self.total == 1 {
            "problem"
        } else {
            "problems"
        };
        write!(f, "the dataset is invalid ({} {noun}):", self.total)?;
        for problem in &self.shown {
            write!(f, "\n  {problem}")?;
        }
        if self.total > self.shown.len() {
            write!(f, "\n  ... and {} more", self.total - self.shown.len())?;
        }
        Ok(())
    }
}

/// Collects fatal problems and counts tolerable ones while a dataset is read.
#[derive(Debug, Default)]
pub(crate) struct Diagnostics {
    problems: Problems,
    warnings: BTreeMap<WarningKind, Warning>,
}

impl Diagnostics {
    /// Records a fatal problem.
    pub fn error(&mut self, location: Location, kind: ProblemKind) {
        self.problems.total += 1;
        if self.problems.shown.len() < MAX_REPORTED_PROBLEMS {
            self.problems.shown.push(Problem { location, kind });
        }
    }

    /// Records a fatal problem on one line of a file.
    pub fn error_at(&mut self, file: &Path, line: usize, kind: ProblemKind) {
        self.error(Location::line(file, line), kind);
    }

    /// Counts `count` tolerable problems of one kind at once; `first` says where the
    /// first one is.
    pub fn warn_many(&mut self, kind: WarningKind, count: usize, first: impl fmt::Display) {
        if count == 0 {
            return;
        }
        self.warnings
            .entry(kind)
            .and_modify(|w| w.count += count)
            .or_insert_with(|| Warning {
                kind,
                count,
                first: first.to_string(),
            });
    }

    /// The number of fatal problems so far.
    pub fn error_count(&self) -> usize {
        self.problems.total
    }

    /// Ends collection: the fatal problems if there are any, else the warnings.
    pub fn finish(self) -> Result<Vec<Warning>, Problems> {
        if self.problems.total > 0 {
            Err(self.problems)
        } else {
            Ok(self.warnings.into_values().collect())
        }
    }
}

/// Shortens user text quoted in a message so one bad line cannot flood the terminal.
pub(crate) fn quote(text: &str) -> String {
    const MAX_CHARS: usize = 60;
    if text.chars().count() <= MAX_CHARS {
        text.to_string()
    } else {
        let head: String = text.chars().take(MAX_CHARS).collect();
        format!("{head}…")
    }
}
