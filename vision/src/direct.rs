//! EfficientNet-Lite0 computed directly on the CPU, one image per thread: the encoder's
//! fast path where there is no GPU.
//!
//! The Burn backends run this network at batch 1 through general tensor kernels (a
//! generic convolution for the depthwise layers, an expanded batched matrix product for
//! the 1×1 ones) and use the cores inside each kernel, which on 7×7 to 112×112 feature
//! maps mostly waits. Here every image runs on one core from decode to feature, the
//! feature maps laid out channel-last (height × width × channels):
//!
//! - 1×1 convolutions are one matrix product `[pixels, in] × [in, out]` (the `gemm`
//!   crate's kernels, single-threaded), then one pass adding the bias (and ReLU6);
//! - depthwise k×k convolutions are a direct loop: per output pixel, 32 channels at a
//!   time summed over the kernel's taps in registers (channels are contiguous in both the
//!   input and the kernel, so this vectorises; with AVX2 where the CPU has it), ReLU6
//!   applied before the pixel leaves the cache;
//! - the 3×3 stem is the same loop over its 27 taps and 3 input channels.
//!
//! Padding is TensorFlow's "same" (the extra pixel of an even total at the bottom and
//! right), as in [`crate::efficientnet`]. Same weights (batch norms folded, from
//! [`crate::weights::read_folded`]), same function: the tests compare its features with
//! the Burn model's.

use crate::efficientnet::FEATURE_DIM;
use crate::preprocess::INPUT_SIZE;
use crate::weights::{FoldedConv, FoldedNet};

/// A feature map: `height × width × channels`, channel-last.
struct Map {
    height: usize,
    width: usize,
    channels: usize,
    values: Vec<f32>,
}

/// Output size and top/left padding of TensorFlow's "same" padding.
fn same(input: usize, kernel: usize, stride: usize) -> (usize, usize) {
    let output = input.div_ceil(stride);
    let total = ((output - 1) * stride + kernel).saturating_sub(input);
    (output, total / 2)
}

/// A 1×1 convolution as a matrix product.
struct Pointwise {
    input: usize,
    output: usize,
    /// `[out, in]`, as PyTorch stores it.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Pointwise {
    fn new(conv: &FoldedConv) -> Self {
        Self {
            input: conv.shape.input,
            output: conv.shape.output,
            weight: conv.weight.clone(),
            bias: conv.bias.clone(),
        }
    }

    /// The product plus the bias, clamped to [0, 6] where `relu6`.
    fn forward(&self, x: &Map, relu6: bool) -> Map {
        assert_eq!(x.channels, self.input, "pointwise input width");
        let pixels = x.height * x.width;
        let mut values = vec![0.0f32; pixels * self.output];
        // SAFETY: `values` is `pixels × output` (row stride `output`), `x.values` is
        // `pixels × input` (row stride `input`, checked above), and `weight` is
        // `output × input` read as its transpose `input × output` (row stride 1, column
        // stride `input`); every index the product touches lies inside those buffers,
        // which do not overlap.
        unsafe {
            gemm::gemm(
                pixels,
                self.output,
                self.input,
                values.as_mut_ptr(),
                1,
                self.output as isize,
                false,
                x.values.as_ptr(),
                1,
                self.input as isize,
                self.weight.as_ptr(),
                self.input as isize,
                1,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::None,
            );
        }
        for row in values.chunks_exact_mut(self.output) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                *v += b;
            }
            if relu6 {
                for v in row.iter_mut() {
                    *v = v.clamp(0.0, 6.0);
                }
            }
        }
        Map {
            height: x.height,
            width: x.width,
            channels: self.output,
            values,
        }
    }
}

/// A k×k convolution, depthwise (one filter per channel) or dense (the stem).
struct Spatial {
    kernel: usize,
    stride: usize,
    input: usize,
    output: usize,
    depthwise: bool,
    /// Depthwise: `[ky][kx][channel]`; dense: `[ky][kx][in][out]`.
    weight: Vec<f32>,
    bias: Vec<f32>,
}

impl Spatial {
    fn new(conv: &FoldedConv) -> Self {
        let s = conv.shape;
        let depthwise = s.groups > 1;
        let k = s.kernel;
        let mut weight = vec![0.0; conv.weight.len()];
        // PyTorch: [out][in / groups][ky][kx].
        let per_out = conv.weight.len() / s.output;
        for out in 0..s.output {
            for (i, &w) in conv.weight[out * per_out..(out + 1) * per_out]
                .iter()
                .enumerate()
            {
                let (cin, tap) = (i / (k * k), i % (k * k));
                let at = if depthwise {
                    tap * s.output + out
                } else {
                    (tap * s.input + cin) * s.output + out
                };
                weight[at] = w;
            }
        }
        Self {
            kernel: k,
            stride: s.stride,
            input: s.input,
            output: s.output,
            depthwise,
            weight,
            bias: conv.bias.clone(),
        }
    }

    /// The convolution, ReLU6 applied to each output pixel while it is in cache; with
    /// AVX2 where the CPU has it (the same arithmetic, eight lanes at a time).
    fn forward_relu6(&self, x: &Map) -> Map {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            return unsafe { self.forward_avx2(x) };
        }
        self.forward_portable(x)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn forward_avx2(&self, x: &Map) -> Map {
        self.forward_portable(x)
    }

    #[inline(always)]
    fn forward_portable(&self, x: &Map) -> Map {
        assert_eq!(x.channels, self.input, "convolution input width");
        let (k, stride) = (self.kernel, self.stride);
        let (height, top) = same(x.height, k, stride);
        let (width, left) = same(x.width, k, stride);
        let cout = self.output;
        let mut values = vec![0.0f32; height * width * cout];
        // Per output pixel, its (input pixel, kernel tap) pairs inside the input.
        let mut taps = Vec::with_capacity(k * k);
        for oy in 0..height {
            let y0 = (oy * stride).saturating_sub(top);
            let ky0 = (top + y0) - oy * stride;
            let rows = (k - ky0).min(x.height - y0);
            for ox in 0..width {
                let x0 = (ox * stride).saturating_sub(left);
                let kx0 = (left + x0) - ox * stride;
                let columns = (k - kx0).min(x.width - x0);
                taps.clear();
                for r in 0..rows {
                    for c in 0..columns {
                        taps.push(((y0 + r) * x.width + x0 + c, (ky0 + r) * k + kx0 + c));
                    }
                }
                let out = &mut values[(oy * width + ox) * cout..][..cout];
                self.pixel(out, &x.values, &taps);
            }
        }
        Map {
            height,
            width,
            channels: cout,
            values,
        }
    }

    /// One output pixel: bias plus every tap, then ReLU6; 32 output channels at a time
    /// held in registers (four independent 8-lane sums, so the additions overlap), then 8,
    /// then one.
    #[inline(always)]
    fn pixel(&self, out: &mut [f32], input: &[f32], taps: &[(usize, usize)]) {
        let cout = self.output;
        let mut start = 0;
        while start + 32 <= cout {
            self.channels::<32>(out, input, taps, start);
            start += 32;
        }
        while start + 8 <= cout {
            self.channels::<8>(out, input, taps, start);
            start += 8;
        }
        while start < cout {
            self.channels::<1>(out, input, taps, start);
            start += 1;
        }
    }

    /// Output channels `start..start + N` of one pixel.
    #[inline(always)]
    fn channels<const N: usize>(
        &self,
        out: &mut [f32],
        input: &[f32],
        taps: &[(usize, usize)],
        start: usize,
    ) {
        let (cin, cout) = (self.input, self.output);
        let mut acc = [0.0f32; N];
        acc.copy_from_slice(&self.bias[start..start + N]);
        for &(pixel, tap) in taps {
            if self.depthwise {
                let p: &[f32; N] = input[pixel * cin + start..][..N]
                    .try_into()
                    .unwrap_or(&[0.0; N]);
                let w: &[f32; N] = self.weight[tap * cout + start..][..N]
                    .try_into()
                    .unwrap_or(&[0.0; N]);
                for lane in 0..N {
                    acc[lane] += p[lane] * w[lane];
                }
            } else {
                for (c, &p) in input[pixel * cin..][..cin].iter().enumerate() {
                    let w: &[f32; N] = self.weight[(tap * cin + c) * cout + start..][..N]
                        .try_into()
                        .unwrap_or(&[0.0; N]);
                    for lane in 0..N {
                        acc[lane] += p * w[lane];
                    }
                }
            }
        }
        for (o, a) in out[start..start + N].iter_mut().zip(acc) {
            *o = a.clamp(0.0, 6.0);
        }
    }
}

struct Block {
    expand: Option<Pointwise>,
    depthwise: Spatial,
    project: Pointwise,
    residual: bool,
}

/// EfficientNet-Lite0 for the direct CPU path (features only).
pub struct DirectEfficientNet {
    stem: Spatial,
    blocks: Vec<Block>,
    head: Pointwise,
}

impl std::fmt::Debug for DirectEfficientNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectEfficientNet")
            .field("blocks", &self.blocks.len())
            .finish_non_exhaustive()
    }
}

impl DirectEfficientNet {
    /// The network of folded weights `net`.
    pub(crate) fn new(net: &FoldedNet) -> Self {
        Self {
            stem: Spatial::new(&net.stem),
            blocks: net
                .blocks
                .iter()
                .map(|b| Block {
                    expand: b.expand.as_ref().map(Pointwise::new),
                    depthwise: Spatial::new(&b.depthwise),
                    project: Pointwise::new(&b.project),
                    residual: b.residual,
                })
                .collect(),
            head: Pointwise::new(&net.head),
        }
    }

    /// The 1280-d feature of one preprocessed image (`3 × 224 × 224`, channel-first, as
    /// [`crate::preprocess`] makes it).
    pub fn features(&self, image: &[f32]) -> Vec<f32> {
        let side = INPUT_SIZE;
        let plane = side * side;
        let mut values = vec![0.0f32; 3 * plane];
        for (pixel, rgb) in values.chunks_exact_mut(3).enumerate() {
            for (channel, v) in rgb.iter_mut().enumerate() {
                *v = image[channel * plane + pixel];
            }
        }
        let input = Map {
            height: side,
            width: side,
            channels: 3,
            values,
        };
        let mut x = self.stem.forward_relu6(&input);
        for block in &self.blocks {
            let hidden = match &block.expand {
                Some(expand) => block.depthwise.forward_relu6(&expand.forward(&x, true)),
                None => block.depthwise.forward_relu6(&x),
            };
            let mut out = block.project.forward(&hidden, false);
            if block.residual {
                for (o, i) in out.values.iter_mut().zip(&x.values) {
                    *o += i;
                }
            }
            x = out;
        }
        let head = self.head.forward(&x, true);
        let pixels = (head.height * head.width) as f32;
        let mut feature = vec![0.0f32; FEATURE_DIM];
        for pixel in head.values.chunks_exact(FEATURE_DIM) {
            for (f, v) in feature.iter_mut().zip(pixel) {
                *f += v;
            }
        }
        for f in &mut feature {
            *f /= pixels;
        }
        feature
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn same_padding_puts_the_odd_pixel_at_the_end() {
        assert_eq!(same(224, 3, 2), (112, 0));
        assert_eq!(same(112, 5, 2), (56, 1));
        assert_eq!(same(7, 3, 1), (7, 1));
        assert_eq!(same(14, 5, 1), (14, 2));
    }
}
