#!/usr/bin/python3
"""Campaign throughput: faulty inferences per second of `nnfi run` with the naive engine (re-run
the whole model per fault), the cached prefix alone (`--engine prefix`) and the full cached engine
(prefix + masking), on the same workload in the same run; prints a table and the ratios.

    /usr/bin/python3 bench/campaign/run_campaign_bench.py [--nnfi build/nnfi]
        [--models gtsrb_cnn,gtsrb_keras,resnet18,vgg16] [--workloads a,b,c] [--images N]
        [--engines naive,prefix,cached] [--threads N] [--repeat N]

Models: bench/models/{vgg16,resnet18,gtsrb_cnn}.onnx (random weights; make them with
bench/make_models.py) and the real GTSRB Keras CNN from ../shared/fixtures; not in the default
list, the fixtures' TF1 MobileNet v1 0.25 (mobilenet_tf) and Keras ResNet20 (resnet20_keras) on
their 20 images each. Inputs: the first
--images rows of bench/models/NAME_input_b32.npy (random), or for the Keras CNN the fixture's
GTSRB images. Workloads (issue 7):
  a  one random bit flip per image (p = 1) in the output of a middle conv layer
  b  the criticality map: every layer, p = 1, 2 repetitions
  c  a probability sweep p in {0.01, 0.05, 0.1, 0.5} over every layer
Engines: naive (re-run everything, window kernels like every campaign), naive_onednn (the same
on oneDNN conv/pool kernels, as plain inference runs), prefix (resume at the injected node, run
everything downstream), cached (the full engine: windows, masking, batched tails).
Columns: faulty inferences per second (nnfi's own count over the time spent on faulty inferences),
the share of faulty inferences masked, and where the time went (golden runs, faulty inferences,
reading, results).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(os.path.dirname(ROOT), "shared", "fixtures")


def model_setup(name, images, tmp):
    """(model path, data section, other campaign keys) for a model name."""
    if name == "gtsrb_keras":
        model = os.path.join(FIXTURES, "keras", "gtsrb_cnn_keras2.11.h5")
        data = {"spec": "gtsrb:" + os.path.join(FIXTURES, "data", "gtsrb_test_32x32"),
                "resize": [30, 30], "scale": 1, "limit": images}
        return model, data, {}
    if name == "mobilenet_tf":
        # The paper's InjectTF model: TF1 frozen graph (batch fixed at 1, unfused batch
        # norms), on the 20 fixture ImageNet images.
        model = os.path.join(FIXTURES, "tf", "mobilenet_v1_0.25_224_frozen.pb")
        data = {"spec": "folder:" + os.path.join(FIXTURES, "data", "imagenet_samples"),
                "resize": [224, 224], "preset": "tf", "label_offset": 1, "limit": images}
        return model, data, {"feed": "input", "fetch": "MobilenetV1/Predictions/Reshape_1",
                             "batch": 1, "a_repetitions": 50}
    if name == "resnet20_keras":
        # Branching Keras ResNet20v1 (CIFAR-10) on the 20 fixture images.
        model = os.path.join(FIXTURES, "keras", "cifar10_resnet20v1_keras2.2.5.h5")
        data = {"spec": "folder:" + os.path.join(FIXTURES, "data", "cifar10_samples"),
                "mean": [0.4914, 0.4822, 0.4465], "limit": images}
        return model, data, {"a_repetitions": 50}
    model = os.path.join(ROOT, "bench", "models", name + ".onnx")
    inputs = np.load(os.path.join(ROOT, "bench", "models", name + "_input_b32.npy"))
    reps = (images + len(inputs) - 1) // len(inputs)
    x = np.concatenate([inputs] * reps)[:images].astype(np.float32)
    x_path = os.path.join(tmp, name + "_x.npy")
    y_path = os.path.join(tmp, name + "_y.npy")
    np.save(x_path, x)
    np.save(y_path, np.zeros(len(x), dtype=np.int64))
    return model, {"spec": "npy:%s,%s" % (x_path, y_path)}, {}


def middle_conv_layer(nnfi, model):
    out = subprocess.run([nnfi, "sites", model, "--kind", "layer", "--json"], check=True,
                         capture_output=True, text=True).stdout
    sites = json.loads(out)["sites"]
    convs = [s["name"] for s in sites if s["op"] in ("Conv", "Conv2D", "DepthwiseConv2dNative")]
    return convs[len(convs) // 2]


def workload(kind, layer, a_repetitions=1):
    fault = {"model": "bitflip", "bits": "random"}
    if kind == "a":
        return [{"name": "a", "target": {"layers": [layer]}, "fault": fault, "probability": 1.0,
                 "repetitions": a_repetitions, "metric": "golden"}]
    if kind == "b":
        return [{"name": "b", "target": {"layers": "each"}, "fault": fault, "probability": 1.0,
                 "repetitions": 2, "metric": "golden"}]
    return [{"name": "c", "target": {"layers": "each"}, "fault": fault,
             "probability": [0.01, 0.05, 0.1, 0.5], "metric": "golden"}]


def run(nnfi, campaign_path, engine, threads, out):
    # "naive_onednn": the naive engine with conv and pools on oneDNN (what plain
    # inference uses) instead of the window kernels every campaign uses by default.
    kernels = "onednn" if engine.endswith("_onednn") else "window"
    engine = engine.replace("_onednn", "")
    command = [nnfi, "run", campaign_path, "--out", out, "--engine", engine, "--kernels", kernels,
               "-q"]
    if threads:
        command += ["--threads", str(threads)]
    subprocess.run(command, check=True, capture_output=True, text=True)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    masked = faulted = 0
    for experiment in summary["experiments"]:
        for setting in experiment["settings"]:
            masked += setting["outcomes"]["masked"]
            faulted += setting["faulted_inferences"]
    timing = summary["timing"]
    return timing, (masked / faulted if faulted else 0.0), summary


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nnfi", default=os.path.join(ROOT, "build", "nnfi"))
    parser.add_argument("--models", default="gtsrb_cnn,gtsrb_keras,resnet18,vgg16")
    parser.add_argument("--workloads", default="a,b,c")
    parser.add_argument("--engines", default="naive,naive_onednn,prefix,cached")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per engine; the table gives the median rate (this shared VM "
                             "varies by 5-10%% from run to run)")
    args = parser.parse_args()
    engines = args.engines.split(",")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models.split(","):
            model, data, extra = model_setup(name, args.images, tmp)
            # The 20-image fixture models repeat workload (a) 50 times (1,000 faults).
            a_repetitions = extra.pop("a_repetitions", 1)
            if not os.path.exists(model):
                print("skipping %s: %s is missing (bench/make_models.py makes it)" % (name, model),
                      file=sys.stderr)
                continue
            layer = middle_conv_layer(args.nnfi, model)
            for kind in args.workloads.split(","):
                campaign = {"model": model, "data": data, "seed": 1, "batch": 32,
                            "record_faults": "none",
                            "experiments": workload(kind, layer, a_repetitions)}
                campaign.update(extra)
                campaign_path = os.path.join(tmp, "%s_%s.yaml" % (name, kind))
                with open(campaign_path, "w") as f:
                    json.dump(campaign, f)  # JSON is YAML
                results = {}
                for engine in engines:
                    out = os.path.join(tmp, "%s_%s_%s" % (name, kind, engine))
                    runs = []
                    for _ in range(max(1, args.repeat)):
                        shutil.rmtree(out, ignore_errors=True)
                        runs.append(run(args.nnfi, campaign_path, engine, args.threads, out))
                    rates = sorted(r[0]["faulty_inferences_per_second"] for r in runs)
                    # The run with the median rate stands for the engine.
                    timing, masked, summary = next(
                        r for r in runs if r[0]["faulty_inferences_per_second"] ==
                        rates[len(rates) // 2])
                    results[engine] = (timing, masked, summary)
                    if len(runs) > 1:
                        print("%-12s %s %-13s %d runs: %s faulty inferences/s" %
                              (name, kind, engine, len(runs),
                               ", ".join("%.1f" % r for r in rates)), file=sys.stderr)
                    window = timing.get("window_phase")
                    phases = ""
                    if window:
                        # Seconds of the two phases of the cached engine: wall seconds where
                        # one unit's trials share the threads, summed over units where they
                        # run side by side; window_thread_seconds counts every thread.
                        thread_seconds = window.get("window_thread_seconds", 0.0)
                        phases = ("  window phase: %d trials, %.1f%% masked there, %d batched;"
                                  " %.2f s windows, %.2f s batched tails; %d conv chunks helped;"
                                  " window convs %.2f G multiply-adds, %.1f G/s a thread" %
                                  (window["trials"], 100.0 * window["masked"] / window["trials"],
                                   window["batched"], window["window_seconds"],
                                   window["batched_seconds"], window.get("chunks_helped", 0),
                                   window.get("multiply_adds", 0) * 1e-9,
                                   window.get("multiply_adds", 0) * 1e-9 / thread_seconds
                                   if thread_seconds > 0 else 0.0))
                    print("%-12s %s %-13s %9.1f faulty inferences/s  masked %5.1f%%  golden %.1f s"
                          "  faults %.1f s  read %.1f s  results %.1f s%s" %
                          (name, kind, engine, timing["faulty_inferences_per_second"],
                           100 * masked, timing["golden_seconds"], timing["trial_seconds"],
                           timing["read_seconds"], timing["store_seconds"], phases),
                          file=sys.stderr)
                # The engines on the same kernels must agree on every outcome.
                first = results[engines[0]][2]["experiments"]
                for engine in engines[1:]:
                    if engine.endswith("_onednn"):
                        continue
                    if results[engine][2]["experiments"] != first:
                        print("MISMATCH: %s %s: %s and %s disagree" % (name, kind, engines[0],
                                                                       engine))
                        sys.exit(1)
                rows.append((name, kind, results))
    print("\n%-12s %-3s " % ("model", "wl") +
          " ".join("%12s" % (e + "/s") for e in engines) +
          "  %8s" % "masked" + "".join("  %14s" % (e + "/naive") for e in engines[1:]))
    for name, kind, results in rows:
        rates = [results[e][0]["faulty_inferences_per_second"] for e in engines]
        line = "%-12s %-3s " % (name, kind) + " ".join("%12.1f" % r for r in rates)
        line += "  %7.1f%%" % (100 * results[engines[-1]][1])
        line += "".join("  %13.1fx" % (r / rates[0] if rates[0] else 0) for r in rates[1:])
        print(line)


if __name__ == "__main__":
    main()
