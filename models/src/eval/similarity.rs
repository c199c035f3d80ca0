//! Similarity matrices read in row blocks, so a 40k x 40k matrix never has to be held.

use burn::tensor::{Tensor, backend::Backend};
use rayon::prelude::*;

use crate::ops::to_host;

/// A `rows x cols` similarity matrix visited in consecutive row blocks.
pub trait SimilaritySource {
    /// `(rows, cols)`.
    fn shape(&self) -> (usize, usize);

    /// Calls `visit(first_row, block)` for consecutive row blocks covering every row once,
    /// in order; `block` holds whole rows, row-major.
    fn for_each_block(&mut self, visit: &mut dyn FnMut(usize, &[f32]));
}

/// A similarity matrix held in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseSimilarity {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

impl DenseSimilarity {
    /// A matrix from row-major values (`rows * cols` of them).
    ///
    /// # Panics
    /// If the number of values is not `rows * cols`.
    pub fn new(rows: usize, cols: usize, values: Vec<f32>) -> Self {
        assert_eq!(
            values.len(),
            rows * cols,
            "a {rows} x {cols} matrix needs {} values",
            rows * cols
        );
        Self { rows, cols, values }
    }

    /// Reads a whole source into memory.
    pub fn collect(source: &mut dyn SimilaritySource) -> Self {
        let (rows, cols) = source.shape();
        let mut values = Vec::with_capacity(rows * cols);
        source.for_each_block(&mut |_, block| values.extend_from_slice(block));
        Self::new(rows, cols, values)
    }

    /// The transposed matrix.
    pub fn transposed(&self) -> Self {
        let mut values = vec![0.0; self.values.len()];
        const TILE: usize = 64;
        for i0 in (0..self.rows).step_by(TILE) {
            for j0 in (0..self.cols).step_by(TILE) {
                for i in i0..(i0 + TILE).min(self.rows) {
                    for j in j0..(j0 + TILE).min(self.cols) {
                        values[j * self.rows + i] = self.values[i * self.cols + j];
                    }
                }
            }
        }
        Self::new(self.cols, self.rows, values)
    }

    /// The matrix read column by column, as a source whose rows are this one's columns.
    pub fn columns(&self) -> Columns<'_> {
        Columns { matrix: self }
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// Every row, mutable, in order.
    pub fn rows_mut(&mut self) -> std::slice::ChunksExactMut<'_, f32> {
        self.values.chunks_exact_mut(self.cols.max(1))
    }
}

/// A held matrix's transpose, read in row blocks transposed on demand (in parallel), so
/// the whole transpose is never held.
#[derive(Debug, Clone, Copy)]
pub struct Columns<'a> {
    matrix: &'a DenseSimilarity,
}

impl Columns<'_> {
    /// Columns per block handed to the visitor.
    const BLOCK: usize = 512;
    /// Columns one parallel task transposes together (one cache line of each row).
    const GROUP: usize = 16;
}

impl SimilaritySource for Columns<'_> {
    fn shape(&self) -> (usize, usize) {
        (self.matrix.cols, self.matrix.rows)
    }

    fn for_each_block(&mut self, visit: &mut dyn FnMut(usize, &[f32])) {
        let DenseSimilarity { rows, cols, values } = self.matrix;
        let (rows, cols) = (*rows, *cols);
        if rows == 0 {
            return;
        }
        let mut block = vec![0.0f32; Self::BLOCK.min(cols) * rows];
        for first in (0..cols).step_by(Self::BLOCK) {
            let width = Self::BLOCK.min(cols - first);
            let out = &mut block[..width * rows];
            out.par_chunks_mut(Self::GROUP * rows)
                .enumerate()
                .for_each(|(group, chunk)| {
                    let start = first + group * Self::GROUP;
                    let count = chunk.len() / rows;
                    for i in 0..rows {
                        let source = &values[i * cols + start..i * cols + start + count];
                        for (t, &v) in source.iter().enumerate() {
                            chunk[t * rows + i] = v;
                        }
                    }
                });
            visit(first, out);
        }
    }
}

/// A borrowed matrix is read in one block; nothing is copied.
impl SimilaritySource for &DenseSimilarity {
    fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    fn for_each_block(&mut self, visit: &mut dyn FnMut(usize, &[f32])) {
        if self.rows > 0 {
            visit(0, &self.values);
        }
    }
}

impl SimilaritySource for DenseSimilarity {
    fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    fn for_each_block(&mut self, visit: &mut dyn FnMut(usize, &[f32])) {
        let mut borrowed: &DenseSimilarity = self;
        borrowed.for_each_block(visit);
    }
}

/// Cosine similarities of unit-normalised query and candidate embeddings, computed on
/// the backend `block_rows` queries at a time.
#[derive(Debug, Clone)]
pub struct EmbeddingSimilarity<B: Backend> {
    queries: Tensor<B, 2>,
    candidates_t: Tensor<B, 2>,
    block_rows: usize,
}

impl<B: Backend> EmbeddingSimilarity<B> {
    /// Similarities of `queries` (`q x D`) against `candidates` (`c x D`), both unit rows.
    pub fn new(queries: Tensor<B, 2>, candidates: Tensor<B, 2>, block_rows: usize) -> Self {
        Self {
            queries,
            candidates_t: candidates.transpose(),
            block_rows: block_rows.max(1),
        }
    }
}

impl<B: Backend> SimilaritySource for EmbeddingSimilarity<B> {
    fn shape(&self) -> (usize, usize) {
        (self.queries.dims()[0], self.candidates_t.dims()[1])
    }

    fn for_each_block(&mut self, visit: &mut dyn FnMut(usize, &[f32])) {
        let (rows, _) = self.shape();
        let d = self.queries.dims()[1];
        let mut start = 0;
        while start < rows {
            let end = (start + self.block_rows).min(rows);
            let block = self
                .queries
                .clone()
                .slice([start..end, 0..d])
                .matmul(self.candidates_t.clone());
            let (_, _, values) = to_host(block);
            visit(start, &values);
            start = end;
        }
    }
}
