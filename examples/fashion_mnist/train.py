#!/usr/bin/python3
"""Trains the demo Fashion-MNIST CNN (Keras-style, as in the paper) and exports it to ONNX.

Run from anywhere with Debian's Python (python3-torch 1.13, python3-onnx, python3-numpy):

    nice /usr/bin/python3 examples/fashion_mnist/train.py

Writes next to this file: fashion_mnist_cnn.onnx, golden_input.npy (the first 8 test images,
float32 N,1,28,28, x/255) and golden_output.npy (PyTorch's softmax output for them).
Data: the Debian package dataset-fashion-mnist (IDX gzip files), never a download.
"""
import argparse
import gzip
import os
import random
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = "/usr/share/datasets/fashion-mnist"
SEED = 20240607
GOLDEN_COUNT = 8


def read_idx(path):
    """Reads an IDX file (gzip): magic 0x00 0x00 dtype ndim, big-endian uint32 dims, data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: expected {dims} bytes, found {data.size}")
    return data.reshape(dims)


def load_split(name):
    images = read_idx(os.path.join(DATA_DIR, f"{name}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATA_DIR, f"{name}-labels-idx1-ubyte.gz"))
    x = (images.astype(np.float32) / 255.0)[:, None, :, :]  # N,1,28,28
    return x, labels.astype(np.int64)


class FashionCnn(nn.Module):
    """conv32-conv32-pool-drop-conv64-conv64-pool-drop-dense128-drop-dense10-softmax.

    3x3 convolutions with 'valid' padding (Keras' default), so 28->26->24->12->10->8->4.
    """

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(),
            nn.Conv2d(32, 32, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Conv2d(32, 64, 3), nn.ReLU(),
            nn.Conv2d(64, 64, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(0.25),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 128), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        # Logits; the exported model wraps this with the softmax.
        return self.classifier(self.features(x))


class WithSoftmax(nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def evaluate(model, x, y, batch=500):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            logits = model(torch.from_numpy(x[i:i + batch]))
            correct += int((logits.argmax(1).numpy() == y[i:i + batch]).sum())
    return correct / len(x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    random.seed(SEED)
    np.random.seed(SEED)
    torch.manual_seed(SEED)

    x_train, y_train = load_split("train")
    x_test, y_test = load_split("t10k")
    print(f"train {x_train.shape}, test {x_test.shape}")

    model = FashionCnn()
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    shuffle = np.random.default_rng(SEED)

    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        order = shuffle.permutation(len(x_train))
        total_loss = 0.0
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            xb = torch.from_numpy(x_train[idx])
            yb = torch.from_numpy(y_train[idx])
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total_loss += float(loss) * len(idx)
        acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1}/{args.epochs}: loss {total_loss / len(order):.4f}, "
              f"test accuracy {acc * 100:.2f}%, {time.time() - start:.0f} s", flush=True)
    train_seconds = time.time() - start
    accuracy = evaluate(model, x_test, y_test)
    print(f"training took {train_seconds:.0f} s; test accuracy {accuracy * 100:.2f}% "
          f"({round(accuracy * len(x_test))}/{len(x_test)})")

    exported = WithSoftmax(model).eval()
    onnx_path = os.path.join(args.out, "fashion_mnist_cnn.onnx")
    torch.onnx.export(
        exported, torch.from_numpy(x_test[:1]), onnx_path,
        opset_version=13, do_constant_folding=True,
        input_names=["input"], output_names=["probabilities"],
        dynamic_axes={"input": {0: "batch"}, "probabilities": {0: "batch"}})

    golden_in = np.ascontiguousarray(x_test[:GOLDEN_COUNT], dtype=np.float32)
    with torch.no_grad():
        golden_out = exported(torch.from_numpy(golden_in)).numpy().astype(np.float32)
    np.save(os.path.join(args.out, "golden_input.npy"), golden_in)
    np.save(os.path.join(args.out, "golden_output.npy"), golden_out)

    import onnx  # only needed for the check below
    graph = onnx.load(onnx_path)
    onnx.checker.check_model(graph)
    ops = sorted({node.op_type for node in graph.graph.node})
    print(f"wrote {onnx_path} ({os.path.getsize(onnx_path)} bytes), ops: {', '.join(ops)}")
    print(f"golden labels {y_test[:GOLDEN_COUNT].tolist()}, "
          f"predicted {golden_out.argmax(1).tolist()}")


if __name__ == "__main__":
    main()
