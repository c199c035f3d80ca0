//! Backend-specific implementations of the graph layers.
//!
//! [`GraphBackend::reflection_layer`] has a generic default written with Burn tensor ops
//! (used on CUDA, where those ops are fast and memory is plentiful). The CPU backend
//! (ndarray, with and without autodiff) uses the fused host kernel of
//! [`crate::kernels::reflection`], with a hand-written backward pass, so no
//! pairs x width tensor is ever built. [`GraphBackend::sparse_matmul`] likewise: tensor
//! ops by default, the fused kernel of [`crate::kernels::spmm`] on the CPU backend.
//! [`GraphBackend::low_rank_fusion`]: tensor ops by default, row blocks with a backward
//! pass that recomputes them on the CPU backend ([`low_rank`]).
//! [`GraphBackend::cat_columns`]: Burn's `cat` by default, one row-major copy on the CPU
//! backend ([`columns`]). [`GraphBackend::similarity_matrix`]: Burn's `matmul` in row
//! blocks by default, one `gemm` product on the CPU backend ([`dense`]).
//! [`GraphBackend::matrix_product`]: Burn's `matmul` by default, `gemm` reading both
//! operands through their strides on the CPU backend ([`matmul`]).

pub mod columns;
pub mod dense;
pub mod low_rank;
mod matmul;
mod sparse;
#[cfg(test)]
mod test_support;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ndarray::NdArrayDevice;
use burn::backend::{Autodiff, NdArray};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData, TensorMetadata, TensorPrimitive};
use std::borrow::Cow;
use std::sync::Arc;

use crate::eval::{DenseSimilarity, EmbeddingSimilarity};
use crate::graph::GraphTensors;
use crate::kernels::reflection::{self, KernelGraph};
use crate::ops::{scatter_rows, segment_softmax, to_host};
use crate::sparse::DeviceSparse;
use low_rank::LowRankInputs;

/// A backend the alignment models run on.
pub trait GraphBackend: Backend {
    /// One relational reflection attention layer before its activation (see
    /// [`crate::kernels::reflection`] for the formula): `h` is `N x d`, `relations` the
    /// `2R x d` relation table, `attention` the layer's `d x 1` vector (LoginMEA: the
    /// logit reads the relation) or `2d x 1` (RREA: relation and reflected neighbour).
    fn reflection_layer(
        h: Tensor<Self, 2>,
        relations: Tensor<Self, 2>,
        attention: Tensor<Self, 2>,
        graph: &GraphTensors<Self>,
    ) -> Tensor<Self, 2> {
        reflection_layer_composed(h, relations, attention, graph)
    }

    /// `matrix · x`, a sparse `rows x cols` matrix times a dense `cols x d` one.
    fn sparse_matmul(matrix: &DeviceSparse<Self>, x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        matrix.matmul_composed(x)
    }

    /// Low-rank fusion (see [`low_rank`]).
    fn low_rank_fusion(inputs: LowRankInputs<Self>) -> Tensor<Self, 2> {
        inputs.composed()
    }

    /// Matrices with the same rows side by side (`Tensor::cat(parts, 1)`).
    fn cat_columns(parts: Vec<Tensor<Self, 2>>) -> Tensor<Self, 2> {
        Tensor::cat(parts, 1)
    }

    /// `lhs · rhs` (`m x k` and `k x n`); either may be a transposed or sliced view.
    fn matrix_product(lhs: Tensor<Self, 2>, rhs: Tensor<Self, 2>) -> Tensor<Self, 2> {
        lhs.matmul(rhs)
    }

    /// The held `q x c` similarity matrix of unit rows `queries` (`q x d`) and
    /// `candidates` (`c x d`), computed `block_rows` queries at a time where blocks apply.
    fn similarity_matrix(
        queries: Tensor<Self, 2>,
        candidates: Tensor<Self, 2>,
        block_rows: usize,
    ) -> DenseSimilarity {
        DenseSimilarity::collect(&mut EmbeddingSimilarity::new(
            queries, candidates, block_rows,
        ))
    }
}

/// The reflection layer written with tensor ops (any backend, autodiff by Burn).
pub fn reflection_layer_composed<B: Backend>(
    h: Tensor<B, 2>,
    relations: Tensor<B, 2>,
    attention: Tensor<B, 2>,
    graph: &GraphTensors<B>,
) -> Tensor<B, 2> {
    let units = crate::loginmea::pair_relation_vectors(relations, graph);
    let neighbours = h.select(0, graph.tails.clone());
    let messages = crate::loginmea::reflect(neighbours, units.clone());
    let d = units.dims()[1];
    let logits = if attention.dims()[0] == 2 * d {
        units.matmul(attention.clone().slice([0..d, 0..1]))
            + messages.clone().matmul(attention.slice([d..2 * d, 0..1]))
    } else {
        units.matmul(attention)
    };
    let weights = segment_softmax(logits, graph.heads.clone(), graph.entity_count);
    scatter_rows(graph.entity_count, graph.heads.clone(), messages * weights)
}

/// A CPU tensor's values in row-major order: borrowed where the tensor is laid out
/// contiguously (no copy; the usual case), copied otherwise. Burn's `into_data` copies
/// element by element through a generic iterator whenever the tensor is shared, as the
/// ones autodiff keeps always are (a tenth of a LoginMEA epoch went there).
pub(crate) fn host(tensor: &CpuTensor) -> Cow<'_, [f32]> {
    if let burn::backend::ndarray::NdArrayTensor::F32(storage) = tensor {
        let view = storage.view();
        return match view.to_slice() {
            Some(values) => Cow::Borrowed(values),
            None => Cow::Owned(view.iter().copied().collect()),
        };
    }
    Cow::Owned(
        to_host(Tensor::<NdArray, 2>::from_primitive(
            TensorPrimitive::Float(tensor.clone()),
        ))
        .2,
    )
}

pub(crate) type CpuTensor = burn::backend::ndarray::NdArrayTensor;

/// The fused forward pass on CPU tensors: `h` is `N x d`.
fn fused_forward(
    graph: &KernelGraph,
    h: CpuTensor,
    relations: CpuTensor,
    attention: CpuTensor,
) -> CpuTensor {
    let shape = h.shape();
    let (n, d) = (shape[0], shape[1]);
    let out = reflection::forward(graph, &host(&h), &host(&relations), &host(&attention), d);
    device_tensor::<NdArray>(out, [n, d], &NdArrayDevice::Cpu)
}

pub(crate) fn device_tensor<B: Backend>(
    values: Vec<f32>,
    shape: [usize; 2],
    device: &B::Device,
) -> B::FloatTensorPrimitive {
    Tensor::<B, 2>::from_data(TensorData::new(values, shape), device)
        .into_primitive()
        .tensor()
}

impl GraphBackend for NdArray {
    fn reflection_layer(
        h: Tensor<Self, 2>,
        relations: Tensor<Self, 2>,
        attention: Tensor<Self, 2>,
        graph: &GraphTensors<Self>,
    ) -> Tensor<Self, 2> {
        let out = fused_forward(
            &graph.kernel,
            h.into_primitive().tensor(),
            relations.into_primitive().tensor(),
            attention.into_primitive().tensor(),
        );
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    fn sparse_matmul(matrix: &DeviceSparse<Self>, x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        sparse::cpu(matrix.kernel(), x)
    }

    fn low_rank_fusion(inputs: LowRankInputs<Self>) -> Tensor<Self, 2> {
        low_rank::cpu(inputs)
    }

    fn cat_columns(parts: Vec<Tensor<Self, 2>>) -> Tensor<Self, 2> {
        columns::cpu(parts)
    }

    fn matrix_product(lhs: Tensor<Self, 2>, rhs: Tensor<Self, 2>) -> Tensor<Self, 2> {
        matmul::cpu(lhs, rhs)
    }

    fn similarity_matrix(
        queries: Tensor<Self, 2>,
        candidates: Tensor<Self, 2>,
        _block_rows: usize,
    ) -> DenseSimilarity {
        dense::cpu(queries, candidates)
    }
}

/// What the backward pass of the fused layer keeps: its inputs (already alive) and the
/// graph.
#[derive(Debug, Clone)]
struct ReflectionState<B: Backend> {
    h: B::FloatTensorPrimitive,
    relations: B::FloatTensorPrimitive,
    attention: B::FloatTensorPrimitive,
    graph: Arc<KernelGraph>,
}

#[derive(Debug)]
struct ReflectionBackward;

impl Backward<NdArray, 3> for ReflectionBackward {
    type State = ReflectionState<NdArray>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let state = ops.state;
        let grad_out = grads.consume::<NdArray>(&ops.node);
        let device = NdArrayDevice::Cpu;
        let relation_shape = state.relations.shape();
        let (r_rows, d) = (relation_shape[0], relation_shape[1]);
        let n = state.graph.entities;
        let (grad_h, grad_rel, grad_a) = reflection::backward(
            &state.graph,
            &host(&state.h),
            &host(&state.relations),
            &host(&state.attention),
            d,
            &host(&grad_out),
        );
        let [h_node, rel_node, a_node] = ops.parents;
        if let Some(node) = h_node {
            grads.register::<NdArray>(node.id, device_tensor::<NdArray>(grad_h, [n, d], &device));
        }
        if let Some(node) = rel_node {
            grads.register::<NdArray>(
                node.id,
                device_tensor::<NdArray>(grad_rel, [r_rows, d], &device),
            );
        }
        if let Some(node) = a_node {
            let rows = grad_a.len();
            grads.register::<NdArray>(
                node.id,
                device_tensor::<NdArray>(grad_a, [rows, 1], &device),
            );
        }
    }
}

impl<C: CheckpointStrategy> GraphBackend for Autodiff<NdArray, C> {
    fn reflection_layer(
        h: Tensor<Self, 2>,
        relations: Tensor<Self, 2>,
        attention: Tensor<Self, 2>,
        graph: &GraphTensors<Self>,
    ) -> Tensor<Self, 2> {
        let (h, relations, attention) = (
            h.into_primitive().tensor(),
            relations.into_primitive().tensor(),
            attention.into_primitive().tensor(),
        );
        let out = fused_forward(
            &graph.kernel,
            h.primitive.clone(),
            relations.primitive.clone(),
            attention.primitive.clone(),
        );
        let result = match ReflectionBackward
            .prepare::<C>([
                h.node.clone(),
                relations.node.clone(),
                attention.node.clone(),
            ])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                ReflectionState {
                    h: h.primitive,
                    relations: relations.primitive,
                    attention: attention.primitive,
                    graph: graph.kernel.clone(),
                },
                out,
            ),
            OpsKind::UnTracked(prep) => prep.finish(out),
        };
        Tensor::from_primitive(TensorPrimitive::Float(result))
    }

    fn sparse_matmul(matrix: &DeviceSparse<Self>, x: Tensor<Self, 2>) -> Tensor<Self, 2> {
        sparse::autodiff::<C>(matrix.kernel(), x)
    }

    fn low_rank_fusion(inputs: LowRankInputs<Self>) -> Tensor<Self, 2> {
        low_rank::autodiff::<C>(inputs)
    }

    fn cat_columns(parts: Vec<Tensor<Self, 2>>) -> Tensor<Self, 2> {
        columns::autodiff::<C>(parts)
    }

    fn matrix_product(lhs: Tensor<Self, 2>, rhs: Tensor<Self, 2>) -> Tensor<Self, 2> {
        matmul::autodiff::<C>(lhs, rhs)
    }
}

/// The tensor-op paths on the CPU (see [`crate::compute::ComputeDevice::CpuTensorOps`]).
#[cfg(feature = "cpu-tensor-ops")]
impl GraphBackend for burn::backend::Flex {}

#[cfg(feature = "cpu-tensor-ops")]
impl<C: CheckpointStrategy> GraphBackend for Autodiff<burn::backend::Flex, C> {}

#[cfg(feature = "cuda")]
impl GraphBackend for burn::backend::Cuda {}

#[cfg(feature = "cuda")]
impl<C: CheckpointStrategy> GraphBackend for Autodiff<burn::backend::Cuda, C> {}
