//! The fused sparse product on the CPU backend, with and without autodiff: the forward
//! pass multiplies on the host with [`crate::kernels::spmm`], the backward pass
//! multiplies the incoming gradient by the transpose (the matrix itself is a constant).

use std::sync::Arc;

use burn::backend::Autodiff;
use burn::backend::NdArray;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ndarray::NdArrayDevice;
use burn::tensor::{Tensor, TensorMetadata, TensorPrimitive};

use super::{CpuTensor, device_tensor, host};
use crate::kernels::spmm::{CompressedRows, SparseKernel};

/// `matrix · x` on CPU tensors.
fn multiply(matrix: &CompressedRows, x: CpuTensor) -> CpuTensor {
    let width = x.shape()[1];
    let out = matrix.multiply(&host(&x), width);
    device_tensor::<NdArray>(out, [matrix.rows, width], &NdArrayDevice::Cpu)
}

/// The fused product on the plain CPU backend.
pub(super) fn cpu(kernel: &SparseKernel, x: Tensor<NdArray, 2>) -> Tensor<NdArray, 2> {
    let out = multiply(&kernel.forward, x.into_primitive().tensor());
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

#[derive(Debug)]
struct SparseBackward;

impl Backward<NdArray, 1> for SparseBackward {
    type State = Arc<SparseKernel>;

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad_out = grads.consume::<NdArray>(&ops.node);
        let [x_node] = ops.parents;
        if let Some(node) = x_node {
            grads.register::<NdArray>(node.id, multiply(&ops.state.transposed, grad_out));
        }
    }
}

/// The fused product on the autodiff CPU backend.
pub(super) fn autodiff<C: CheckpointStrategy>(
    kernel: &Arc<SparseKernel>,
    x: Tensor<Autodiff<NdArray, C>, 2>,
) -> Tensor<Autodiff<NdArray, C>, 2> {
    let x = x.into_primitive().tensor();
    let out = multiply(&kernel.forward, x.primitive.clone());
    let result = match SparseBackward
        .prepare::<C>([x.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(kernel.clone(), out),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::from_primitive(TensorPrimitive::Float(result))
}
