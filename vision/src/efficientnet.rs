//! EfficientNet-Lite0 (Tan & Le 2019, the "lite" variant for mobile inference): a stem
//! convolution, 16 mobile inverted-bottleneck (MBConv) blocks in 7 stages, a 1×1 head
//! convolution to 1280 channels, global average pooling and a 1000-way ImageNet
//! classifier. Lite means ReLU6 instead of swish, no squeeze-and-excitation, and stem and
//! head not scaled.
//!
//! Convolutions use TensorFlow's "same" padding (output size = ⌈input / stride⌉, the odd
//! extra pixel padded at the bottom/right), as the weights were trained with. Batch norms
//! are already folded into the convolutions' weights and biases ([`crate::weights`]).

use burn::nn::conv::Conv2d;
use burn::nn::{Linear, PaddingConfig2d};
use burn::prelude::*;

/// Width of the image feature: the pooled output of the head convolution.
pub const FEATURE_DIM: usize = 1280;

/// Number of ImageNet classes the classifier scores.
pub const IMAGENET_CLASSES: usize = 1000;

/// Output channels of the stem convolution.
pub(crate) const STEM_CHANNELS: usize = 32;

/// One stage of MBConv blocks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StageSpec {
    /// Blocks in the stage.
    pub repeats: usize,
    /// Depthwise kernel size.
    pub kernel: usize,
    /// Stride of the stage's first block (the others use 1).
    pub stride: usize,
    /// Expansion ratio of the inverted bottleneck.
    pub expand: usize,
    /// Channels into the stage.
    pub input: usize,
    /// Channels out of every block of the stage.
    pub output: usize,
}

/// The seven stages of EfficientNet-Lite0 (`r1_k3_s11_e1_i32_o16`, …).
pub(crate) const STAGES: [StageSpec; 7] = [
    stage(1, 3, 1, 1, 32, 16),
    stage(2, 3, 2, 6, 16, 24),
    stage(2, 5, 2, 6, 24, 40),
    stage(3, 3, 2, 6, 40, 80),
    stage(3, 5, 1, 6, 80, 112),
    stage(4, 5, 2, 6, 112, 192),
    stage(1, 3, 1, 6, 192, 320),
];

const fn stage(
    repeats: usize,
    kernel: usize,
    stride: usize,
    expand: usize,
    input: usize,
    output: usize,
) -> StageSpec {
    StageSpec {
        repeats,
        kernel,
        stride,
        expand,
        input,
        output,
    }
}

/// The shape of one MBConv block, in network order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BlockSpec {
    pub kernel: usize,
    pub stride: usize,
    pub expand: usize,
    pub input: usize,
    pub output: usize,
}

impl BlockSpec {
    /// Channels inside the bottleneck.
    pub fn hidden(&self) -> usize {
        self.input * self.expand
    }

    /// Whether the block adds its input to its output.
    pub fn residual(&self) -> bool {
        self.stride == 1 && self.input == self.output
    }
}

/// All 16 blocks: each stage's first block changes stride and width, the rest keep them.
pub(crate) fn block_specs() -> Vec<BlockSpec> {
    let mut blocks = Vec::new();
    for stage in STAGES {
        for index in 0..stage.repeats {
            let first = index == 0;
            blocks.push(BlockSpec {
                kernel: stage.kernel,
                stride: if first { stage.stride } else { 1 },
                expand: stage.expand,
                input: if first { stage.input } else { stage.output },
                output: stage.output,
            });
        }
    }
    blocks
}

/// Convolution geometry, used to build a [`Conv2d`] from loaded weights.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvShape {
    pub input: usize,
    pub output: usize,
    pub kernel: usize,
    pub stride: usize,
    pub groups: usize,
}

impl ConvShape {
    /// The shape of the weight tensor, PyTorch layout `[out, in / groups, k, k]`.
    pub fn weight_dims(&self) -> [usize; 4] {
        [
            self.output,
            self.input / self.groups,
            self.kernel,
            self.kernel,
        ]
    }

    /// A convolution with "same" padding from its (folded) weight and bias.
    pub fn build<B: Backend>(&self, weight: Tensor<B, 4>, bias: Tensor<B, 1>) -> Conv2d<B> {
        Conv2d {
            weight: burn::module::Param::from_tensor(weight),
            bias: Some(burn::module::Param::from_tensor(bias)),
            stride: [self.stride, self.stride],
            kernel_size: [self.kernel, self.kernel],
            dilation: [1, 1],
            groups: self.groups,
            padding: PaddingConfig2d::Same,
        }
    }
}

/// A 1×1 convolution computed as one matrix product per image.
///
/// Most of the network's arithmetic is in these; as matrix products they run on the
/// backend's GEMM rather than its generic direct convolution (about 8× faster on the
/// ndarray CPU backend), with the same result.
#[derive(Debug)]
pub struct Pointwise<B: Backend> {
    /// `[out, in]`.
    pub(crate) weight: Tensor<B, 2>,
    /// `[out]`.
    pub(crate) bias: Tensor<B, 1>,
}

impl<B: Backend> Pointwise<B> {
    fn forward(&self, x: Tensor<B, 4>) -> Tensor<B, 4> {
        let [batch, channels, height, width] = x.dims();
        let [output, _] = self.weight.dims();
        let weight = self
            .weight
            .clone()
            .unsqueeze_dim::<3>(0)
            .expand([batch, output, channels]);
        let product = weight.matmul(x.reshape([batch, channels, height * width]));
        let bias = self.bias.clone().reshape([1, output, 1]);
        (product + bias).reshape([batch, output, height, width])
    }
}

/// One inverted-bottleneck block: 1×1 expansion, k×k depthwise, 1×1 projection.
#[derive(Debug)]
pub struct MbConvBlock<B: Backend> {
    pub(crate) expand: Option<Pointwise<B>>,
    pub(crate) depthwise: Conv2d<B>,
    pub(crate) project: Pointwise<B>,
    pub(crate) residual: bool,
}

impl<B: Backend> MbConvBlock<B> {
    fn forward(&self, input: Tensor<B, 4>) -> Tensor<B, 4> {
        let mut x = input.clone();
        if let Some(expand) = &self.expand {
            x = relu6(expand.forward(x));
        }
        x = relu6(self.depthwise.forward(x));
        x = self.project.forward(x);
        if self.residual { x + input } else { x }
    }
}

/// EfficientNet-Lite0 with loaded ImageNet weights, for inference.
#[derive(Debug)]
pub struct EfficientNetLite0<B: Backend> {
    pub(crate) stem: Conv2d<B>,
    pub(crate) blocks: Vec<MbConvBlock<B>>,
    pub(crate) head: Pointwise<B>,
    pub(crate) classifier: Linear<B>,
}

impl<B: Backend> EfficientNetLite0<B> {
    /// Image features `[batch, 1280]` of preprocessed images `[batch, 3, 224, 224]`.
    pub fn features(&self, images: Tensor<B, 4>) -> Tensor<B, 2> {
        let mut x = relu6(self.stem.forward(images));
        for block in &self.blocks {
            x = block.forward(x);
        }
        let x = relu6(self.head.forward(x));
        let [batch, channels, height, width] = x.dims();
        x.reshape([batch, channels, height * width])
            .mean_dim(2)
            .reshape([batch, channels])
    }

    /// ImageNet logits `[batch, 1000]` from features (dropout is off at inference).
    pub fn classify(&self, features: Tensor<B, 2>) -> Tensor<B, 2> {
        self.classifier.forward(features)
    }
}

fn relu6<B: Backend>(x: Tensor<B, 4>) -> Tensor<B, 4> {
    x.clamp(0.0, 6.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_blocks_with_residuals_where_shapes_allow() {
        let blocks = block_specs();
        assert_eq!(blocks.len(), 16);
        assert_eq!(blocks.iter().filter(|b| b.residual()).count(), 9);
        assert_eq!(blocks.last().map(|b| b.output), Some(320));
        assert_eq!(blocks[0].hidden(), 32);
    }
}
