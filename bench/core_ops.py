"""Eager-op and tape-step overhead: tensorweave against TensorFlow and PyTorch.

    python bench/core_ops.py

TensorFlow and PyTorch are measured when importable here, or through the interpreters named by
TENSORFLOW_PYTHON and TORCH_PYTHON (separate virtual environments). Prints one table, in
microseconds per call (median of repeated timings).
"""
from __future__ import annotations

from runner import main_table, seconds_per_call, use_source_tree

ROWS = {"add 2x2": "eager tf.add, 2x2", "tape step": "tape step (4x4 matmul, relu, sum, gradient)"}



def _time(fn, number: int) -> float:
    return seconds_per_call(fn, number) * 1e6


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
    use_source_tree()
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


if __name__ == "__main__":
    main_table(BENCHES, ROWS, __file__, "µs per call")
