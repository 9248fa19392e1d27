#!/usr/bin/python3
"""Builds the inference-benchmark models and inputs into bench/models/ (deterministic).

    /usr/bin/python3 bench/make_models.py [--models vgg16,resnet18,gtsrb_cnn] [--force]

Per model NAME it writes:
  NAME.onnx           opset 13, input "input" (N,C,H,W, dynamic batch), output "output"
  NAME_input_b32.npy  float32 batch of 32 random inputs from a fixed seed; batch 1 runs use
                      its first image, so both engines always see the same data.

The architectures are defined here (no torchvision, no downloads) with seeded random weights:
  vgg16      VGG16 (configuration D), 224x224x3, 1000 classes, outputs logits (no softmax,
             like torchvision: the logits make the output comparison meaningful).
  resnet18   ResNet18 (basic blocks [2,2,2,2], batch norm), 224x224x3, 1000 logits.
  gtsrb_cnn  the paper's simple GTSRB CNN, 32x32x3: conv32-conv32-maxpool-dropout-conv64-conv64-
             maxpool-dropout-flatten-dense256-dropout-dense43-softmax; 3x3 convs with 'same'
             padding (32->32->16->16->8, flatten 4096); the output is the softmax.
Random weights use He initialisation (as torchvision does for these nets), so activations keep
a sane scale through 16 layers instead of vanishing; batch-norm statistics are random too so the
normalisation is not an identity.
"""
import argparse
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS_DIR = os.path.join(HERE, "models")
SEED = 1234
BENCH_BATCH = 32


def he_init(module):
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.normal_(m.bias, 0.0, 0.01)
        elif isinstance(m, nn.Linear):
            nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            nn.init.normal_(m.bias, 0.0, 0.01)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.uniform_(m.weight, 0.5, 1.5)
            nn.init.normal_(m.bias, 0.0, 0.1)
            with torch.no_grad():
                m.running_mean.normal_(0.0, 0.1)
                m.running_var.uniform_(0.5, 2.0)


def vgg16():
    layers, channels = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU()]
            channels = v
    return nn.Sequential(
        *layers, nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(4096, 1000))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU()
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.shortcut is None else self.shortcut(x)))


def resnet18():
    blocks, cin = [], 64
    for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
        blocks += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
        cin = cout
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
        nn.MaxPool2d(3, 2, 1), *blocks,
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000))


def gtsrb_cnn():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25),
        nn.Flatten(),
        nn.Linear(64 * 8 * 8, 256), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(256, 43), nn.Softmax(dim=1))


# name -> (builder, input C,H,W, input distribution)
MODELS = {
    "vgg16": (vgg16, (3, 224, 224), "normal"),      # like ImageNet-normalised pixels
    "resnet18": (resnet18, (3, 224, 224), "normal"),
    "gtsrb_cnn": (gtsrb_cnn, (3, 32, 32), "uniform"),  # pixels x/255
}


def make(name, out_dir):
    builder, chw, dist = MODELS[name]
    # One seed per model, so building a subset gives the same files as building all.
    torch.manual_seed(SEED + sorted(MODELS).index(name))
    model = builder()
    he_init(model)
    model.eval()

    rng = np.random.default_rng(SEED)
    shape = (BENCH_BATCH,) + chw
    if dist == "normal":
        x = rng.standard_normal(shape, dtype=np.float32)
    else:
        x = rng.random(shape, dtype=np.float32)
    np.save(os.path.join(out_dir, f"{name}_input_b32.npy"), x)

    path = os.path.join(out_dir, f"{name}.onnx")
    with torch.no_grad():
        torch.onnx.export(model, torch.from_numpy(x[:1]), path, opset_version=13,
                          do_constant_folding=True, input_names=["input"],
                          output_names=["output"],
                          dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}})
    import onnx  # only for the summary line
    ops = sorted({n.op_type for n in onnx.load(path).graph.node})
    print(f"{path}: {os.path.getsize(path) / 1e6:.1f} MB, ops {', '.join(ops)}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS),
                        help="comma-separated subset of " + ",".join(MODELS))
    parser.add_argument("--out", default=MODELS_DIR)
    parser.add_argument("--force", action="store_true", help="rebuild existing files")
    args = parser.parse_args()
    torch.set_num_threads(2)
    os.makedirs(args.out, exist_ok=True)
    for name in args.models.split(","):
        if name not in MODELS:
            parser.error(f"unknown model '{name}'; known: {', '.join(MODELS)}")
        done = all(os.path.exists(os.path.join(args.out, f)) for f in
                   (f"{name}.onnx", f"{name}_input_b32.npy"))
        if done and not args.force:
            print(f"{name}: already in {args.out}")
            continue
        make(name, args.out)


if __name__ == "__main__":
    main()
