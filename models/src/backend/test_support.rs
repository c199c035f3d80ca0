//! Helpers the CPU ops' tests share.

use burn::backend::NdArray;
use burn::tensor::Tensor;

/// A CPU tensor's values, row-major.
pub fn values(t: Tensor<NdArray, 2>) -> Vec<f32> {
    t.into_data().into_vec::<f32>().unwrap()
}

/// Asserts `ours` equals `reference` within 1e-4 relative (plus 1e-4 absolute).
pub fn assert_close(ours: &[f32], reference: &[f32], what: &str) {
    assert_eq!(ours.len(), reference.len(), "{what}");
    for (i, (x, y)) in ours.iter().zip(reference).enumerate() {
        assert!(
            (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
            "{what}[{i}]: {x} against the reference's {y}"
        );
    }
}
