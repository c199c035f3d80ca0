//! Sparse x dense products on host slices, for the CPU backend.
//!
//! `y = A x` with `A` in compressed rows: each output row is the weighted sum of the `x`
//! rows its entries name, summed by one thread in entry order (deterministic, parallel
//! over output rows). The backward pass multiplies by the transpose, kept beside `A`.

use rayon::prelude::*;

/// A sparse matrix in compressed-row form.
#[derive(Debug, Clone, PartialEq)]
pub struct CompressedRows {
    /// Rows.
    pub rows: usize,
    /// Columns (the row count of the multiplied dense matrix).
    pub cols: usize,
    /// Entries of row `i`: `starts[i]..starts[i + 1]`.
    pub starts: Vec<usize>,
    /// Column of each entry.
    pub columns: Vec<u32>,
    /// Weight of each entry.
    pub weights: Vec<f32>,
}

impl CompressedRows {
    /// Compresses `(row, column, weight)` entries; the order within a row is kept.
    pub fn new(rows: usize, cols: usize, entries: &[(u32, u32, f32)]) -> Self {
        let mut starts = vec![0usize; rows + 1];
        for &(r, _, _) in entries {
            starts[r as usize + 1] += 1;
        }
        for r in 0..rows {
            starts[r + 1] += starts[r];
        }
        let mut fill = starts.clone();
        let mut columns = vec![0u32; entries.len()];
        let mut weights = vec![0f32; entries.len()];
        for &(r, c, w) in entries {
            let slot = &mut fill[r as usize];
            columns[*slot] = c;
            weights[*slot] = w;
            *slot += 1;
        }
        Self {
            rows,
            cols,
            starts,
            columns,
            weights,
        }
    }

    /// The transpose (`cols x rows`).
    pub fn transpose(&self) -> Self {
        let mut entries = Vec::with_capacity(self.columns.len());
        for r in 0..self.rows {
            for e in self.starts[r]..self.starts[r + 1] {
                entries.push((self.columns[e], r as u32, self.weights[e]));
            }
        }
        Self::new(self.cols, self.rows, &entries)
    }

    /// `self · x` for `x` of `cols x width` (row-major); the result is `rows x width`.
    pub fn multiply(&self, x: &[f32], width: usize) -> Vec<f32> {
        debug_assert_eq!(x.len(), self.cols * width);
        let mut out = vec![0f32; self.rows * width];
        if width == 0 {
            return out;
        }
        out.par_chunks_mut(width).enumerate().for_each(|(r, row)| {
            for e in self.starts[r]..self.starts[r + 1] {
                let c = self.columns[e] as usize;
                let w = self.weights[e];
                for (o, v) in row.iter_mut().zip(&x[c * width..(c + 1) * width]) {
                    *o += w * v;
                }
            }
        });
        out
    }
}

/// A sparse matrix with its transpose, for a product and its gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseKernel {
    /// The matrix.
    pub forward: CompressedRows,
    /// Its transpose.
    pub transposed: CompressedRows,
}

impl SparseKernel {
    /// Indexes a `rows x cols` matrix of `(row, column, weight)` entries.
    pub fn new(rows: usize, cols: usize, entries: &[(u32, u32, f32)]) -> Self {
        let forward = CompressedRows::new(rows, cols, entries);
        let transposed = forward.transpose();
        Self {
            forward,
            transposed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_and_transposed_products_match_dense_arithmetic() {
        // A = [[1, 0, 2], [0, 0, 0]] with a repeated entry at (0, 2) adding up.
        let kernel = SparseKernel::new(2, 3, &[(0, 2, 1.5), (0, 0, 1.0), (0, 2, 0.5)]);
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(kernel.forward.multiply(&x, 2), vec![11.0, 14.0, 0.0, 0.0]);
        // Aᵀ g for g = [[1, 1], [7, 7]]: rows 1, 0, 2.
        let g = [1.0, 1.0, 7.0, 7.0];
        assert_eq!(
            kernel.transposed.multiply(&g, 2),
            vec![1.0, 1.0, 0.0, 0.0, 2.0, 2.0]
        );
    }
}
