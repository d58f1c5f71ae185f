"""tf.function: eager against compiled against jit_compile (fused), tensorweave against TensorFlow
and PyTorch.

    python bench/function.py

(a) a function of 60 small elementwise ops on a 16x16 float32 tensor, in microseconds per call;
(b) reduce_sum(a * b + c) on 1e7 float32 elements, in milliseconds per call, and the peak memory
    a call allocates beyond its inputs (tracemalloc, which sees NumPy's allocations: measured
    for tensorweave only).
TensorFlow and PyTorch are measured when importable here, or through the interpreters named by
TENSORFLOW_PYTHON and TORCH_PYTHON (separate virtual environments), as in bench/core_ops.py.
Prints one table (median of repeated timings).
"""
from __future__ import annotations

import tracemalloc

from runner import main_table, seconds_per_call, use_source_tree

N_BIG = 10_000_000

ROWS = {
    "a_eager": "(a) 60 elementwise ops, 16x16: eager (µs)",
    "a_function": "(a) 60 elementwise ops, 16x16: tf.function (µs)",
    "a_jit": "(a) 60 elementwise ops, 16x16: jit_compile=True (µs)",
    "b_eager": "(b) reduce_sum(a*b+c), 1e7 float32: eager (ms)",
    "b_function": "(b) reduce_sum(a*b+c), 1e7 float32: tf.function (ms)",
    "b_jit": "(b) reduce_sum(a*b+c), 1e7 float32: jit_compile=True (ms)",
    "b_jit_numexpr": "(b) ... jit_compile=True with numexpr (ms)",
    "b_function_mem": "(b) tf.function: peak memory allocated by a call (MB)",
    "b_jit_mem": "(b) jit_compile=True: peak memory allocated by a call (MB)",
}


def _time(fn, number: int) -> float:
    return seconds_per_call(fn, number)


def _peak_mb(fn) -> float:
    fn()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def _chain(tf):
    def sixty_ops(x):
        for _ in range(10):
            x = x * 1.01
            x = x + 0.5
            x = tf.tanh(x)
            x = x - 0.25
            x = tf.maximum(x, -2.0)
            x = tf.abs(x)
        return x
    return sixty_ops


def _seed(tf):
    def fused(a, b, c):
        return tf.reduce_sum(a * b + c)
    return fused


def _bench_tf_api(tf, scale: int, memory: bool) -> dict:
    import numpy as np
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(16, 16)).astype(np.float32))
    chain = _chain(tf)
    function = tf.function(chain)
    jit = tf.function(chain, jit_compile=True)
    out = {"a_eager": _time(lambda: chain(x), 100 * scale) * 1e6,
           "a_function": _time(lambda: function(x), 300 * scale) * 1e6,
           "a_jit": _time(lambda: jit(x), 300 * scale) * 1e6}
    a, b, c = (tf.constant(rng.random(N_BIG, dtype=np.float32)) for _ in range(3))
    seed = _seed(tf)
    function = tf.function(seed)
    jit = tf.function(seed, jit_compile=True)
    out["b_eager"] = _time(lambda: seed(a, b, c), 3) * 1e3
    out["b_function"] = _time(lambda: function(a, b, c), 3) * 1e3
    out["b_jit"] = _time(lambda: jit(a, b, c), 3) * 1e3
    if memory:
        out["b_function_mem"] = _peak_mb(lambda: function(a, b, c))
        out["b_jit_mem"] = _peak_mb(lambda: jit(a, b, c))
    return out


def bench_tensorweave() -> dict:
    use_source_tree()
    import tensorweave
    from tensorweave.function import passes
    out = _bench_tf_api(tensorweave, 10, memory=True)
    if passes.NUMEXPR is not None:  # numexpr forced on, whatever the thread count
        import numpy as np
        rng = np.random.default_rng(1)
        a, b, c = (tensorweave.constant(rng.random(N_BIG, dtype=np.float32)) for _ in range(3))
        saved = passes.NUMEXPR_MIN_THREADS
        passes.NUMEXPR_MIN_THREADS = 0
        try:
            jit = tensorweave.function(_seed(tensorweave), jit_compile=True)
            out["b_jit_numexpr"] = _time(lambda: jit(a, b, c), 3) * 1e3
        finally:
            passes.NUMEXPR_MIN_THREADS = saved
    return out


def bench_tensorflow() -> dict:
    import tensorflow
    return _bench_tf_api(tensorflow, 1, memory=False)


def bench_torch() -> dict:
    import numpy as np
    import torch
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(16, 16)).astype(np.float32))

    class Ops:  # the tf names the chain uses
        tanh = staticmethod(torch.tanh)

        @staticmethod
        def maximum(t, v):
            return torch.clamp(t, min=v)

        @staticmethod
        def abs(t):
            return torch.abs(t)

    chain = _chain(Ops)
    a, b, c = (torch.from_numpy(rng.random(N_BIG, dtype=np.float32)) for _ in range(3))
    return {"a_eager": _time(lambda: chain(x), 1000) * 1e6,
            "b_eager": _time(lambda: torch.sum(a * b + c), 3) * 1e3}


BENCHES = {"tensorweave": bench_tensorweave, "tensorflow": bench_tensorflow, "torch": bench_torch}


if __name__ == "__main__":
    main_table(BENCHES, ROWS, __file__)
