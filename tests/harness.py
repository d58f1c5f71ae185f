"""Shared test harnesses: op gradients against central finite differences, abstract evaluation
against real outputs.

    check_grad(fn, x, y, ...)        tape gradient of sum(fn(...) * w) vs finite differences (float64)
    check_grad(fn, x, order=2)       the same for the gradient of the gradient (nested tapes)
    check_abstract(fn, x, y, ...)    every primitive fn runs: abstract evaluation vs the output
"""
from __future__ import annotations

import numpy as np

import tensorweave as tf
from tensorweave.framework.context import state
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec


def _weights(out, rng):
    return rng.uniform(0.5, 1.5, size=np.shape(out)).astype(np.float64)


def _weighted_sum_fn(fn, weights):
    def scalar(*tensors):
        out = fn(*tensors)
        return tf.reduce_sum(tf.multiply(out, tf.constant(weights)))
    return scalar


def _tape_grads(scalar_fn, arrays):
    tensors = [tf.constant(a) for a in arrays]
    with tf.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        value = scalar_fn(*tensors)
    grads = tape.gradient(value, tensors)
    return [np.zeros_like(a) if g is None else np.asarray(g.numpy(), dtype=np.float64)
            for a, g in zip(arrays, grads)]


def _numeric_grads(scalar_fn, arrays, eps):
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        flat = g.reshape(-1)
        for j in range(a.size):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            f_plus = float(scalar_fn(*[tf.constant(x) for x in plus]).numpy())
            f_minus = float(scalar_fn(*[tf.constant(x) for x in minus]).numpy())
            flat[j] = (f_plus - f_minus) / (2 * eps)
        grads.append(g)
    return grads


def check_grad(fn, *args, order: int = 1, eps: float = 1e-6, rtol: float = 1e-5,
               atol: float = 1e-6, seed: int = 0):
    """Asserts the tape gradient of `fn` matches central finite differences in float64.

    `args` are float arrays (cast to float64); `fn` takes tensors and returns one tensor.
    With `order=2` the check is made on the gradient function itself (second derivatives).
    """
    rng = np.random.default_rng(seed)
    arrays = [np.array(a, dtype=np.float64, order="C") for a in args]
    out = fn(*[tf.constant(a) for a in arrays])
    scalar = first_order = _weighted_sum_fn(fn, _weights(out.numpy(), rng))
    if order == 2:
        directions = [rng.uniform(0.5, 1.5, size=a.shape) for a in arrays]

        def first_derivative(*tensors):
            with tf.GradientTape() as inner:
                for t in tensors:
                    inner.watch(t)
                value = first_order(*tensors)
            grads = inner.gradient(value, list(tensors))
            total = tf.constant(0.0, dtype=tf.float64)
            for g, d in zip(grads, directions):
                if g is not None:
                    total = tf.add(total, tf.reduce_sum(tf.multiply(g, tf.constant(d))))
            return total
        scalar = first_derivative
    analytic = _tape_grads(scalar, arrays)
    numeric = _numeric_grads(scalar, arrays, eps)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol,
                                   err_msg=f"gradient of argument {i} (order {order})")


class _Recorder:
    """Sits on the tape stack and keeps every op call, differentiable or not."""

    def __init__(self):
        self.records = []

    def _record(self, record):
        self.records.append(record)

    def _record_read(self, variable, tensor):
        pass


def _spec(t, known: bool):
    shape = t.shape if known else TensorShape([None] * t.shape.rank)
    return TensorSpec(shape, t.dtype, value=t.numpy() if known else None)


def check_abstract(fn, *args):
    """Runs `fn(*args)` and asserts, for every primitive it ran, that abstract evaluation gives
    the output's exact shape and dtype from known input shapes, and a compatible shape and the
    same dtype when every input dimension is unknown. Returns fn's result."""
    recorder = _Recorder()
    state.tapes = state.tapes + [recorder]
    try:
        result = fn(*args)
    finally:
        state.tapes = [t for t in state.tapes if t is not recorder]
    assert recorder.records, "fn ran no primitive"
    for rec in recorder.records:
        prim = rec.prim
        assert prim.abstract is not None, f"{prim.name} has no abstract evaluation"
        for known in (True, False):
            specs = prim.abstract(*[_spec(t, known) for t in rec.inputs], **rec.attrs)
            specs = specs if isinstance(specs, tuple) else (specs,)
            assert len(specs) == len(rec.outputs), prim.name
            for spec, out in zip(specs, rec.outputs):
                assert spec.dtype == out.dtype, f"{prim.name}: {spec.dtype} != {out.dtype}"
                if known:
                    assert spec.shape == out.shape, f"{prim.name}: {spec.shape} != {out.shape}"
                else:
                    assert spec.shape.is_compatible_with(out.shape), \
                        f"{prim.name} (unknown dims): {spec.shape} vs {out.shape}"
    return result
