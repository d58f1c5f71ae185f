"""Eager-op and tape-step overhead: tensorweave against TensorFlow and PyTorch.

    python bench/core_ops.py

TensorFlow and PyTorch are measured when importable here, or through the interpreters named by
TENSORFLOW_PYTHON and TORCH_PYTHON (separate virtual environments). Prints one table, in
microseconds per call (median of repeated timings).
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import timeit

REPEATS = 7


def _time(fn, number: int) -> float:
    fn()
    runs = timeit.repeat(fn, number=number, repeat=REPEATS)
    return statistics.median(runs) / number * 1e6


def _bench_tf_api(tf, repeat_scale: int) -> dict:
    """The two measurements through TensorFlow's API (tensorweave's is the same)."""
    import numpy as np
    a = tf.constant(np.ones((2, 2), np.float32))
    x = tf.constant(np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32))
    w = tf.Variable(np.random.default_rng(1).normal(size=(4, 4)).astype(np.float32))

    def tape_step():
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(tf.nn.relu(tf.matmul(x, w)))
        return tape.gradient(loss, w)

    return {"add 2x2": _time(lambda: tf.add(a, a), 2000 * repeat_scale),
            "tape step": _time(tape_step, 200 * repeat_scale)}


def bench_tensorweave() -> dict:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import tensorweave
    return _bench_tf_api(tensorweave, 10)


def bench_tensorflow() -> dict:
    import tensorflow
    return _bench_tf_api(tensorflow, 1)


def bench_torch() -> dict:
    import torch
    torch.set_num_threads(1)
    a = torch.ones((2, 2))
    x = torch.randn(4, 4)
    w = torch.randn(4, 4, requires_grad=True)

    def tape_step():
        loss = torch.relu(x @ w).sum()
        return torch.autograd.grad(loss, w)

    return {"add 2x2": _time(lambda: torch.add(a, a), 20000), "tape step": _time(tape_step, 2000)}


BENCHES = {"tensorweave": bench_tensorweave, "tensorflow": bench_tensorflow, "torch": bench_torch}
INTERPRETER_VARS = {"tensorflow": "TENSORFLOW_PYTHON", "torch": "TORCH_PYTHON"}


def _run(name: str):
    try:
        return BENCHES[name]()
    except ImportError:
        python = os.environ.get(INTERPRETER_VARS.get(name, ""))
        if not python:
            return None
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run([python, __file__, "--only", name], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        print(f"{name}: failed under {python}:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--only":
        print(json.dumps(BENCHES[sys.argv[2]]()))
        return
    results = {name: _run(name) for name in BENCHES}
    labels = {"add 2x2": "eager tf.add, 2x2", "tape step": "tape step (4x4 matmul, relu, sum, gradient)"}
    print("| µs per call | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for row, label in labels.items():
        cells = " | ".join(f"{results[n][row]:.1f}" if results[n] else "-" for n in results)
        print(f"| {label} | {cells} |")


if __name__ == "__main__":
    main()
