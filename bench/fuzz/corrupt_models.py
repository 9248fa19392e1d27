#!/usr/bin/python3
"""Bad input must never crash nnfi: corrupt a file at random, N times, run nnfi on each copy
and count the runs that ended by a signal (a crash) or hung. Copies that crashed are kept (their
paths printed) to reproduce.

    /usr/bin/python3 bench/fuzz/corrupt_models.py FILE [--cases N] [--bytes K]
        [--nnfi build/nnfi] [--keep DIR] [-- NNFI ARGUMENTS]

Each case changes K bytes (seeded by the case number, so runs repeat): half anywhere in the
file, half in its first 8 KiB, where the formats' headers are. The copy has FILE's name, alone
in a scratch folder; nnfi runs with the arguments after `--`, in which {file} is the copy and
{dir} its folder (default: inspect {file}, for model files). For example, images:

    bench/fuzz/corrupt_models.py ../shared/fixtures/data/cifar10_samples/cifar10_00_3.png -- \
        eval ../shared/fixtures/keras/cifar10_resnet20v1_keras2.2.5.h5 --data folder:{dir}

Exit status 1 if any case crashed or hung.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--bytes", type=int, default=4)
    parser.add_argument("--nnfi", default=os.path.join(ROOT, "build", "nnfi"))
    parser.add_argument("--keep", default=tempfile.gettempdir())
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    args.command = argv[split + 1:] or ["inspect", "{file}"]

    os.makedirs(args.keep, exist_ok=True)
    data = open(args.model, "rb").read()
    name = os.path.basename(args.model)
    bad = 0
    with tempfile.TemporaryDirectory() as scratch:
        for case in range(args.cases):
            rng = random.Random(case)
            copy = bytearray(data)
            for _ in range(args.bytes):
                head = rng.random() >= 0.5
                position = rng.randrange(min(len(copy), 8192) if head else len(copy))
                copy[position] = rng.randrange(256)
            folder = os.path.join(scratch, "case%d" % case)
            os.makedirs(folder)
            path = os.path.join(folder, name)
            open(path, "wb").write(copy)
            command = [args.nnfi] + [a.replace("{file}", path).replace("{dir}", folder)
                                     for a in args.command]
            try:
                code = subprocess.run(command, capture_output=True, timeout=30).returncode
            except subprocess.TimeoutExpired:
                code = "hang"
            if code == "hang" or code < 0:
                bad += 1
                kept = os.path.join(args.keep, "nnfi_crash_case%d_%s" % (case, name))
                open(kept, "wb").write(copy)
                print("case %d: %s (kept as %s)" % (case, code if code == "hang" else
                                                    "signal %d" % -code, kept), flush=True)
    print("%s: %d of %d corrupted copies crashed or hung" % (args.model, bad, args.cases))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
