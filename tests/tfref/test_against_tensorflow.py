"""tensorweave against TensorFlow itself, on the same inputs: values, dtypes and gradients.

Runs only where TensorFlow is importable beside tensorweave (a separate environment:
`pip install tensorflow-cpu pytest` there, then `PYTHONPATH=. python -m pytest tests/tfref`).
"""
import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf  # noqa: F811
except ImportError:
    tf = None

RNG = np.random.default_rng(7)
X = RNG.normal(size=(3, 4)).astype(np.float32)
Y = RNG.normal(size=(3, 4)).astype(np.float32)
POS = np.abs(X) + 0.5
SQUARE = (RNG.normal(size=(3, 3)) + 3 * np.eye(3)).astype(np.float32)

# name -> (function of a module `m` that is `tf` or `tensorweave`, inputs)
CASES = {
    "add": (lambda m, a, b: m.add(a, b), [X, Y]),
    "divide": (lambda m, a, b: m.divide(a, b), [X, POS]),
    "pow": (lambda m, a, b: m.pow(a, b), [POS, Y]),
    "maximum": (lambda m, a, b: m.maximum(a, b), [X, Y]),
    "squared_difference": (lambda m, a, b: m.math.squared_difference(a, b), [X, Y]),
    "sigmoid": (lambda m, a: m.sigmoid(a * 30.0), [X]),
    "log1p": (lambda m, a: m.math.log1p(a), [POS]),
    "lgamma": (lambda m, a: m.math.lgamma(a), [POS]),
    "erf": (lambda m, a: m.math.erf(a), [X]),
    "atan2": (lambda m, a, b: m.math.atan2(a, b), [X, Y]),
    "reduce_logsumexp": (lambda m, a: m.reduce_logsumexp(a * 50.0, axis=1), [X]),
    "reduce_std": (lambda m, a: m.math.reduce_std(a, axis=0), [X]),
    "reduce_prod": (lambda m, a: m.reduce_prod(a, axis=1), [X]),
    "cumsum": (lambda m, a: m.cumsum(a, axis=1, exclusive=True, reverse=True), [X]),
    "top_k": (lambda m, a: m.math.top_k(a, k=2).values, [X]),
    "matmul": (lambda m, a, b: m.matmul(a, b, transpose_b=True), [X, Y]),
    "einsum": (lambda m, a, b: m.einsum("ij,kj->ik", a, b), [X, Y]),
    "inv": (lambda m, a: m.linalg.inv(a), [SQUARE]),
    "det": (lambda m, a: m.linalg.det(a), [SQUARE]),
    "norm": (lambda m, a: m.norm(a, axis=1), [X]),
    "gather": (lambda m, a: m.gather(a, [2, 0, 2], axis=0), [X]),
    "getitem": (lambda m, a: a[1:, ::-2], [X]),
    "pad_reflect": (lambda m, a: m.pad(a, [[1, 1], [2, 1]], mode="REFLECT"), [X]),
    "where": (lambda m, a, b: m.where(a > b, a * a, b), [X, Y]),
    "softmax": (lambda m, a: m.nn.softmax(a * 100.0), [X]),
    "log_softmax": (lambda m, a: m.nn.log_softmax(a, axis=0), [X]),
    "gelu": (lambda m, a: m.nn.gelu(a), [X]),
    "softplus": (lambda m, a: m.nn.softplus(a * 200.0), [X]),
    "sigmoid_xent": (lambda m, a, b: m.nn.sigmoid_cross_entropy_with_logits(
        labels=m.sigmoid(b), logits=a * 100.0), [X, Y]),
    "softmax_xent": (lambda m, a, b: m.nn.softmax_cross_entropy_with_logits(
        labels=m.nn.softmax(b), logits=a), [X, Y]),
    "moments_var": (lambda m, a: m.nn.moments(a, axes=[0])[1], [X]),
}


def _run(module, fn, arrays):
    tensors = [module.constant(a) for a in arrays]
    with module.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(module, *tensors)
        loss = module.reduce_sum(out * out)
    grads = tape.gradient(loss, tensors)
    return out, [None if g is None else module.convert_to_tensor(g).numpy() for g in grads]


@pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")
@pytest.mark.parametrize("name", sorted(CASES))
def test_same_values_dtypes_and_gradients_as_tensorflow(name):
    fn, arrays = CASES[name]
    ours, our_grads = _run(tw, fn, arrays)
    theirs, their_grads = _run(tf, fn, arrays)
    assert ours.dtype.name == theirs.dtype.name
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=2e-5, atol=2e-5)
    for mine, reference in zip(our_grads, their_grads):
        assert (mine is None) == (reference is None)
        if mine is not None:
            np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-4)


@pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")
def test_same_reprs_and_errors_as_tensorflow():
    for value in (0.1, [[1.0, 2.0], [3.0, 4.0]], "hello", True, 3):
        assert repr(tw.constant(value)) == repr(tf.constant(value))
        assert str(tw.constant(value)) == str(tf.constant(value))
    assert repr(tw.Variable([1.0, 2.0])) == repr(tf.Variable([1.0, 2.0]))
    for module in (tw, tf):
        with pytest.raises(module.errors.InvalidArgumentError):
            module.constant(2.0) + module.constant(40)


@pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")
def test_in_top_k_matches_tensorflow_with_ties_out_of_range_and_non_finite_rows():
    p = np.array([[0.1, 0.5, 0.5, 0.2], [np.nan, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4],
                  [1.0, np.inf, 0.0, 0.5]], np.float32)
    for targets, k in (([1, 1, 7, 0], 1), ([2, 1, 0, 3], 2), ([0, 3, 3, 1], 3)):
        t = np.array(targets, np.int32)
        np.testing.assert_array_equal(tw.math.in_top_k(t, p, k).numpy(),
                                      tf.math.in_top_k(t, p, k).numpy())
        np.testing.assert_array_equal(tw.nn.in_top_k(t, p, k).numpy(),
                                      tf.nn.in_top_k(t, p, k).numpy())
