//! Side-by-side concatenation of matrices with the same rows, on the CPU backend in one
//! copy. Burn's ndarray `cat` along columns builds a column-major array and then copies
//! it again into row-major order, each time into freshly faulted-in pages (a quarter of
//! LoginMEA's evaluation forward pass went there); here every output row is written
//! once, row blocks in parallel. The backward pass hands each input its column range of
//! the gradient, again one copy.

use burn::backend::Autodiff;
use burn::backend::NdArray;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ndarray::NdArrayDevice;
use burn::tensor::{Tensor, TensorMetadata, TensorPrimitive};
use rayon::prelude::*;

use super::{CpuTensor, device_tensor, host};

/// Rows per parallel task.
const BLOCK_ROWS: usize = 512;

/// The row-major `rows x sum(widths)` matrix whose columns are `parts` side by side
/// (`parts[i]` is `rows x widths[i]`, row-major).
pub fn concat_host(parts: &[&[f32]], widths: &[usize], rows: usize) -> Vec<f32> {
    let total: usize = widths.iter().sum();
    let mut out = vec![0.0f32; rows * total];
    if total == 0 {
        return out;
    }
    out.par_chunks_mut(BLOCK_ROWS * total)
        .enumerate()
        .for_each(|(block, chunk)| {
            let first = block * BLOCK_ROWS;
            for (offset, row) in chunk.chunks_exact_mut(total).enumerate() {
                let i = first + offset;
                let mut at = 0;
                for (part, &w) in parts.iter().zip(widths) {
                    row[at..at + w].copy_from_slice(&part[i * w..(i + 1) * w]);
                    at += w;
                }
            }
        });
    out
}

/// Columns `start..start + width` of the row-major `rows x total` matrix `values`.
pub fn column_range(
    values: &[f32],
    rows: usize,
    total: usize,
    start: usize,
    width: usize,
) -> Vec<f32> {
    let mut out = vec![0.0f32; rows * width];
    if width == 0 {
        return out;
    }
    out.par_chunks_mut(BLOCK_ROWS * width)
        .enumerate()
        .for_each(|(block, chunk)| {
            let first = block * BLOCK_ROWS;
            for (offset, row) in chunk.chunks_exact_mut(width).enumerate() {
                let i = first + offset;
                row.copy_from_slice(&values[i * total + start..i * total + start + width]);
            }
        });
    out
}

/// The concatenation of CPU tensors with the same number of rows.
fn concat(parts: &[CpuTensor]) -> CpuTensor {
    let rows = parts[0].shape()[0];
    let widths: Vec<usize> = parts.iter().map(|p| p.shape()[1]).collect();
    let values: Vec<_> = parts.iter().map(host).collect();
    let slices: Vec<&[f32]> = values.iter().map(|v| v.as_ref()).collect();
    let out = concat_host(&slices, &widths, rows);
    device_tensor::<NdArray>(out, [rows, widths.iter().sum()], &NdArrayDevice::Cpu)
}

/// Whether `parts` can go through the host op: two or more matrices with equal rows.
fn same_rows<B: burn::tensor::backend::Backend>(parts: &[Tensor<B, 2>]) -> bool {
    parts.len() >= 2 && parts.iter().all(|p| p.dims()[0] == parts[0].dims()[0])
}

/// Concatenation along columns on the plain CPU backend.
pub(super) fn cpu(parts: Vec<Tensor<NdArray, 2>>) -> Tensor<NdArray, 2> {
    if !same_rows(&parts) {
        return Tensor::cat(parts, 1);
    }
    let primitives: Vec<CpuTensor> = parts
        .into_iter()
        .map(|p| p.into_primitive().tensor())
        .collect();
    Tensor::from_primitive(TensorPrimitive::Float(concat(&primitives)))
}

/// The widths of the concatenated inputs, all the backward pass needs.
#[derive(Debug)]
struct ColumnsBackward<const N: usize>;

impl<const N: usize> Backward<NdArray, N> for ColumnsBackward<N> {
    type State = [usize; N];

    fn backward(
        self,
        ops: Ops<Self::State, N>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<NdArray>(&ops.node);
        let rows = grad.shape()[0];
        let widths = ops.state;
        let total: usize = widths.iter().sum();
        let values = host(&grad);
        let mut start = 0;
        for (parent, width) in ops.parents.into_iter().zip(widths) {
            if let Some(node) = parent {
                let part = column_range(&values, rows, total, start, width);
                grads.register::<NdArray>(
                    node.id,
                    device_tensor::<NdArray>(part, [rows, width], &NdArrayDevice::Cpu),
                );
            }
            start += width;
        }
    }
}

/// Concatenation of exactly `N` tracked tensors.
fn tracked<const N: usize, C: CheckpointStrategy>(
    parts: Vec<Tensor<Autodiff<NdArray, C>, 2>>,
) -> Tensor<Autodiff<NdArray, C>, 2> {
    let primitives: Vec<_> = parts
        .into_iter()
        .map(|p| p.into_primitive().tensor())
        .collect();
    let inner: Vec<CpuTensor> = primitives.iter().map(|p| p.primitive.clone()).collect();
    let widths: [usize; N] = std::array::from_fn(|i| inner[i].shape()[1]);
    let out = concat(&inner);
    let nodes = std::array::from_fn(|i| primitives[i].node.clone());
    let result = match ColumnsBackward::<N>
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(widths, out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::from_primitive(TensorPrimitive::Float(result))
}

/// Concatenation along columns on the autodiff CPU backend: the host op for two to six
/// parts (every model's case), Burn's `cat` otherwise.
pub(super) fn autodiff<C: CheckpointStrategy>(
    parts: Vec<Tensor<Autodiff<NdArray, C>, 2>>,
) -> Tensor<Autodiff<NdArray, C>, 2> {
    if !same_rows(&parts) {
        return Tensor::cat(parts, 1);
    }
    match parts.len() {
        2 => tracked::<2, C>(parts),
        3 => tracked::<3, C>(parts),
        4 => tracked::<4, C>(parts),
        5 => tracked::<5, C>(parts),
        6 => tracked::<6, C>(parts),
        _ => Tensor::cat(parts, 1),
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::rng::SeededRng;

    type Train = Autodiff<NdArray>;

    fn random(rng: &mut SeededRng, rows: usize, cols: usize) -> Tensor<Train, 2> {
        crate::rng::tracked_normal(rng, rows, cols, 1.0)
    }

    fn values<B: burn::tensor::backend::Backend>(t: Tensor<B, 2>) -> Vec<f32> {
        t.into_data().to_vec().expect("f32 values")
    }

    #[test]
    fn concatenation_and_its_gradients_equal_burns_cat() {
        let mut rng = SeededRng::new(5);
        // More rows than one block, widths that differ, one input transposed (not
        // contiguous).
        for count in [2usize, 3, 6, 7] {
            let rows = BLOCK_ROWS + 37;
            let leaves: Vec<Tensor<Train, 2>> = (0..count)
                .map(|i| {
                    if i == 1 {
                        random(&mut rng, 3, rows)
                    } else {
                        random(&mut rng, rows, 2 + i)
                    }
                })
                .collect();
            // The reference gets leaves of its own: a backward pass consumes the graph.
            let twins: Vec<Tensor<Train, 2>> = leaves
                .iter()
                .map(|l| Tensor::from_data(l.to_data(), &NdArrayDevice::Cpu).require_grad())
                .collect();
            let arrange = |leaves: &[Tensor<Train, 2>]| -> Vec<Tensor<Train, 2>> {
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, l)| {
                        if i == 1 {
                            l.clone().transpose()
                        } else {
                            l.clone()
                        }
                    })
                    .collect()
            };
            let (parts, twin_parts) = (arrange(&leaves), arrange(&twins));
            let weights = random(&mut rng, rows, parts.iter().map(|p| p.dims()[1]).sum());
            let ours = autodiff(parts);
            let reference = Tensor::cat(twin_parts, 1);
            assert_eq!(values(ours.clone()), values(reference.clone()));
            let grads_ours = (ours * weights.clone().detach()).sum().backward();
            let grads_ref = (reference * weights.detach()).sum().backward();
            for (leaf, twin) in leaves.iter().zip(&twins) {
                let g = leaf
                    .grad(&grads_ours)
                    .expect("a gradient reaches every part");
                let r = twin.grad(&grads_ref).expect("reference gradient");
                assert_eq!(values(g), values(r), "{count} parts");
            }
        }
        let plain: Vec<Tensor<NdArray, 2>> = vec![
            random(&mut rng, 4, 2).inner(),
            random(&mut rng, 4, 3).inner(),
        ];
        assert_eq!(
            values(cpu(plain.clone())),
            values(Tensor::cat(plain, 1)),
            "the plain backend's op"
        );
    }
}
