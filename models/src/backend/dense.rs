//! The held similarity matrix of two sets of unit rows on the CPU backend: one
//! `gemm` product written straight into the matrix. Burn's ndarray `matmul` runs an AVX2
//! kernel, copies the transposed candidates into row-major order for every block and
//! returns each block in a fresh array that is copied once more; the `gemm` crate reads
//! the candidates through strides and uses the machine's widest vectors.

use burn::backend::NdArray;
use burn::tensor::{Tensor, TensorMetadata};

use super::host;
use super::matmul::Strided;
use crate::eval::DenseSimilarity;

/// `queries · candidatesᵀ` (`q x d` and `c x d`, row-major) as a `q x c` matrix.
pub fn product(queries: &[f32], candidates: &[f32], d: usize) -> DenseSimilarity {
    let rows = queries.len().checked_div(d).unwrap_or(0);
    let cols = candidates.len().checked_div(d).unwrap_or(0);
    // SAFETY: both views lie inside the borrowed slices (`rows x d` and `cols x d`,
    // row-major), which outlive the call.
    let values = unsafe {
        super::matmul::product(
            Strided::row_major(queries.as_ptr(), rows, d),
            Strided::row_major(candidates.as_ptr(), cols, d).t(),
        )
    };
    DenseSimilarity::new(rows, cols, values)
}

/// The similarity matrix of CPU tensors.
pub(super) fn cpu(queries: Tensor<NdArray, 2>, candidates: Tensor<NdArray, 2>) -> DenseSimilarity {
    let (q, c) = (
        queries.into_primitive().tensor(),
        candidates.into_primitive().tensor(),
    );
    let d = q.shape()[1];
    assert_eq!(c.shape()[1], d, "queries and candidates of one width");
    product(&host(&q), &host(&c), d)
}

#[cfg(test)]
mod tests {
    use burn::backend::ndarray::NdArrayDevice;
    use burn::tensor::TensorData;

    use super::*;
    use crate::eval::{EmbeddingSimilarity, SimilaritySource};
    use crate::rng::SeededRng;

    #[test]
    fn the_product_equals_burns_blocked_matmul() {
        let mut rng = SeededRng::new(9);
        let (q, c, d) = (37, 53, 19);
        let tensor = |rng: &mut SeededRng, rows: usize| {
            Tensor::<NdArray, 2>::from_data(
                TensorData::new(rng.normal_vec(rows * d, 1.0), [rows, d]),
                &NdArrayDevice::Cpu,
            )
        };
        let (queries, candidates) = (tensor(&mut rng, q), tensor(&mut rng, c));
        let ours = cpu(queries.clone(), candidates.clone());
        let reference =
            DenseSimilarity::collect(&mut EmbeddingSimilarity::new(queries, candidates, 8));
        assert_eq!(ours.shape(), (q, c));
        for i in 0..q {
            for (a, b) in ours.row(i).iter().zip(reference.row(i)) {
                assert!((a - b).abs() < 1e-4, "row {i}: {a} vs {b}");
            }
        }
    }
}
