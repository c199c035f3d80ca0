//! Sparse matrices over entities (`rows x cols` with few entries), built on the host and
//! multiplied on any backend: the neighbour averages and normalised adjacencies of the
//! graph models. The CPU backend multiplies with the fused kernel of
//! [`crate::kernels::spmm`] and never uploads anything; other backends gather and scatter
//! rows with tensor ops, over index tensors uploaded once per backend and device and kept
//! with the matrix (models call [`SparseMatrix::to_device`] on every forward pass).

use std::any::Any;
use std::sync::{Arc, Mutex};

use burn::tensor::{Int, Tensor, TensorData, backend::Backend};

use crate::backend::GraphBackend;
use crate::graph::int_tensor;
use crate::kernels::spmm::SparseKernel;
use crate::ops::scatter_rows;

/// A sparse matrix on the host: `(row, column, weight)` entries, indexed for products.
/// Clones share the entries, the kernel and the uploaded index tensors.
#[derive(Debug, Clone)]
pub struct SparseMatrix {
    rows: usize,
    entries: Arc<Vec<(u32, u32, f32)>>,
    kernel: Arc<SparseKernel>,
    uploads: Arc<Mutex<Vec<Box<dyn Any + Send + Sync>>>>,
}

impl PartialEq for SparseMatrix {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows && self.entries == other.entries
    }
}

impl SparseMatrix {
    /// A `rows x cols` matrix; a repeated position adds up.
    pub fn new(rows: usize, cols: usize, entries: Vec<(u32, u32, f32)>) -> Self {
        let kernel = Arc::new(SparseKernel::new(rows, cols, &entries));
        Self {
            rows,
            entries: Arc::new(entries),
            kernel,
            uploads: Arc::default(),
        }
    }

    /// The row-normalised 0/1 pattern of `pairs` (`rows x cols`): each row averages its
    /// distinct columns.
    pub fn row_mean(rows: usize, cols: usize, pairs: impl IntoIterator<Item = (u32, u32)>) -> Self {
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
        Self::new(rows, cols, entries)
    }

    /// The entries, in the order given.
    pub fn entries(&self) -> &[(u32, u32, f32)] {
        &self.entries
    }

    /// The matrix for `device`: free to call per forward pass, since nothing is copied
    /// until a backend without a fused kernel multiplies, and then only once.
    pub fn to_device<B: Backend>(&self, device: &B::Device) -> DeviceSparse<B> {
        DeviceSparse {
            host: self.clone(),
            device: device.clone(),
        }
    }

    /// The index tensors of the tensor-op product on `device`, uploaded on first use.
    fn composed_index<B: Backend>(&self, device: &B::Device) -> ComposedIndex<B> {
        // A poisoned lock only means another upload panicked; the list is still valid.
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        let cached = uploads
            .iter()
            .filter_map(|u| u.downcast_ref::<ComposedIndex<B>>())
            .find(|index| &index.device == device);
        if let Some(index) = cached {
            return index.clone();
        }
        let index = ComposedIndex::upload(&self.entries, device);
        uploads.push(Box::new(index.clone()));
        index
    }
}

/// The entries as device tensors, for the gather-and-scatter product.
#[derive(Debug, Clone)]
struct ComposedIndex<B: Backend> {
    device: B::Device,
    row_index: Tensor<B, 1, Int>,
    col_index: Tensor<B, 1, Int>,
    weights: Tensor<B, 2>,
}

impl<B: Backend> ComposedIndex<B> {
    fn upload(entries: &[(u32, u32, f32)], device: &B::Device) -> Self {
        let weights: Vec<f32> = entries.iter().map(|e| e.2).collect();
        Self {
            device: device.clone(),
            row_index: int_tensor(entries.iter().map(|e| e.0), device),
            col_index: int_tensor(entries.iter().map(|e| e.1), device),
            weights: Tensor::from_data(TensorData::new(weights, [entries.len(), 1]), device),
        }
    }
}

/// A sparse matrix bound to a device and a backend.
#[derive(Debug, Clone)]
pub struct DeviceSparse<B: Backend> {
    host: SparseMatrix,
    device: B::Device,
}

impl<B: Backend> DeviceSparse<B> {
    /// `self · x` written with tensor ops: gather the named rows of `x`, weigh them,
    /// add them up per row (any backend, autodiff by Burn).
    pub fn matmul_composed(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let index = self.host.composed_index::<B>(&self.device);
        let gathered = x.select(0, index.col_index) * index.weights;
        scatter_rows(self.host.rows, index.row_index, gathered)
    }

    /// The host index the fused CPU kernel multiplies with.
    pub fn kernel(&self) -> &Arc<SparseKernel> {
        &self.host.kernel
    }
}

impl<B: GraphBackend> DeviceSparse<B> {
    /// `self · x` (`rows x d`), by the backend's fastest way.
    pub fn matmul(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        B::sparse_matmul(self, x)
    }
}

#[cfg(test)]
mod tests {
    use burn::backend::ndarray::NdArrayDevice;
    use burn::backend::{Autodiff, NdArray};

    use super::*;

    #[test]
    fn row_mean_averages_distinct_columns() {
        let m = SparseMatrix::row_mean(2, 2, [(0, 0), (0, 1), (0, 1), (1, 1)]);
        assert_eq!(m.entries(), &[(0, 0, 0.5), (0, 1, 0.5), (1, 1, 1.0)]);
        let device = NdArrayDevice::Cpu;
        let x = Tensor::<NdArray, 2>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]),
            &device,
        );
        let y = m.to_device::<NdArray>(&device).matmul(x);
        let v = y.into_data().into_vec::<f32>().unwrap();
        assert_eq!(v, vec![2.0, 3.0, 3.0, 4.0]);
    }

    /// The CPU product uploads nothing; the tensor-op product uploads its index once per
    /// backend and device, however many times the matrix is bound to the device.
    #[test]
    fn index_tensors_are_uploaded_once_and_only_for_the_composed_product() {
        let device = NdArrayDevice::Cpu;
        let m = SparseMatrix::row_mean(2, 2, [(0, 0), (0, 1), (1, 1)]);
        let x =
            || Tensor::<NdArray, 2>::from_data(TensorData::new(vec![1.0f32; 4], [2, 2]), &device);
        let uploads = || m.uploads.lock().unwrap().len();
        m.to_device::<NdArray>(&device).matmul(x());
        assert_eq!(uploads(), 0);
        for _ in 0..3 {
            m.to_device::<NdArray>(&device).matmul_composed(x());
        }
        assert_eq!(uploads(), 1);
        m.to_device::<Autodiff<NdArray>>(&device)
            .matmul_composed(Tensor::from_data(
                TensorData::new(vec![1.0f32; 4], [2, 2]),
                &device,
            ));
        assert_eq!(uploads(), 2, "a second backend gets its own tensors");
    }

    /// The fused product and its hand-written gradient agree with the tensor-op version
    /// (a non-square matrix with a repeated entry and an empty row).
    #[test]
    fn the_fused_product_and_gradient_match_the_composed_ones() {
        type B = Autodiff<NdArray>;
        let device = NdArrayDevice::Cpu;
        let m = SparseMatrix::new(
            3,
            4,
            vec![
                (0, 3, 0.5),
                (0, 1, -1.0),
                (2, 0, 2.0),
                (0, 3, 0.25),
                (2, 2, 1.0),
            ],
        );
        let values: Vec<f32> = (0..12).map(|v| v as f32 * 0.1 - 0.4).collect();
        let x = || {
            Tensor::<B, 2>::from_data(TensorData::new(values.clone(), [4, 3]), &device)
                .require_grad()
        };
        let weights = Tensor::<B, 2>::from_data(
            TensorData::new((0..9).map(|v| v as f32 - 3.0).collect::<Vec<f32>>(), [3, 3]),
            &device,
        );
        let run = |fused: bool| {
            let x = x();
            let sparse = m.to_device::<B>(&device);
            let y = if fused {
                sparse.matmul(x.clone())
            } else {
                sparse.matmul_composed(x.clone())
            };
            let loss = (y.clone() * weights.clone()).sum();
            let grads = loss.backward();
            let grad = x
                .grad(&grads)
                .unwrap()
                .into_data()
                .into_vec::<f32>()
                .unwrap();
            (y.into_data().into_vec::<f32>().unwrap(), grad)
        };
        let (fused, composed) = (run(true), run(false));
        for (a, b) in fused
            .0
            .iter()
            .zip(&composed.0)
            .chain(fused.1.iter().zip(&composed.1))
        {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        assert_eq!(fused.1.len(), 12);
    }
}
