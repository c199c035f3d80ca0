//! Seeded splits of gold pairs into train / validation / test.
//!
//! A pair's place depends only on the seed and the pair's entity keys, hashed: never on
//! the order of the file or the numeric value of ids (in DBP15K the first 10,500 gold
//! pairs satisfy right = left + 10,500, so id order leaks the answer).

use crate::model::{GoldPair, MmkgPair, Split};

/// How to split the gold pairs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitSpec {
    /// Fraction of gold pairs used as training seeds (0.3 for DBP15K in the papers).
    pub train_ratio: f64,
    /// Fraction of gold pairs held out for validation (model selection), taken from
    /// what is not training.
    pub valid_ratio: f64,
    /// The seed.
    pub seed: u64,
}

impl SplitSpec {
    /// `train_ratio` seeds, no validation split.
    pub fn new(train_ratio: f64, seed: u64) -> Self {
        Self {
            train_ratio,
            valid_ratio: 0.0,
            seed,
        }
    }
}

/// A split specification that cannot be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "invalid split: train ratio {train} and validation ratio {valid} must each be in [0, 1] and sum to at most 1"
)]
pub struct SplitError {
    /// The train ratio given.
    pub train: f64,
    /// The validation ratio given.
    pub valid: f64,
}

/// Splits the gold pairs of `pair` as `spec` says. The parts are disjoint and together
/// hold every gold pair; `round(n * ratio)` pairs go to each of train and validation.
pub fn split_gold(pair: &MmkgPair, spec: SplitSpec) -> Result<Split, SplitError> {
    let ok = |r: f64| (0.0..=1.0).contains(&r);
    if !ok(spec.train_ratio)
        || !ok(spec.valid_ratio)
        || spec.train_ratio + spec.valid_ratio > 1.0 + 1e-9
    {
        return Err(SplitError {
            train: spec.train_ratio,
            valid: spec.valid_ratio,
        });
    }
    let key = |p: &GoldPair| {
        let left = pair.left.entities[p.left as usize].key.as_str();
        let right = pair.right.entities[p.right as usize].key.as_str();
        (pair_hash(spec.seed, left, right), left, right)
    };
    let mut order: Vec<GoldPair> = pair.gold.clone();
    order.sort_by_cached_key(|p| {
        let (h, l, r) = key(p);
        (h, l.to_string(), r.to_string())
    });
    let n = order.len();
    let n_train = ((n as f64) * spec.train_ratio).round() as usize;
    let n_valid = (((n as f64) * spec.valid_ratio).round() as usize).min(n - n_train);
    let test = order.split_off(n_train + n_valid);
    let valid = order.split_off(n_train);
    Ok(Split {
        train: order,
        valid,
        test,
    })
}

/// A stable 64-bit hash of (seed, left key, right key): FNV-1a, then the SplitMix64
/// finaliser for avalanche. Written out here so splits never change with a library.
fn pair_hash(seed: u64, left: &str, right: &str) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = seed
        .to_le_bytes()
        .into_iter()
        .chain(left.bytes())
        .chain([0xff])
        .chain(right.bytes());
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(PRIME);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Entity;

    fn toy(n: u32) -> MmkgPair {
        let mut pair = MmkgPair::default();
        for i in 0..n {
            let entity = |k: String| Entity {
                name: k.clone(),
                key: k,
            };
            pair.left.entities.push(entity(i.to_string()));
            pair.right.entities.push(entity((i + n).to_string()));
            pair.gold.push(GoldPair { left: i, right: i });
        }
        pair
    }

    #[test]
    fn sizes_follow_the_ratios_and_parts_are_disjoint() {
        let pair = toy(1000);
        let split = split_gold(
            &pair,
            SplitSpec {
                train_ratio: 0.3,
                valid_ratio: 0.1,
                seed: 7,
            },
        )
        .unwrap();
        assert_eq!(
            (split.train.len(), split.valid.len(), split.test.len()),
            (300, 100, 600)
        );
        let mut all: Vec<_> = split
            .train
            .iter()
            .chain(&split.valid)
            .chain(&split.test)
            .copied()
            .collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 1000);
    }

    #[test]
    fn split_ignores_file_order_and_depends_on_the_seed() {
        let pair = toy(500);
        let mut reversed = pair.clone();
        reversed.gold.reverse();
        let a = split_gold(&pair, SplitSpec::new(0.3, 1)).unwrap();
        let b = split_gold(&reversed, SplitSpec::new(0.3, 1)).unwrap();
        assert_eq!(a, b);
        let c = split_gold(&pair, SplitSpec::new(0.3, 2)).unwrap();
        assert_ne!(a.train, c.train);
    }

    #[test]
    fn training_seeds_are_not_the_first_ids() {
        let pair = toy(1000);
        let split = split_gold(&pair, SplitSpec::new(0.3, 0)).unwrap();
        let low = split.train.iter().filter(|p| p.left < 300).count();
        // A random 30% holds about 90 of the first 300 ids; the first 300 would be all.
        assert!(
            (50..140).contains(&low),
            "{low} of the training seeds are among the first 300 ids"
        );
    }

    #[test]
    fn bad_ratios_are_refused() {
        let pair = toy(10);
        assert!(split_gold(&pair, SplitSpec::new(1.5, 0)).is_err());
        assert!(
            split_gold(
                &pair,
                SplitSpec {
                    train_ratio: 0.8,
                    valid_ratio: 0.3,
                    seed: 0
                }
            )
            .is_err()
        );
        assert!(split_gold(&pair, SplitSpec::new(f64::NAN, 0)).is_err());
    }
}
