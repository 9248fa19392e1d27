#!/usr/bin/python3
"""Prints the inference-benchmark table from a results folder of run_inference_bench.sh.

    /usr/bin/python3 bench/report.py RESULTS_DIR

RESULTS_DIR holds, per model M and batch B: nnfi_M_bB.log / ort_M_bB.log (each with one
'RESULT ...' line when the run succeeded, or 'TIMEOUT' / the error) and nnfi_M_bB.npy /
ort_M_bB.npy (the outputs). Columns: model, batch, nnfi img/s, ORT img/s, nnfi/ORT,
max |nnfi - ORT| over all outputs, that over max |ORT|, whether every image's arg-max agrees, the nodes on fast
kernels. Also writes RESULTS_DIR/table.md (the same table, Markdown).
"""
import os
import re
import sys

import numpy as np


def parse_log(path):
    """Returns (dict of the RESULT line, None) or (None, short reason)."""
    if not os.path.exists(path):
        return None, "not run"
    with open(path, errors="replace") as f:
        text = f.read()
    for line in text.splitlines():
        if line.startswith("RESULT "):
            return dict(kv.split("=", 1) for kv in line.split()[1:]), None
    if "TIMEOUT" in text:
        return None, "timeout"
    last = [line for line in text.splitlines() if line.strip()]
    return None, "failed: " + (last[-1][:60] if last else "no output")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    folder = sys.argv[1]
    runs = sorted({m.groups() for m in (re.match(r"(?:nnfi|ort)_(.+)_b(\d+)\.log$", name)
                                         for name in os.listdir(folder)) if m},
                  key=lambda r: (r[0], int(r[1])))
    header = ["model", "batch", "nnfi img/s", "ORT img/s", "nnfi/ORT", "max abs diff",
              "rel to max", "argmax agree", "nnfi fast nodes"]
    rows, notes = [], []
    for model, batch in runs:
        nnfi, nnfi_err = parse_log(os.path.join(folder, f"nnfi_{model}_b{batch}.log"))
        ort, ort_err = parse_log(os.path.join(folder, f"ort_{model}_b{batch}.log"))
        nnfi_rate = float(nnfi["images_per_s"]) if nnfi else None
        ort_rate = float(ort["images_per_s"]) if ort else None
        ratio = f"{nnfi_rate / ort_rate:.2f}" if nnfi_rate and ort_rate else "-"
        diff, rel, agree = "-", "-", "-"
        if nnfi and ort:
            a = np.load(os.path.join(folder, f"nnfi_{model}_b{batch}.npy"))
            b = np.load(os.path.join(folder, f"ort_{model}_b{batch}.npy"))
            if a.shape != b.shape:
                diff = f"shapes {a.shape} vs {b.shape}"
            else:
                abs_diff = float(np.max(np.abs(a.astype(np.float64) - b)))
                diff = f"{abs_diff:.3g}"
                rel = f"{abs_diff / max(float(np.max(np.abs(b))), 1e-30):.2g}"
                agree = "yes" if np.array_equal(a.argmax(-1), b.argmax(-1)) else "NO"
        rows.append([model, batch,
                     f"{nnfi_rate:.1f}" if nnfi else nnfi_err,
                     f"{ort_rate:.1f}" if ort else ort_err,
                     ratio, diff, rel, agree, nnfi.get("fast_nodes", "-") if nnfi else "-"])
        for engine, result in (("nnfi", nnfi), ("ORT", ort)):
            if result and int(result["runs"]) < 3:
                notes.append(f"{model} b{batch} {engine}: only {result['runs']} timed run(s)")

    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    line = lambda r: "  ".join(str(x).rjust(w) for x, w in zip(r, widths))  # noqa: E731
    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))
    for n in notes:
        print("note:", n)
    with open(os.path.join(folder, "table.md"), "w") as f:
        f.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for r in rows:
            f.write("| " + " | ".join(str(x) for x in r) + " |\n")


if __name__ == "__main__":
    main()
