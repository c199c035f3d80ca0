//! A 2-D picture of the embeddings: their projection on the first two principal
//! components (power iteration with deflation, on the device).
//!
//! PCA rather than t-SNE or UMAP: it is deterministic, linear (distances along the two
//! axes mean the same everywhere), and costs a few matrix products even for 40,000
//! entities. Clusters that only a non-linear map would separate stay overlapped.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

/// Power-iteration steps per component.
const ITERATIONS: usize = 60;

/// Each row of `x` (`N x D`) projected on the first two principal components of the rows:
/// `N` points `[pc1, pc2]`. Signs are fixed so that each component's largest loading is
/// positive, so the picture does not flip between runs of the same model.
pub fn principal_plane<B: Backend>(x: Tensor<B, 2>) -> Vec<[f32; 2]> {
    let [n, d] = x.dims();
    if n == 0 || d == 0 {
        return Vec::new();
    }
    let device = x.device();
    let centred = x.clone() - x.mean_dim(0);
    let mut components: Vec<Tensor<B, 2>> = Vec::new();
    for k in 0..2 {
        // A fixed start that is not orthogonal to any axis.
        let start: Vec<f32> = (0..d)
            .map(|i| 1.0 + ((i * 7 + k * 13) % 11) as f32 / 10.0)
            .collect();
        let mut v = normalised(Tensor::<B, 2>::from_data(
            TensorData::new(start, [d, 1]),
            &device,
        ));
        for _ in 0..ITERATIONS {
            let mut w = centred
                .clone()
                .transpose()
                .matmul(centred.clone().matmul(v.clone()));
            for u in &components {
                let overlap = u.clone().transpose().matmul(w.clone());
                w = w - u.clone().matmul(overlap);
            }
            v = normalised(w);
        }
        components.push(v);
    }
    let mut basis = Tensor::cat(components, 1);
    // Sign convention: the largest loading of each component is positive.
    let (_, _, loadings) = crate::ops::to_host(basis.clone());
    let signs: Vec<f32> = (0..2)
        .map(|c| {
            let column = (0..d).map(|r| loadings[r * 2 + c]);
            let largest = column.fold(
                0.0f32,
                |best, x| if x.abs() > best.abs() { x } else { best },
            );
            if largest < 0.0 { -1.0 } else { 1.0 }
        })
        .collect();
    basis = basis * Tensor::<B, 2>::from_data(TensorData::new(signs, [1, 2]), &device);
    let (_, _, scores) = crate::ops::to_host(centred.matmul(basis));
    scores.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}

fn normalised<B: Backend>(v: Tensor<B, 2>) -> Tensor<B, 2> {
    let norm = v.clone().powi_scalar(2).sum().sqrt().clamp_min(1e-12);
    v / norm.unsqueeze::<2>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::NdArray;
    use burn::backend::ndarray::NdArrayDevice;

    /// Points spread 3:1 along two known directions of a 6-D space, plus a little noise:
    /// the projection must recover the two coordinates (up to sign) in that order.
    #[test]
    fn recovers_the_plane_of_largest_variance() {
        let device = NdArrayDevice::Cpu;
        let axis_a = [0.6f32, 0.0, 0.8, 0.0, 0.0, 0.0];
        let axis_b = [0.0f32, 0.0, 0.0, 0.0, 0.6, -0.8];
        let n = 200;
        let mut rows = Vec::with_capacity(n * 6);
        let mut truth = Vec::with_capacity(n);
        for i in 0..n {
            let a = 3.0 * (((i * 37) % 101) as f32 / 50.0 - 1.0);
            let b = ((i * 53) % 97) as f32 / 48.0 - 1.0;
            let noise = ((i * 17) % 13) as f32 / 1300.0;
            truth.push((a, b));
            for j in 0..6 {
                rows.push(5.0 + a * axis_a[j] + b * axis_b[j] + noise * (j as f32 - 2.5));
            }
        }
        let x = Tensor::<NdArray, 2>::from_data(TensorData::new(rows, [n, 6]), &device);
        let points = principal_plane(x);
        assert_eq!(points.len(), n);
        let correlation = |f: &dyn Fn(usize) -> (f32, f32)| {
            let (xs, ys): (Vec<f32>, Vec<f32>) = (0..n).map(f).unzip();
            let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
            let (mx, my) = (mean(&xs), mean(&ys));
            let cov: f32 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
            let vx: f32 = xs.iter().map(|x| (x - mx).powi(2)).sum();
            let vy: f32 = ys.iter().map(|y| (y - my).powi(2)).sum();
            cov / (vx * vy).sqrt()
        };
        let first = correlation(&|i| (points[i][0], truth[i].0));
        let second = correlation(&|i| (points[i][1], truth[i].1));
        assert!(first.abs() > 0.999, "first component: correlation {first}");
        assert!(
            second.abs() > 0.99,
            "second component: correlation {second}"
        );
        let spread = |c: usize| points.iter().map(|p| p[c] * p[c]).sum::<f32>();
        assert!(
            spread(0) > spread(1),
            "the first component carries more variance"
        );
    }

    #[test]
    fn no_rows_no_points() {
        let x = Tensor::<NdArray, 2>::zeros([0, 4], &NdArrayDevice::Cpu);
        assert!(principal_plane(x).is_empty());
    }
}
