//! Matrix products of CPU tensors through `gemm`, both operands read through their
//! strides. Burn's ndarray `matmul` reshapes each operand to a batch of one, which copies
//! a transposed or column-sliced operand (every `a · bᵀ` of the losses, the backward
//! pass's `gradᵀ · x`) into fresh memory, and runs one batch on one core; here no operand
//! is copied and the product uses every core. The backward pass of `c = a · b` is two
//! more such products, `∂a = ∂c · bᵀ` and `∂b = aᵀ · ∂c`, again reading strides.

use burn::backend::Autodiff;
use burn::backend::NdArray;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::ndarray::{NdArrayDevice, NdArrayTensor};
use burn::tensor::{Tensor, TensorMetadata, TensorPrimitive};

use super::{CpuTensor, device_tensor, host};

/// A matrix in memory: its first element and the distance (in elements) between
/// neighbouring rows and columns.
#[derive(Debug, Clone, Copy)]
pub(super) struct Strided {
    ptr: *const f32,
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl Strided {
    /// A `rows x cols` matrix stored row after row from `ptr`.
    pub(super) fn row_major(ptr: *const f32, rows: usize, cols: usize) -> Self {
        Self {
            ptr,
            rows,
            cols,
            row_stride: cols as isize,
            col_stride: 1,
        }
    }

    /// The same memory read as the transposed matrix.
    pub(super) fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }
}

/// `a · b` as a row-major `a.rows x b.cols` matrix.
///
/// # Safety
/// Both operands must describe live memory: every `(i, j)` in range at
/// `ptr + i * row_stride + j * col_stride`.
pub(super) unsafe fn product(a: Strided, b: Strided) -> Vec<f32> {
    assert_eq!(
        a.cols, b.rows,
        "matrix product of {}x{} and {}x{}",
        a.rows, a.cols, b.rows, b.cols
    );
    let (m, n, k) = (a.rows, b.cols, a.cols);
    let mut out = vec![0.0f32; m * n];
    if m == 0 || n == 0 || k == 0 {
        return out;
    }
    // SAFETY: `out` is `m x n` row-major (column stride 1, row stride `n`) and does not
    // overlap the operands, which the caller vouches for.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.ptr,
            a.col_stride,
            a.row_stride,
            b.ptr,
            b.col_stride,
            b.row_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::Rayon(0),
        );
    }
    out
}

/// Runs `f` on a 2-D CPU tensor seen as a strided matrix (an `f32` tensor is read in
/// place, any other element type converted first).
fn with_strided<R>(tensor: &CpuTensor, f: impl FnOnce(Strided) -> R) -> R {
    let shape = tensor.shape();
    let (rows, cols) = (shape[0], shape[1]);
    if let NdArrayTensor::F32(storage) = tensor {
        let view = storage.view();
        let strides = view.strides();
        return f(Strided {
            ptr: view.as_ptr(),
            rows,
            cols,
            row_stride: strides[0],
            col_stride: strides[1],
        });
    }
    let values = host(tensor);
    f(Strided::row_major(values.as_ptr(), rows, cols))
}

/// `a · b` of CPU tensors, each optionally read transposed.
fn product_of(a: &CpuTensor, transpose_a: bool, b: &CpuTensor, transpose_b: bool) -> CpuTensor {
    with_strided(a, |a| {
        with_strided(b, |b| {
            let a = if transpose_a { a.t() } else { a };
            let b = if transpose_b { b.t() } else { b };
            // SAFETY: both views borrow tensors that outlive this call.
            let values = unsafe { product(a, b) };
            device_tensor::<NdArray>(values, [a.rows, b.cols], &NdArrayDevice::Cpu)
        })
    })
}

/// `lhs · rhs` on the CPU backend.
pub(crate) fn cpu(lhs: Tensor<NdArray, 2>, rhs: Tensor<NdArray, 2>) -> Tensor<NdArray, 2> {
    let out = product_of(
        &lhs.into_primitive().tensor(),
        false,
        &rhs.into_primitive().tensor(),
        false,
    );
    Tensor::from_primitive(TensorPrimitive::Float(out))
}

/// What the backward pass keeps: both operands (alive anyway as the op's parents).
#[derive(Debug, Clone)]
struct ProductState {
    lhs: CpuTensor,
    rhs: CpuTensor,
}

#[derive(Debug)]
struct ProductBackward;

impl Backward<NdArray, 2> for ProductBackward {
    type State = ProductState;

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<NdArray>(&ops.node);
        let [lhs_node, rhs_node] = ops.parents;
        if let Some(node) = lhs_node {
            grads.register::<NdArray>(node.id, product_of(&grad, false, &ops.state.rhs, true));
        }
        if let Some(node) = rhs_node {
            grads.register::<NdArray>(node.id, product_of(&ops.state.lhs, true, &grad, false));
        }
    }
}

/// `lhs · rhs` with its backward pass (autodiff over the CPU backend).
pub(crate) fn autodiff<C: CheckpointStrategy>(
    lhs: Tensor<Autodiff<NdArray, C>, 2>,
    rhs: Tensor<Autodiff<NdArray, C>, 2>,
) -> Tensor<Autodiff<NdArray, C>, 2> {
    let (lhs, rhs) = (lhs.into_primitive().tensor(), rhs.into_primitive().tensor());
    let out = product_of(&lhs.primitive, false, &rhs.primitive, false);
    let result = match ProductBackward
        .prepare::<C>([lhs.node.clone(), rhs.node.clone()])
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => prep.finish(
            ProductState {
                lhs: lhs.primitive,
                rhs: rhs.primitive,
            },
            out,
        ),
        OpsKind::UnTracked(prep) => prep.finish(out),
    };
    Tensor::from_primitive(TensorPrimitive::Float(result))
}

#[cfg(test)]
mod tests {
    use burn::tensor::Tensor;

    use super::*;
    use crate::backend::test_support::{assert_close, values};
    use crate::rng::SeededRng;

    type Train = Autodiff<NdArray>;

    /// Products and gradients equal Burn's `matmul`, for plain, transposed and
    /// column-sliced operands, sizes past gemm's blocking.
    #[test]
    fn products_and_gradients_equal_burns_matmul() {
        let mut rng = SeededRng::new(5);
        let (m, k, n) = (301, 67, 129);
        let a = crate::rng::tracked_normal(&mut rng, m, k, 1.0);
        let b = crate::rng::tracked_normal(&mut rng, n, k + 9, 1.0);
        // `b` enters transposed and cut to `k` of its columns: neither is contiguous.
        let right = || b.clone().slice([0..n, 3..k + 3]).transpose();
        let probe = crate::rng::tracked_normal(&mut rng, m, n, 1.0).detach();
        let run = |out: Tensor<Train, 2>| {
            let forward = values(out.clone().inner());
            let grads = (out * probe.clone()).sum().backward();
            (
                forward,
                values(a.grad(&grads).expect("a gets a gradient")),
                values(b.grad(&grads).expect("b gets a gradient")),
            )
        };
        let ours = run(autodiff(a.clone(), right()));
        let burns = run(a.clone().matmul(right()));
        assert_close(&ours.0, &burns.0, "product");
        assert_close(&ours.1, &burns.1, "gradient of a");
        assert_close(&ours.2, &burns.2, "gradient of b");

        // Without autodiff, a transposed left operand.
        let (x, y) = (a.clone().inner().transpose(), a.clone().inner());
        assert_close(
            &values(cpu(x.clone(), y.clone())),
            &values(x.matmul(y)),
            "aᵀ · a",
        );
    }
}
