//! A 2-D picture of the embeddings: their projection on the first two principal
//! components (power iteration with deflation on an even sample of the rows, then one
//! product for every row).
//!
//! PCA rather than t-SNE or UMAP: it is deterministic, linear (distances along the two
//! axes mean the same everywhere), and costs a few matrix products even for 40,000
//! entities. Clusters that only a non-linear map would separate stay overlapped.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::graph::int_tensor;
use crate::ops::to_host;

/// Power-iteration steps per component.
const ITERATIONS: usize = 50;
/// Rows the components are estimated from at most (an even sample of the rows): the
/// plane of 4,096 rows is that of all of them up to sampling noise, at a fraction of the
/// cost; every row is then projected on it.
const SAMPLE_ROWS: usize = 4096;

/// Each row of `x` (`N x D`) projected on the first two principal components of the rows:
/// `N` points `[pc1, pc2]`. Signs are fixed so that each component's largest loading is
/// positive, so the picture does not flip between runs of the same model.
pub fn principal_plane<B: Backend>(x: Tensor<B, 2>) -> Vec<[f32; 2]> {
    let [n, d] = x.dims();
    if n == 0 || d == 0 {
        return Vec::new();
    }
    let device = x.device();
    let stride = n.div_ceil(SAMPLE_ROWS);
    let sample = x.clone().select(
        0,
        int_tensor::<B>((0..n).step_by(stride).map(|i| i as u32), &device),
    );
    let (rows, _, mut values) = to_host(sample);
    let mut mean = vec![0.0f32; d];
    for row in values.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v / rows as f32;
        }
    }
    for row in values.chunks_exact_mut(d) {
        for (v, m) in row.iter_mut().zip(&mean) {
            *v -= m;
        }
    }
    let mut components: Vec<Vec<f32>> = Vec::new();
    for k in 0..2 {
        // A fixed start that is not orthogonal to any axis.
        let mut v: Vec<f32> = (0..d)
            .map(|i| 1.0 + ((i * 7 + k * 13) % 11) as f32 / 10.0)
            .collect();
        normalise(&mut v);
        for _ in 0..ITERATIONS {
            // w = Xᵀ (X v), then take out the components already found.
            let t: Vec<f32> = values.chunks_exact(d).map(|row| dot(row, &v)).collect();
            let mut w = vec![0.0f32; d];
            for (row, &ti) in values.chunks_exact(d).zip(&t) {
                for (wj, xj) in w.iter_mut().zip(row) {
                    *wj += ti * xj;
                }
            }
            for u in &components {
                let overlap = dot(u, &w);
                for (wj, uj) in w.iter_mut().zip(u) {
                    *wj -= overlap * uj;
                }
            }
            normalise(&mut w);
            v = w;
        }
        // Sign convention: the largest loading is positive.
        let largest = v
            .iter()
            .fold(0.0f32, |b, &x| if x.abs() > b.abs() { x } else { b });
        if largest < 0.0 {
            v.iter_mut().for_each(|x| *x = -*x);
        }
        components.push(v);
    }
    let basis: Vec<f32> = (0..d)
        .flat_map(|j| [components[0][j], components[1][j]])
        .collect();
    let offsets = [dot(&mean, &components[0]), dot(&mean, &components[1])];
    let basis = Tensor::<B, 2>::from_data(TensorData::new(basis, [d, 2]), &device);
    let (_, _, scores) = to_host(x.matmul(basis));
    scores
        .chunks_exact(2)
        .map(|p| [p[0] - offsets[0], p[1] - offsets[1]])
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn normalise(v: &mut [f32]) {
    let norm = dot(v, v).sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
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
        plane_of(200);
    }

    /// The same with more rows than the sample the components are estimated from.
    #[test]
    fn recovers_the_plane_from_a_sample_of_many_rows() {
        plane_of(3 * SAMPLE_ROWS + 17);
    }

    fn plane_of(n: usize) {
        let device = NdArrayDevice::Cpu;
        let axis_a = [0.6f32, 0.0, 0.8, 0.0, 0.0, 0.0];
        let axis_b = [0.0f32, 0.0, 0.0, 0.0, 0.6, -0.8];
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
