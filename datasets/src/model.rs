//! The in-memory model of a multi-modal knowledge-graph pair.
//!
//! Entities are addressed by their dense index within their own graph (`u32`, in the
//! order the source declares them). Relation names and attribute keys are shared by the
//! pair: the papers' code puts both graphs' triples into one graph, so a relation id
//! that occurs on both sides is one relation.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Which graph of the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The source graph, KG1.
    Left,
    /// The target graph, KG2.
    Right,
}

impl Side {
    /// Both sides, left first.
    pub const BOTH: [Side; 2] = [Side::Left, Side::Right];

    /// "KG1" or "KG2", as the research formats number them.
    pub fn graph_name(self) -> &'static str {
        match self {
            Side::Left => "KG1",
            Side::Right => "KG2",
        }
    }

    /// "left" or "right".
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }

    /// 0 or 1: the position of this side in per-side arrays.
    pub fn index(self) -> usize {
        match self {
            Side::Left => 0,
            Side::Right => 1,
        }
    }

    /// 1 or 2, the file suffix of the research formats.
    pub fn number(self) -> u8 {
        match self {
            Side::Left => 1,
            Side::Right => 2,
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// Identifier in the source: the integer id of the research formats (as text), the
    /// URI of OpenEA, the key of our own format. Unique within its graph.
    pub key: String,
    /// Name or URI (e.g. `http://dbpedia.org/resource/Kim_Dae-jung`).
    pub name: String,
}

impl Entity {
    /// A human label: the last path segment of a URI with `_` as spaces, else the name.
    pub fn label(&self) -> String {
        let name = self.name.trim_start_matches('<').trim_end_matches('>');
        let tail = if name.contains("://") {
            name.rsplit(['/', '#']).next().unwrap_or(name)
        } else {
            name
        };
        if tail.is_empty() {
            self.name.clone()
        } else {
            tail.replace('_', " ")
        }
    }
}

/// A relational triple between two entities of the same graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelTriple {
    /// Head entity index.
    pub head: u32,
    /// Relation index in [`MmkgPair::relations`].
    pub relation: u32,
    /// Tail entity index.
    pub tail: u32,
}

/// An attribute triple: entity, attribute key and, where the source has it, a literal.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrTriple {
    /// Entity index.
    pub entity: u32,
    /// Key index in [`MmkgPair::attribute_keys`].
    pub key: u32,
    /// The literal value; `None` where the format carries attribute names only.
    pub value: Option<String>,
}

/// Where a graph's image feature vectors came from, so a run can record it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureOrigin {
    /// Not recorded (features built in memory, e.g. by a test).
    #[default]
    Unrecorded,
    /// A feature file of the dataset: `image_features.npy` in its folder or a feature
    /// pickle beside it.
    File {
        /// The file.
        path: PathBuf,
    },
    /// Encoded by AlignScope from the dataset's image files or text.
    Encoded {
        /// The encoder, e.g. `EfficientNet-Lite0 (ImageNet)`.
        encoder: String,
        /// SHA-256 of the encoder's weights file, hex.
        weights_sha256: String,
    },
}

impl fmt::Display for FeatureOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unrecorded => f.write_str("origin not recorded"),
            Self::File { path } => write!(f, "feature file {}", path.display()),
            Self::Encoded {
                encoder,
                weights_sha256,
            } => write!(
                f,
                "encoded by AlignScope with {encoder} (weights sha256:{weights_sha256})"
            ),
        }
    }
}

/// Feature vectors of some entities of one graph: image features (from a feature file or
/// encoded from the image files) or sentence embeddings of the entities' attribute
/// statements or names.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityFeatures {
    /// Where the vectors came from (not part of the content fingerprint).
    pub origin: FeatureOrigin,
    /// Length of every vector.
    pub dim: usize,
    /// Per entity: the row of `data` holding its vector, if it has one.
    pub rows: Vec<Option<u32>>,
    /// Row-major vectors, `dim` values each.
    pub data: Vec<f32>,
}

impl EntityFeatures {
    /// The widest feature vector a dataset may hold: 16,384 values. Image features are
    /// 512 to 4,096 values wide (ResNet-152: 2,048; EfficientNet-Lite0: 1,280), and a run
    /// gives every entity a vector of the dataset's width, so a wider claim is refused
    /// when the dataset is read.
    pub const MAX_DIM: usize = 16_384;

    /// Whether vectors of `dim` values are acceptable: 1 to [`Self::MAX_DIM`].
    pub fn accepts_dim(dim: usize) -> bool {
        (1..=Self::MAX_DIM).contains(&dim)
    }

    /// The feature vector of an entity, if it has one.
    pub fn vector(&self, entity: u32) -> Option<&[f32]> {
        let row = (*self.rows.get(entity as usize)?)? as usize;
        let start = row.checked_mul(self.dim)?;
        self.data.get(start..start.checked_add(self.dim)?)
    }

    /// How many entities have a vector.
    pub fn count(&self) -> usize {
        self.rows.iter().filter(|r| r.is_some()).count()
    }
}

/// One knowledge graph of the pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct KnowledgeGraph {
    /// Entities in declaration order; an entity's index is its position here.
    pub entities: Vec<Entity>,
    /// Relational triples in file order (duplicates kept, as the papers' code keeps them).
    pub triples: Vec<RelTriple>,
    /// Attribute triples in file order.
    pub attributes: Vec<AttrTriple>,
    /// Per entity, its image files (usually zero or one).
    pub images: Vec<Vec<PathBuf>>,
    /// Precomputed image feature vectors, where the source has them.
    pub image_features: Option<EntityFeatures>,
    /// Sentence embeddings of each entity's attribute statements ("key: value", their
    /// mean), where AlignScope encoded them ([`crate::derived`]).
    pub attribute_text_features: Option<EntityFeatures>,
    /// Sentence embeddings of the entities' names, where AlignScope encoded them.
    pub name_features: Option<EntityFeatures>,
    /// Sentence embeddings of each entity's abstract sentence, its attributes whose keys
    /// align across the graphs ([`crate::abstracts`]), where AlignScope encoded them.
    pub attribute_abstract_features: Option<EntityFeatures>,
}

impl KnowledgeGraph {
    /// Index of the entity with `key`, by linear search; build a map for many look-ups.
    pub fn find_key(&self, key: &str) -> Option<u32> {
        self.entities
            .iter()
            .position(|e| e.key == key)
            .map(|i| i as u32)
    }

    /// Whether an entity has an image file or an image feature vector.
    pub fn has_image(&self, entity: u32) -> bool {
        self.images
            .get(entity as usize)
            .is_some_and(|files| !files.is_empty())
            || self
                .image_features
                .as_ref()
                .is_some_and(|f| f.vector(entity).is_some())
    }
}

/// An ordered set of names (relations or attribute keys) with index look-up.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Vocabulary {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl Vocabulary {
    /// The index of `name`, adding it at the end if new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.index.get(name) {
            return id;
        }
        let id = self.names.len() as u32;
        self.names.push(name.to_string());
        self.index.insert(name.to_string(), id);
        id
    }

    /// The index of `name`, if present.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name at `id`.
    pub fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// All names in index order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
}

/// A gold (reference) alignment pair: left entity index, right entity index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GoldPair {
    /// Entity index in the left graph.
    pub left: u32,
    /// Entity index in the right graph.
    pub right: u32,
}

/// A train/validation/test split of gold pairs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Split {
    /// Seed pairs the model may train on.
    pub train: Vec<GoldPair>,
    /// Pairs held out from the seeds for model selection.
    pub valid: Vec<GoldPair>,
    /// Pairs the model is evaluated on.
    pub test: Vec<GoldPair>,
}

/// A split shipped with the dataset (e.g. OpenEA's `721_5fold/1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedSplit {
    /// Its name, e.g. `721_5fold/1`.
    pub name: String,
    /// The pairs.
    pub split: Split,
}

/// Descriptive metadata: not part of the content fingerprint.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DatasetMeta {
    /// Short name, e.g. `zh_en`.
    pub name: String,
    /// Label of the left graph, e.g. `KG1 (zh)`.
    pub left_label: String,
    /// Label of the right graph.
    pub right_label: String,
    /// Credits and licences of the data and artwork.
    pub credits: Vec<String>,
}

/// A multi-modal knowledge-graph pair with its gold alignment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MmkgPair {
    /// Name, labels and credits.
    pub meta: DatasetMeta,
    /// Relation names of both graphs.
    pub relations: Vocabulary,
    /// Attribute keys of both graphs.
    pub attribute_keys: Vocabulary,
    /// The source graph.
    pub left: KnowledgeGraph,
    /// The target graph.
    pub right: KnowledgeGraph,
    /// Gold pairs in file order, each pair once.
    pub gold: Vec<GoldPair>,
    /// Splits that came with the dataset.
    pub predefined_splits: Vec<NamedSplit>,
}

impl MmkgPair {
    /// The graph on `side`.
    pub fn graph(&self, side: Side) -> &KnowledgeGraph {
        match side {
            Side::Left => &self.left,
            Side::Right => &self.right,
        }
    }

    /// The graph on `side`, mutable.
    pub fn graph_mut(&mut self, side: Side) -> &mut KnowledgeGraph {
        match side {
            Side::Left => &mut self.left,
            Side::Right => &mut self.right,
        }
    }

    /// Entities of both graphs: the joint index space the models use, left first.
    pub fn entity_count(&self) -> usize {
        self.left.entities.len() + self.right.entities.len()
    }

    /// Joint index of an entity: left entities keep their index, right ones follow.
    pub fn joint_index(&self, side: Side, entity: u32) -> usize {
        match side {
            Side::Left => entity as usize,
            Side::Right => self.left.entities.len() + entity as usize,
        }
    }

    /// The key of the entity at joint index `joint` (left entities first).
    ///
    /// # Panics
    /// If `joint` is not below [`MmkgPair::entity_count`].
    pub fn key_of_joint(&self, joint: usize) -> &str {
        let nl = self.left.entities.len();
        if joint < nl {
            &self.left.entities[joint].key
        } else {
            &self.right.entities[joint - nl].key
        }
    }

    /// The key ↔ index map of both graphs' entities.
    pub fn keys(&self) -> EntityKeys<'_> {
        EntityKeys::new(self)
    }
}

/// Entity keys ↔ indices of a pair: the one map between the keys people and files use
/// and the indices (per graph, or joint: left first) the models use.
#[derive(Debug, Clone)]
pub struct EntityKeys<'a> {
    pair: &'a MmkgPair,
    by_key: [HashMap<&'a str, u32>; 2],
}

impl<'a> EntityKeys<'a> {
    /// Indexes `pair`'s entity keys.
    pub fn new(pair: &'a MmkgPair) -> Self {
        let by_key = Side::BOTH.map(|side| {
            pair.graph(side)
                .entities
                .iter()
                .enumerate()
                .map(|(i, e)| (e.key.as_str(), i as u32))
                .collect()
        });
        Self { pair, by_key }
    }

    /// The index of `key` in the graph on `side`.
    pub fn index(&self, side: Side, key: &str) -> Option<u32> {
        let map = match side {
            Side::Left => &self.by_key[0],
            Side::Right => &self.by_key[1],
        };
        map.get(key).copied()
    }

    /// The joint index of `key` on `side`.
    pub fn joint(&self, side: Side, key: &str) -> Option<usize> {
        self.index(side, key)
            .map(|entity| self.pair.joint_index(side, entity))
    }

    /// The key at joint index `joint`.
    pub fn key(&self, joint: usize) -> &'a str {
        self.pair.key_of_joint(joint)
    }
}
