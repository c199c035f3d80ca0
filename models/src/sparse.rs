//! Sparse matrices over entities (`rows x cols` with few entries), built on the host and
//! multiplied on any backend: the neighbour averages and normalised adjacencies of the
//! graph models.

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::graph::int_tensor;
use crate::ops::scatter_rows;

/// A sparse matrix on the host: `(row, column, weight)` entries.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseMatrix {
    /// Rows.
    pub rows: usize,
    /// Entries; a repeated position adds up.
    pub entries: Vec<(u32, u32, f32)>,
}

impl SparseMatrix {
    /// The row-normalised 0/1 pattern of `pairs`: each row averages its distinct columns.
    pub fn row_mean(rows: usize, pairs: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let mut pairs: Vec<(u32, u32)> = pairs.into_iter().collect();
        pairs.sort_unstable();
        pairs.dedup();
        let mut counts = vec![0u32; rows];
        for &(r, _) in &pairs {
            counts[r as usize] += 1;
        }
        let entries = pairs
            .into_iter()
            .map(|(r, c)| (r, c, 1.0 / counts[r as usize] as f32))
            .collect();
        Self { rows, entries }
    }

    /// Uploads the matrix.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> DeviceSparse<B> {
        let n = self.entries.len();
        DeviceSparse {
            rows: self.rows,
            row_index: int_tensor(self.entries.iter().map(|e| e.0), device),
            col_index: int_tensor(self.entries.iter().map(|e| e.1), device),
            weights: Tensor::from_data(
                TensorData::new(
                    self.entries.iter().map(|e| e.2).collect::<Vec<f32>>(),
                    [n, 1],
                ),
                device,
            ),
        }
    }
}

/// A sparse matrix on a device.
#[derive(Debug, Clone)]
pub struct DeviceSparse<B: Backend> {
    rows: usize,
    row_index: Tensor<B, 1, Int>,
    col_index: Tensor<B, 1, Int>,
    weights: Tensor<B, 2>,
}

impl<B: Backend> DeviceSparse<B> {
    /// `self · x` (`rows x d`).
    pub fn matmul(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let gathered = x.select(0, self.col_index.clone()) * self.weights.clone();
        scatter_rows(self.rows, self.row_index.clone(), gathered)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::NdArray;
    use burn::backend::ndarray::NdArrayDevice;

    use super::*;

    #[test]
    fn row_mean_averages_distinct_columns() {
        let m = SparseMatrix::row_mean(2, [(0, 0), (0, 1), (0, 1), (1, 1)]);
        assert_eq!(m.entries, vec![(0, 0, 0.5), (0, 1, 0.5), (1, 1, 1.0)]);
        let device = NdArrayDevice::Cpu;
        let x = Tensor::<NdArray, 2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]),
            &device,
        );
        let y = m.to_device::<NdArray>(&device).matmul(x);
        let v = y.into_data().into_vec::<f32>().unwrap();
        assert_eq!(v, vec![2.0, 3.0, 3.0, 4.0]);
    }
}
