//! A small seeded random number generator (SplitMix64).
//!
//! Parameters are initialised and seeds shuffled on the host with this generator, never
//! with a backend's global RNG: runs are then identical for the same seed whatever the
//! backend, and tests running side by side cannot disturb each other's draws.

use serde::{Deserialize, Serialize};

/// SplitMix64: fast, statistically sound for initialisation and shuffling, and its whole
/// state is one `u64`, so a checkpoint can store it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            state: seed ^ 0x5DEE_CE66_D1CE_4E5B,
        }
    }

    /// An independent generator for a named purpose, so adding draws to one purpose does
    /// not shift the draws of another.
    pub fn fork(&self, purpose: &str) -> Self {
        let mut h = self.state;
        for b in purpose.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        Self::new(h)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[low, high)`.
    pub fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.next_f64()
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.next_f64().max(f64::MIN_POSITIVE);
        let u2 = self.next_f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_f64() * n as f64) as usize % n.max(1)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }

    /// `count` values drawn uniformly from `[-bound, bound)`, as `f32`.
    pub fn uniform_vec(&mut self, count: usize, bound: f64) -> Vec<f32> {
        (0..count)
            .map(|_| self.uniform(-bound, bound) as f32)
            .collect()
    }

    /// `count` values drawn from `N(0, std^2)`, as `f32`.
    pub fn normal_vec(&mut self, count: usize, std: f64) -> Vec<f32> {
        (0..count).map(|_| (self.normal() * std) as f32).collect()
    }
}

/// A tracked `rows x cols` CPU tensor of normal values with standard deviation `std`
/// (the kernels' tests compare gradients on such leaves).
#[cfg(test)]
pub(crate) fn tracked_normal(
    rng: &mut SeededRng,
    rows: usize,
    cols: usize,
    std: f64,
) -> burn::tensor::Tensor<burn::backend::Autodiff<burn::backend::NdArray>, 2> {
    burn::tensor::Tensor::from_data(
        burn::tensor::TensorData::new(rng.normal_vec(rows * cols, std), [rows, cols]),
        &burn::backend::ndarray::NdArrayDevice::Cpu,
    )
    .require_grad()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_draws_and_forks_differ() {
        let mut a = SeededRng::new(7);
        let mut b = SeededRng::new(7);
        let da: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let db: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        assert_eq!(da, db);
        let mut f = SeededRng::new(7).fork("init");
        assert_ne!(f.next_u64(), SeededRng::new(7).next_u64());
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<usize> = (0..100).collect();
        SeededRng::new(1).shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn normal_has_unit_variance() {
        let mut r = SeededRng::new(3);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "variance {var}");
    }
}
