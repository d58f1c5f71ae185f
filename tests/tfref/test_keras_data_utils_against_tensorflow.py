"""keras.utils.to_categorical, normalize and set_random_seed against Keras 3 in TensorFlow: the
same inputs give the same values, dtypes, shapes and errors (NumPy and tensor inputs, eager and in
tf.function).

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import random

import numpy as np
import pytest

import tensorweave as tw
from tensorweave.ops import random_ops

pytestmark = pytest.mark.tfref
try:
    import keras
    import tensorflow as tf
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(5)
X = np.array([[3.0, -4.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
X3 = RNG.normal(size=(2, 3, 4))


def _outcome(fn):
    """(kind, value): the result as NumPy with its dtype and type family, or the error type."""
    try:
        out = fn()
    except Exception as error:  # noqa: BLE001 - the error kind is what is compared
        return ("error", type(error).__name__)
    kind = "numpy" if isinstance(out, np.ndarray) else "tensor"
    value = np.asarray(out)
    return (kind, value.dtype.name, value.shape, value)


def _compare(theirs, ours, rtol=1e-6):
    assert ours[:-1] == theirs[:-1] if ours[0] != "error" else ours == theirs
    if ours[0] != "error":
        np.testing.assert_allclose(ours[-1], theirs[-1], rtol=rtol, atol=1e-7)


CATEGORICAL = {
    "list": ([0, 1, 2, 3], None),
    "list_classes": ([0, 2, 1], 5),
    "column": (np.array([[0], [3], [1]]), None),
    "matrix": (np.array([[0, 1], [2, 1]]), None),
    "rank3_trailing_one": (np.array([[[1], [0]]]), 3),
    "scalar": (np.array(2), 4),
    "python_int": (3, None),
    "single": (np.array([1], np.uint8), 2),
    "floats": ([1.7, 0.2], 3),
    "negative": ([-1, 1], 3),
    "zero_classes": ([0, 1], 0),
    "empty": ([], 3),
    "out_of_range": ([3, 1], 3),
    "empty_inferred": ([], None),
    "strings": (["a"], 3),
    "float_classes": ([0, 1], 3.0),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(CATEGORICAL))
def test_to_categorical_numpy_matches_keras(name):
    x, num_classes = CATEGORICAL[name]
    _compare(_outcome(lambda: keras.utils.to_categorical(x, num_classes)),
             _outcome(lambda: tw.keras.utils.to_categorical(x, num_classes)))


TENSOR_CATEGORICAL = {
    "vector": (np.array([0, 2, 1], np.int32), 3),
    "column": (np.array([[0], [2]], np.int64), 3),
    "floats": (np.array([1.0, 2.9, -1.0, 5.0], np.float32), 3),
    "matrix": (np.array([[1, 0], [3, 3]], np.int32), 4),
    "no_classes": (np.array([0, 1], np.int32), None),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(TENSOR_CATEGORICAL))
def test_to_categorical_tensor_matches_keras(name):
    x, num_classes = TENSOR_CATEGORICAL[name]
    _compare(_outcome(lambda: keras.utils.to_categorical(tf.constant(x), num_classes)),
             _outcome(lambda: tw.keras.utils.to_categorical(tw.constant(x), num_classes)))
    if num_classes is not None:
        spec = [None] * (x.ndim - 1) + [x.shape[-1]]
        theirs = tf.function(lambda t: keras.utils.to_categorical(t, num_classes),
                             input_signature=[tf.TensorSpec(spec, tf.as_dtype(x.dtype))])
        ours = tw.function(lambda t: tw.keras.utils.to_categorical(t, num_classes),
                           input_signature=[tw.TensorSpec(spec, tw.as_dtype(x.dtype))])
        _compare(_outcome(lambda: theirs(tf.constant(x))), _outcome(lambda: ours(tw.constant(x))))


# Keras 3's NumPy path divides by the norm expanded at `axis or -1`, so axis=0 on a matrix divides
# along the wrong axis there; tensorweave divides each column by its own norm (the tensor path
# of both, and Keras 2, do the same), so axis=0 is compared on vectors only.
NUMPY_NORMALIZE = {
    "default": (X, -1, 2),
    "float32": (X.astype(np.float32), -1, 2),
    "ints": (np.array([[3, 4]]), -1, 2),
    "order1": (X, 1, 1),
    "order_inf": (X, -1, np.inf),
    "order3_axis_minus2": (X, -2, 3),
    "axis_none_matrix": (np.array([[2.0, 0.0], [0.0, 1.0]]), None, 2),
    "vector": (np.array([3.0, 4.0]), -1, 2),
    "vector_axis0": (np.array([3.0, 4.0]), 0, 2),
    "rank3_axis1": (X3, 1, 2),
    "rank3_two_axes": (X3, (1, 2), 2),
    "tiny": (np.array([[1e-9, 0.0]]), -1, 2),
    "scalar": (np.array(3.0), -1, 2),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(NUMPY_NORMALIZE))
def test_normalize_numpy_matches_keras(name):
    x, axis, order = NUMPY_NORMALIZE[name]
    _compare(_outcome(lambda: keras.utils.normalize(x, axis=axis, order=order)),
             _outcome(lambda: tw.keras.utils.normalize(x, axis=axis, order=order)), rtol=1e-12)


TENSOR_NORMALIZE = {
    "default": (X.astype(np.float32), -1, 2),
    "axis0": (X.astype(np.float32), 0, 2),
    "float64": (X, -1, 2),
    "order1": (X.astype(np.float32), -1, 1),
    "order3": (X.astype(np.float32), 1, 3),
    "two_axes_order2": (X3.astype(np.float32), (1, 2), 2),
    "two_axes_order1": (X3.astype(np.float32), (1, 2), 1),
    "axis_none_order1": (X.astype(np.float32), None, 1),
    "tiny": (np.array([[1e-9, 0.0]], np.float32), -1, 2),
    "tiny_order1": (np.array([[1e-9, 0.0]], np.float32), -1, 1),
    "scalar": (np.array(-3.0, np.float32), -1, 2),
    "ints": (np.array([[3, 4]], np.int32), -1, 2),
    "order_float": (X.astype(np.float32), -1, 1.0),
    "order_zero": (X.astype(np.float32), -1, 0),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(TENSOR_NORMALIZE))
def test_normalize_tensor_matches_keras(name):
    x, axis, order = TENSOR_NORMALIZE[name]
    _compare(_outcome(lambda: keras.utils.normalize(tf.constant(x), axis=axis, order=order)),
             _outcome(lambda: tw.keras.utils.normalize(tw.constant(x), axis=axis, order=order)),
             rtol=1e-6 if x.dtype == np.float32 else 1e-12)


@needs_tf
def test_normalize_list_and_function_match_keras():
    _compare(_outcome(lambda: keras.utils.normalize([[3.0, 4.0]])),
             _outcome(lambda: tw.keras.utils.normalize([[3.0, 4.0]])))
    theirs = tf.function(lambda t: keras.utils.normalize(t, order=1),
                         input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    ours = tw.function(lambda t: tw.keras.utils.normalize(t, order=1),
                       input_signature=[tw.TensorSpec([None, 3], tw.float32)])
    x = X.astype(np.float32)
    _compare(_outcome(lambda: theirs(tf.constant(x))), _outcome(lambda: ours(tw.constant(x))))


@needs_tf
@pytest.mark.parametrize("seed", [1.0, "1", None, np.int64(1), -1, 2 ** 32, True, 0, 123])
def test_set_random_seed_matches_keras(seed):
    states = random.getstate(), np.random.get_state(), random_ops._global_seed
    try:
        outcomes = []
        for set_seed in (keras.utils.set_random_seed, tw.keras.utils.set_random_seed):
            try:
                set_seed(seed)
            except Exception as error:  # noqa: BLE001 - the error is what is compared
                outcomes.append((type(error).__name__, str(error)))
            else:
                outcomes.append((random.random(), np.random.randint(0, 10 ** 6)))
        assert outcomes[0] == outcomes[1]
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        random_ops.set_seed(states[2])
