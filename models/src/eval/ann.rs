//! Approximate nearest-neighbour candidate retrieval for graphs too big for a held or
//! even a streamed similarity matrix: an HNSW index (Malkov & Yashunin, the `hnsw_rs`
//! crate) over unit vectors, scored by cosine. At a million right entities a query's
//! exact top 10 reads a million vectors; the index reads a few thousand.

use hnsw_rs::anndists::dist::Distance;
use hnsw_rs::hnsw::Hnsw;
use rayon::prelude::*;

use super::ranking::best_candidates;

/// Cosine distance `1 - x·y` of unit vectors (clamped at 0 against rounding).
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineDistance;

impl Distance<f32> for CosineDistance {
    fn eval(&self, va: &[f32], vb: &[f32]) -> f32 {
        (1.0 - dot(va, vb)).max(0.0)
    }
}

/// Dot product in eight lanes, so the compiler vectorises it.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for ((lane, &p), &q) in lanes.iter_mut().zip(x).zip(y) {
            *lane += p * q;
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// How the index is built and searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnParams {
    /// Links per node (HNSW's `M`).
    pub connections: usize,
    /// Candidate list while building (`ef_construction`).
    pub ef_construction: usize,
    /// Candidate list while searching (`ef`); at least the `k` asked for.
    pub ef_search: usize,
}

impl Default for AnnParams {
    /// `M` 16, `ef_construction` 100, `ef` 64: recall@10 of 0.99 on a million image-like
    /// vectors (the scale benchmark's figures).
    fn default() -> Self {
        Self {
            connections: 16,
            ef_construction: 100,
            ef_search: 64,
        }
    }
}

/// An HNSW index over the rows of a matrix of unit vectors.
pub struct AnnIndex {
    hnsw: Hnsw<'static, f32, CosineDistance>,
    dim: usize,
    len: usize,
    params: AnnParams,
}

impl std::fmt::Debug for AnnIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnnIndex")
            .field("dim", &self.dim)
            .field("len", &self.len)
            .field("params", &self.params)
            .finish()
    }
}

impl AnnIndex {
    /// Indexes the `vectors.len() / dim` rows of `vectors` (unit rows, row-major), in
    /// parallel; row `i` is candidate `i`.
    pub fn build(vectors: &[f32], dim: usize, params: AnnParams) -> Self {
        let len = vectors.len().checked_div(dim).unwrap_or(0);
        let layers = 16.min(((len.max(2)) as f64).ln().ceil() as usize).max(1);
        let hnsw = Hnsw::new(
            params.connections,
            len.max(1),
            layers,
            params.ef_construction,
            CosineDistance,
        );
        let rows: Vec<(&[f32], usize)> = vectors.chunks_exact(dim.max(1)).zip(0..len).collect();
        hnsw.parallel_insert_slice(&rows);
        Self {
            hnsw,
            dim,
            len,
            params,
        }
    }

    /// Indexed rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `k` nearest rows to the unit vector `query` as (row, cosine), best first.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<(u32, f32)> {
        self.search_with(query, k, self.params.ef_search)
    }

    /// [`Self::search`] with another search list length `ef` (recall against speed).
    pub fn search_with(&self, query: &[f32], k: usize, ef: usize) -> Vec<(u32, f32)> {
        if self.len == 0 || k == 0 {
            return Vec::new();
        }
        let mut found: Vec<(u32, f32)> = self
            .hnsw
            .search(query, k, ef.max(k))
            .into_iter()
            .map(|n| (n.d_id as u32, 1.0 - n.distance))
            .collect();
        found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found.truncate(k);
        found
    }

    /// [`Self::search`] for every row of `queries`, in parallel.
    pub fn search_all(&self, queries: &[f32], k: usize) -> Vec<Vec<(u32, f32)>> {
        queries
            .par_chunks_exact(self.dim.max(1))
            .map(|q| self.search(q, k))
            .collect()
    }
}

/// The exact `k` nearest rows of `vectors` to each row of `queries` (unit rows, width
/// `dim`), by cosine, best first: the reference the index is measured against.
pub fn exact_nearest(
    vectors: &[f32],
    queries: &[f32],
    dim: usize,
    k: usize,
) -> Vec<Vec<(u32, f32)>> {
    const BLOCK: usize = 256;
    let mut out = Vec::new();
    for block in queries.chunks(BLOCK * dim.max(1)) {
        let scores = crate::backend::dense::product(block, vectors, dim);
        out.par_extend(
            (0..block.len() / dim.max(1))
                .into_par_iter()
                .map(|i| best_candidates(scores.row(i), k)),
        );
    }
    out
}

/// Mean share of each exact top-`k` list that the approximate list holds (recall@k).
pub fn recall(approximate: &[Vec<(u32, f32)>], exact: &[Vec<(u32, f32)>]) -> f64 {
    if exact.is_empty() {
        return 1.0;
    }
    let total: f64 = approximate
        .iter()
        .zip(exact)
        .map(|(a, e)| {
            if e.is_empty() {
                return 1.0;
            }
            let hits = e
                .iter()
                .filter(|(j, _)| a.iter().any(|(i, _)| i == j))
                .count();
            hits as f64 / e.len() as f64
        })
        .sum();
    total / exact.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SeededRng;

    fn unit_rows(rng: &mut SeededRng, rows: usize, dim: usize) -> Vec<f32> {
        let mut v = rng.normal_vec(rows * dim, 1.0);
        for row in v.chunks_exact_mut(dim) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }

    #[test]
    fn the_index_finds_planted_neighbours_and_agrees_with_exact_search() {
        let mut rng = SeededRng::new(3);
        let (n, dim) = (3_000, 24);
        let vectors = unit_rows(&mut rng, n, dim);
        // Queries: noisy copies of the first 200 rows, renormalised.
        let mut queries: Vec<f32> = vectors[..200 * dim]
            .iter()
            .zip(rng.normal_vec(200 * dim, 0.05))
            .map(|(x, e)| x + e)
            .collect();
        for row in queries.chunks_exact_mut(dim) {
            let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt();
            row.iter_mut().for_each(|x| *x /= norm);
        }
        let index = AnnIndex::build(&vectors, dim, AnnParams::default());
        assert_eq!(index.len(), n);
        let found = index.search_all(&queries, 10);
        let exact = exact_nearest(&vectors, &queries, dim, 10);
        let planted = found
            .iter()
            .enumerate()
            .filter(|(i, f)| f[0].0 as usize == *i)
            .count();
        assert!(
            planted >= 198,
            "planted neighbour first for {planted} of 200"
        );
        let r = recall(&found, &exact);
        assert!(r >= 0.95, "recall@10 {r}");
        for (f, e) in found.iter().zip(&exact) {
            assert!(f.windows(2).all(|w| w[0].1 >= w[1].1), "best first");
            assert!((f[0].1 - e[0].1).abs() < 1e-4 || f[0].0 != e[0].0);
        }
        assert_eq!(recall(&exact, &exact), 1.0);
        assert!(recall(&vec![Vec::new(); exact.len()], &exact) == 0.0);
    }
}
