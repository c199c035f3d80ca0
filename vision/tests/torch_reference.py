"""PyTorch reference for the Rust EfficientNet-Lite0 port (used by tests/torch_parity.rs).

Usage: python torch_reference.py WEIGHTS INPUTS.f32 COUNT FEATURES_OUT.f32 LOGITS_OUT.f32

INPUTS holds COUNT preprocessed images (3x224x224 float32, little-endian, channel-first),
exactly as the Rust side feeds its network. Needs torch and efficientnet-lite-pytorch 0.1.0.
"""
import sys

import numpy as np
import torch
from efficientnet_lite_pytorch import EfficientNet

weights, inputs, count, features_out, logits_out = sys.argv[1:6]
model = EfficientNet.from_name("efficientnet-lite0")
state = torch.load(weights, map_location="cpu", weights_only=False)
result = model.load_state_dict(state, strict=False)
assert not result.missing_keys and not result.unexpected_keys, result
model.eval()
x = torch.from_numpy(np.fromfile(inputs, dtype="<f4").reshape(int(count), 3, 224, 224))
with torch.no_grad():
    maps = model.extract_features(x)
    features = maps.mean(dim=(2, 3))
    logits = model(x)
features.numpy().astype("<f4").tofile(features_out)
logits.numpy().astype("<f4").tofile(logits_out)
