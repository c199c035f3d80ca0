//! Synthetic knowledge-graph pairs at any size, for scale tests: power-law degrees like
//! DBP15K's, a planted alignment, and optional image-like feature vectors.
//!
//! - **Left graph.** A Chung–Lu graph: entity `i` has weight `(i + 1)^(-1/(γ-1))`, both
//!   ends of every triple are drawn in proportion to the weights, so degrees follow a
//!   power law with exponent `γ` (DBP15K's are heavy-tailed with a few hubs). Relations
//!   are drawn from a Zipf law over the relation vocabulary.
//! - **Right graph.** The matched share of the left entities under a random permutation,
//!   plus unmatched entities of its own; each left triple between matched entities is
//!   kept with probability `keep` (real pairs share most but not all facts), and noise
//!   triples drawn the same way are added. Relations keep their index under another name,
//!   so a model must learn the correspondence.
//! - **Gold.** Every matched pair (the planted alignment).
//! - **Image-like features.** Each matched pair shares a latent vector shaped like an
//!   image encoder's output: the centre of one of `entities / 1000` classes (at least 10)
//!   plus a within-class variation of rank 8, both of unit scale per coordinate; each
//!   side's vector is the latent plus independent Gaussian noise of scale `image_noise`,
//!   for a share of the entities on each side (the others have no image, as in DBP15K).
//!   Unmatched entities get latents of their own.
//! - **Names.** Pronounceable words drawn per side, so names do not give the answer.
//!
//! Everything follows from the seed: the same options give the same pair.

use crate::model::{
    DatasetMeta, Entity, EntityFeatures, FeatureOrigin, GoldPair, KnowledgeGraph, MmkgPair,
    RelTriple, Vocabulary,
};

/// How to build a synthetic pair.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticOptions {
    /// Entities per side.
    pub entities: usize,
    /// Share of the entities that have a counterpart, in (0, 1].
    pub matched_share: f64,
    /// Relation types.
    pub relations: usize,
    /// Relational triples per entity on the left (DBP15K zh_en: 3.6 and 4.9).
    pub triples_per_entity: f64,
    /// Exponent of the degree distribution's power law (> 2).
    pub degree_exponent: f64,
    /// Probability that a left triple between matched entities is also on the right.
    pub keep: f64,
    /// Noise triples on the right, as a share of the kept ones.
    pub noise: f64,
    /// Width of the image-like feature vectors; `None`: no image features.
    pub image_dim: Option<usize>,
    /// Share of the entities of each side with an image.
    pub image_share: f64,
    /// Scale of each side's noise on the shared latent vector (1 is the latent's own).
    pub image_noise: f32,
    /// The seed everything is drawn from.
    pub seed: u64,
}

impl Default for SyntheticOptions {
    /// 10,000 entities per side shaped like DBP15K zh_en.
    fn default() -> Self {
        Self {
            entities: 10_000,
            matched_share: 0.9,
            relations: 1_000,
            triples_per_entity: 4.0,
            degree_exponent: 2.5,
            keep: 0.8,
            noise: 0.1,
            image_dim: Some(64),
            image_share: 0.7,
            image_noise: 0.5,
            seed: 7,
        }
    }
}

/// What was built, for the report.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticReport {
    /// Entities per side.
    pub entities: usize,
    /// Planted gold pairs.
    pub gold: usize,
    /// Relational triples (left, right).
    pub triples: (usize, usize),
    /// Entities with an image feature vector (left, right).
    pub images: (usize, usize),
    /// The largest degree on the left (hubs) and the median degree.
    pub max_degree: usize,
    /// The median degree on the left.
    pub median_degree: usize,
}

/// Why options were refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SyntheticError {
    /// An option is outside its range.
    #[error("synthetic pair: {what} must be {range}, got {value}")]
    OutOfRange {
        /// The option.
        what: &'static str,
        /// Its allowed range.
        range: &'static str,
        /// The value given.
        value: String,
    },
}

fn check(
    ok: bool,
    what: &'static str,
    range: &'static str,
    value: impl ToString,
) -> Result<(), SyntheticError> {
    if ok {
        Ok(())
    } else {
        Err(SyntheticError::OutOfRange {
            what,
            range,
            value: value.to_string(),
        })
    }
}

impl SyntheticOptions {
    fn validate(&self) -> Result<(), SyntheticError> {
        check(
            (2..=u32::MAX as usize / 2).contains(&self.entities),
            "entities",
            "at least 2",
            self.entities,
        )?;
        check(
            self.matched_share > 0.0 && self.matched_share <= 1.0,
            "matched share",
            "in (0, 1]",
            self.matched_share,
        )?;
        check(
            self.relations >= 1,
            "relations",
            "at least 1",
            self.relations,
        )?;
        check(
            self.triples_per_entity > 0.0 && self.triples_per_entity <= 1_000.0,
            "triples per entity",
            "in (0, 1000]",
            self.triples_per_entity,
        )?;
        check(
            self.degree_exponent > 2.0 && self.degree_exponent <= 10.0,
            "degree exponent",
            "in (2, 10]",
            self.degree_exponent,
        )?;
        check(
            (0.0..=1.0).contains(&self.keep),
            "keep",
            "in [0, 1]",
            self.keep,
        )?;
        check(
            (0.0..=10.0).contains(&self.noise),
            "noise",
            "in [0, 10]",
            self.noise,
        )?;
        check(
            (0.0..=1.0).contains(&self.image_share),
            "image share",
            "in [0, 1]",
            self.image_share,
        )?;
        check(
            self.image_noise >= 0.0 && self.image_noise.is_finite(),
            "image noise",
            "finite and at least 0",
            self.image_noise,
        )?;
        if let Some(dim) = self.image_dim {
            check(
                EntityFeatures::accepts_dim(dim),
                "image dimension",
                "1 to 16384",
                dim,
            )?;
        }
        Ok(())
    }
}

/// SplitMix64: small, fast and good enough for drawing graphs.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f32 {
        let u = self.unit().max(f64::MIN_POSITIVE);
        let v = self.unit();
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }
}

/// Draws indices in proportion to fixed weights (cumulative table, binary search).
struct Weighted {
    cumulative: Vec<f64>,
}

impl Weighted {
    fn new(weights: impl Iterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .map(|w| {
                total += w;
                total
            })
            .collect();
        Self { cumulative }
    }

    fn draw(&self, draw: &mut Draw) -> usize {
        let target = draw.unit() * self.cumulative.last().copied().unwrap_or(0.0);
        self.cumulative
            .partition_point(|&c| c <= target)
            .min(self.cumulative.len() - 1)
    }
}

/// `count` triples among `n` entities: ends by `degree` weights, relations by `relation`
/// weights, no self-loops.
fn draw_triples(
    count: usize,
    degree: &Weighted,
    relation: &Weighted,
    draw: &mut Draw,
) -> Vec<RelTriple> {
    let mut triples = Vec::with_capacity(count);
    while triples.len() < count {
        let head = degree.draw(draw);
        let tail = degree.draw(draw);
        if head != tail {
            triples.push(RelTriple {
                head: head as u32,
                relation: relation.draw(draw) as u32,
                tail: tail as u32,
            });
        }
    }
    triples
}

const SYLLABLES: [&str; 24] = [
    "ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "an", "bel", "dor", "fen", "gar", "hal",
    "ion", "jun", "kor", "lis", "mar", "nor", "pel", "quin", "tor",
];

/// A pronounceable two-word name, unique by its numeric suffix.
fn name(draw: &mut Draw, index: usize) -> String {
    let mut word = |len: usize| {
        let mut w = String::new();
        for _ in 0..len {
            w.push_str(SYLLABLES[draw.below(SYLLABLES.len())]);
        }
        let mut chars = w.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    };
    let (a, b) = (word(2), word(3));
    format!("{a} {b} {index}")
}

fn entities(prefix: &str, n: usize, draw: &mut Draw) -> Vec<Entity> {
    (0..n)
        .map(|i| Entity {
            key: format!("{prefix}{i}"),
            name: name(draw, i),
        })
        .collect()
}

/// Image-like vectors: `latent(i)` plus noise for a share of the entities.
fn features(
    n: usize,
    dim: usize,
    options: &SyntheticOptions,
    latent: impl Fn(usize) -> Option<usize>,
    latents: &[f32],
    draw: &mut Draw,
) -> EntityFeatures {
    let mut rows = vec![None; n];
    let mut data = Vec::new();
    let mut next = 0u32;
    for (i, row) in rows.iter_mut().enumerate() {
        if draw.unit() >= options.image_share {
            continue;
        }
        match latent(i) {
            Some(l) => data.extend(
                latents[l * dim..(l + 1) * dim]
                    .iter()
                    .map(|&z| z + options.image_noise * draw.normal()),
            ),
            None => {
                let own = image_latents(1, dim, draw);
                data.extend(own.iter().map(|&z| z + options.image_noise * draw.normal()))
            }
        }
        *row = Some(next);
        next += 1;
    }
    EntityFeatures {
        origin: FeatureOrigin::Unrecorded,
        dim,
        rows,
        data,
    }
}

/// Rank of the within-class variation of the image-like latents.
const IMAGE_RANK: usize = 8;

/// `n` latent image vectors: a class centre plus a rank-8 variation (module docs).
fn image_latents(n: usize, dim: usize, draw: &mut Draw) -> Vec<f32> {
    let classes = (n / 1000).max(10);
    let centres: Vec<f32> = (0..classes * dim).map(|_| draw.normal()).collect();
    let scale = (1.0 / IMAGE_RANK as f32).sqrt();
    let basis: Vec<f32> = (0..IMAGE_RANK * dim)
        .map(|_| scale * draw.normal())
        .collect();
    let mut latents = Vec::with_capacity(n * dim);
    let mut u = [0.0f32; IMAGE_RANK];
    for _ in 0..n {
        let c = draw.below(classes);
        u.iter_mut().for_each(|x| *x = draw.normal());
        latents.extend((0..dim).map(|d| {
            centres[c * dim + d]
                + u.iter()
                    .enumerate()
                    .map(|(r, x)| x * basis[r * dim + d])
                    .sum::<f32>()
        }));
    }
    latents
}

/// Builds a synthetic pair (see the module docs).
pub fn synthetic_pair(
    options: &SyntheticOptions,
) -> Result<(MmkgPair, SyntheticReport), SyntheticError> {
    options.validate()?;
    let n = options.entities;
    let matched = ((n as f64 * options.matched_share).round() as usize).clamp(1, n);
    let mut draw = Draw(options.seed);
    let degree = Weighted::new(
        (0..n).map(|i| (i as f64 + 1.0).powf(-1.0 / (options.degree_exponent - 1.0))),
    );
    let relation = Weighted::new((0..options.relations).map(|r| 1.0 / (r as f64 + 1.0)));

    // The left graph; the matched entities are a random subset of it.
    let left_count = (n as f64 * options.triples_per_entity).round() as usize;
    let left_triples = draw_triples(left_count, &degree, &relation, &mut draw);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, draw.below(i + 1));
    }
    // Left entity -> right entity for the matched ones (right entities in random order).
    let mut right_of = vec![None; n];
    let mut right_positions: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        right_positions.swap(i, draw.below(i + 1));
    }
    for (k, &l) in order.iter().take(matched).enumerate() {
        right_of[l] = Some(right_positions[k]);
    }
    let mut right_triples: Vec<RelTriple> = left_triples
        .iter()
        .filter_map(|t| {
            let (h, tl) = (right_of[t.head as usize]?, right_of[t.tail as usize]?);
            (draw.unit() < options.keep).then_some(RelTriple {
                head: h as u32,
                relation: t.relation,
                tail: tl as u32,
            })
        })
        .collect();
    // Unmatched right entities get triples of their own through the noise, drawn with a
    // degree law over the right positions.
    let noise = (right_triples.len() as f64 * options.noise).round() as usize;
    let right_degree = {
        let mut weights = vec![0.0; n];
        for (l, r) in right_of.iter().enumerate() {
            if let Some(r) = r {
                weights[*r] = (l as f64 + 1.0).powf(-1.0 / (options.degree_exponent - 1.0));
            }
        }
        let mean = weights.iter().sum::<f64>() / n as f64;
        for w in weights.iter_mut().filter(|w| **w == 0.0) {
            *w = mean;
        }
        Weighted::new(weights.into_iter())
    };
    right_triples.extend(draw_triples(noise, &right_degree, &relation, &mut draw));

    let mut relations = Vocabulary::default();
    for r in 0..options.relations {
        relations.intern(&format!("left:relation{r}"));
    }
    // Right relations keep their index under another name.
    let right_relation_offset = relations.len() as u32;
    for r in 0..options.relations {
        relations.intern(&format!("right:relation{r}"));
    }
    for t in &mut right_triples {
        t.relation += right_relation_offset;
    }

    let mut gold: Vec<GoldPair> = right_of
        .iter()
        .enumerate()
        .filter_map(|(l, r)| {
            r.map(|r| GoldPair {
                left: l as u32,
                right: r as u32,
            })
        })
        .collect();
    gold.sort_by_key(|g| g.left);

    let (left_features, right_features) = match options.image_dim {
        None => (None, None),
        Some(dim) => {
            let latents = image_latents(n, dim, &mut draw);
            let mut left_of = vec![None; n];
            for (l, r) in right_of.iter().enumerate() {
                if let Some(r) = r {
                    left_of[*r] = Some(l);
                }
            }
            let left = features(
                n,
                dim,
                options,
                |i| right_of[i].map(|_| i),
                &latents,
                &mut draw,
            );
            let right = features(n, dim, options, |j| left_of[j], &latents, &mut draw);
            (Some(left), Some(right))
        }
    };

    let mut degrees = vec![0usize; n];
    for t in &left_triples {
        degrees[t.head as usize] += 1;
        degrees[t.tail as usize] += 1;
    }
    let max_degree = degrees.iter().copied().max().unwrap_or(0);
    degrees.sort_unstable();
    let report = SyntheticReport {
        entities: n,
        gold: gold.len(),
        triples: (left_triples.len(), right_triples.len()),
        images: (
            left_features.as_ref().map_or(0, EntityFeatures::count),
            right_features.as_ref().map_or(0, EntityFeatures::count),
        ),
        max_degree,
        median_degree: degrees[n / 2],
    };
    let graph = |prefix: &str,
                 triples: Vec<RelTriple>,
                 features: Option<EntityFeatures>,
                 draw: &mut Draw| KnowledgeGraph {
        entities: entities(prefix, n, draw),
        triples,
        attributes: Vec::new(),
        images: vec![Vec::new(); n],
        image_features: features,
        ..KnowledgeGraph::default()
    };
    let left = graph("l", left_triples, left_features, &mut draw);
    let right = graph("r", right_triples, right_features, &mut draw);
    let pair = MmkgPair {
        meta: DatasetMeta {
            name: format!("synthetic-{n}"),
            left_label: "synthetic left".into(),
            right_label: "synthetic right".into(),
            credits: vec![format!(
                "generated by AlignScope (seed {}, {} entities per side)",
                options.seed, n
            )],
        },
        relations,
        attribute_keys: Vocabulary::default(),
        left,
        right,
        gold,
        predefined_splits: Vec::new(),
    };
    Ok((pair, report))
}
