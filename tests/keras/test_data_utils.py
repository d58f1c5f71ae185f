"""keras.utils.set_random_seed, to_categorical and normalize: reproducibility of models, dropout,
NumPy, Python and tf.random after seeding; one-hot and norms against NumPy formulas, eagerly and in
tf.function; Keras 3's errors."""
import random

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.ops import random_ops

utils = keras.utils


@pytest.fixture
def restore_seeds():
    """Leaves Python's, NumPy's and tensorweave's global random state as the test found it."""
    py_state, np_state, tf_seed = random.getstate(), np.random.get_state(), random_ops._global_seed
    yield
    random.setstate(py_state)
    np.random.set_state(np_state)
    random_ops.set_seed(tf_seed)


# -- set_random_seed -------------------------------------------------------------------------------
def _model_run():
    """Builds an unseeded model with dropout; returns its weights, two training-mode outputs
    (eager and in tf.function) and draws from NumPy, Python and tf.random."""
    model = keras.Sequential([keras.Input((6,)),
                              keras.layers.Dense(8, bias_initializer="he_normal"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3)])
    x = np.ones((4, 6), np.float32)
    eager = model(x, training=True).numpy()
    compiled = tf.function(lambda t: model(t, training=True))(x).numpy()
    return {"weights": [w.numpy() for w in model.weights], "eager": eager, "compiled": compiled,
            "numpy": np.random.randint(0, 10**6, size=8), "python": random.random(),
            "tf": tf.random.uniform([5]).numpy(),
            "data": list(tf.data.Dataset.range(20).shuffle(20).as_numpy_iterator())}


def _same(a, b):
    for key in a:
        if isinstance(a[key], list) and a[key] and isinstance(a[key][0], np.ndarray):
            assert len(a[key]) == len(b[key])
            for u, v in zip(a[key], b[key]):
                np.testing.assert_array_equal(u, v)
        else:
            np.testing.assert_array_equal(a[key], b[key])


def test_set_random_seed_reproduces_models_dropout_and_draws(restore_seeds):
    utils.set_random_seed(42)
    first = _model_run()
    utils.set_random_seed(42)
    second = _model_run()
    _same(first, second)
    # the dropout really dropped something (the masks compared are not all ones)
    hidden = keras.Sequential([keras.Input((6,)), keras.layers.Dropout(0.5)])
    utils.set_random_seed(42)
    assert (hidden(np.ones((4, 6), np.float32), training=True).numpy() == 0).any()
    # a NumPy draw after seeding is the one np.random.seed gives
    utils.set_random_seed(7)
    draw = np.random.randint(0, 1000, size=6)
    np.random.seed(7)
    np.testing.assert_array_equal(draw, np.random.randint(0, 1000, size=6))
    utils.set_random_seed(7)
    value = random.random()
    random.seed(7)
    assert value == random.random()
    assert random_ops._global_seed == 7


def test_set_random_seed_different_seeds_differ(restore_seeds):
    utils.set_random_seed(1)
    first = _model_run()
    utils.set_random_seed(2)
    second = _model_run()
    assert not np.array_equal(first["weights"][0], second["weights"][0])
    assert not np.array_equal(first["numpy"], second["numpy"])
    assert not np.array_equal(first["tf"], second["tf"])


def test_set_random_seed_errors(restore_seeds):
    for bad in (1.0, "1", None, np.int64(1), [1]):
        with pytest.raises(ValueError) as info:
            utils.set_random_seed(bad)
        assert str(info.value) == ("Expected `seed` argument to be an integer. "
                                   f"Received: seed={bad} (of type {type(bad)})")
    utils.set_random_seed(True)  # a bool is an int
    assert random_ops._global_seed == 1
    for bad in (-1, 2 ** 32):
        with pytest.raises(ValueError, match="between 0 and 2"):
            utils.set_random_seed(bad)


# -- to_categorical --------------------------------------------------------------------------------
def _one_hot_oracle(labels, num_classes):
    return np.eye(num_classes)[np.asarray(labels)]


@pytest.mark.parametrize("labels,num_classes,shape", [
    ([0, 1, 2, 3], None, (4, 4)),
    ([0, 2, 1], 5, (3, 5)),
    (np.array([[0], [3], [1]]), None, (3, 4)),          # trailing 1 dropped
    (np.array([[0, 1], [2, 1]]), None, (2, 2, 3)),
    (np.array([[[1], [0]]]), 3, (1, 2, 3)),
    (np.array(2), 4, (4,)),
    (3, None, (4,)),
    (np.array([1], np.uint8), 2, (1, 2)),                # a single label of shape (1,): kept
])
def test_to_categorical_numpy(labels, num_classes, shape):
    out = utils.to_categorical(labels, num_classes)
    assert isinstance(out, np.ndarray) and out.dtype == np.float64 and out.shape == shape
    flat = np.asarray(labels).reshape(-1)
    n = num_classes or flat.max() + 1
    np.testing.assert_array_equal(out.reshape(-1, n), _one_hot_oracle(flat, n))


def test_to_categorical_numpy_details():
    # float labels are truncated toward zero, as np.array(x, dtype=int64) does
    np.testing.assert_array_equal(utils.to_categorical([1.7, 0.2], 3), _one_hot_oracle([1, 0], 3))
    # a negative label counts from the end (NumPy indexing), as in Keras
    np.testing.assert_array_equal(utils.to_categorical([-1, 1], 3), _one_hot_oracle([2, 1], 3))
    # num_classes=0 is "not given"
    assert utils.to_categorical([0, 1], 0).shape == (2, 2)
    assert utils.to_categorical([], 3).shape == (0, 3)
    with pytest.raises(IndexError):
        utils.to_categorical([3, 1], 3)
    with pytest.raises(ValueError):
        utils.to_categorical([])
    with pytest.raises(ValueError):
        utils.to_categorical(["a"], 3)
    with pytest.raises(TypeError):
        utils.to_categorical([0, 1], 3.0)


def test_to_categorical_tensor():
    out = utils.to_categorical(tf.constant([[0], [2], [1]]), 3)
    assert tf.is_tensor(out) and out.dtype == tf.float32 and out.shape == (3, 3)
    np.testing.assert_array_equal(out.numpy(), _one_hot_oracle([0, 2, 1], 3))
    # float and variable inputs are cast to int64; out-of-range labels give a zero row
    out = utils.to_categorical(tf.constant([1.0, 2.9, -1.0, 5.0]), 3)
    np.testing.assert_array_equal(out.numpy(), [[0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 0, 0]])
    out = utils.to_categorical(tf.Variable([[1, 0]]), 2)
    np.testing.assert_array_equal(out.numpy(), [[[0, 1], [1, 0]]])
    with pytest.raises(ValueError, match="None"):
        utils.to_categorical(tf.constant([0, 1]))


def test_to_categorical_in_function():
    fn = tf.function(lambda y: utils.to_categorical(y, 4),
                     input_signature=[tf.TensorSpec([None, 1], tf.int32)])
    out = fn(tf.constant([[3], [0]]))
    np.testing.assert_array_equal(out.numpy(), _one_hot_oracle([3, 0], 4).astype(np.float32))
    assert fn.get_concrete_function().structured_outputs.shape.as_list() == [None, 4]


# -- normalize -------------------------------------------------------------------------------------
X = np.array([[3.0, -4.0, 0.0], [0.0, 0.0, 0.0], [1.0, 2.0, 2.0]])
X3 = np.random.default_rng(0).normal(size=(2, 3, 4))


def _vector_norm(x, order, axis):
    if order == np.inf:
        return np.max(np.abs(x), axis=axis, keepdims=True)
    return np.sum(np.abs(x) ** order, axis=axis, keepdims=True) ** (1.0 / order)


@pytest.mark.parametrize("x,axis,order", [
    (X, -1, 2), (X, 1, 1), (X, -1, np.inf), (X, 0, 2), (X, -2, 3),
    (X3, 1, 2), (X3, 0, 1), (X3.astype(np.float32), 2, 2),
])
def test_normalize_numpy(x, axis, order):
    out = utils.normalize(x, axis=axis, order=order)
    assert isinstance(out, np.ndarray) and out.dtype == x.dtype and out.shape == x.shape
    norm = _vector_norm(x, order, axis)
    expected = x / np.where(norm == 0, 1, norm)  # a zero vector stays zero
    np.testing.assert_allclose(out, expected, rtol=1e-6 if x.dtype == np.float32 else 1e-12)


def test_normalize_numpy_shapes_and_dtypes():
    # a vector comes back as one row (Keras's behaviour)
    out = utils.normalize(np.array([3.0, 4.0]))
    assert out.shape == (1, 2)
    np.testing.assert_allclose(out, [[0.6, 0.8]])
    out = utils.normalize(np.array([[3, 4]]))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [[0.6, 0.8]])
    # no epsilon on the NumPy path: a tiny vector still gets unit norm
    np.testing.assert_allclose(utils.normalize(np.array([[1e-9, 0.0]])), [[1.0, 0.0]])
    # axis None: NumPy's norm of the whole (here 2-norm of a matrix = largest singular value)
    m = np.array([[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(utils.normalize(m, axis=None), m / 2.0)
    # two axes: NumPy's matrix norm of each matrix (order 2: largest singular value)
    spectral = np.linalg.svd(X3, compute_uv=False).max(axis=-1)
    np.testing.assert_allclose(utils.normalize(X3, axis=(1, 2)), X3 / spectral[:, None, None],
                               rtol=1e-12)
    original = X.copy()
    utils.normalize(X)
    np.testing.assert_array_equal(X, original)


@pytest.mark.parametrize("axis,order", [(-1, 2), (0, 2), (-1, 1), (1, 3), ((0, 1), 2)])
def test_normalize_tensor(axis, order):
    x = X.astype(np.float32)
    out = utils.normalize(tf.constant(x), axis=axis, order=order)
    assert tf.is_tensor(out) and out.dtype == tf.float32 and out.shape == x.shape
    norm = np.sqrt(np.sum(x.astype(np.float64) ** 2, axis=axis, keepdims=True)) if order == 2 \
        else _vector_norm(x.astype(np.float64), order, axis)
    expected = x / np.maximum(norm, 1e-7)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-7)


def test_normalize_tensor_details():
    # the epsilon of keras.config bounds the norm from below (1 / epsilon caps the scale)
    out = utils.normalize(tf.constant([[1e-9, 0.0]]))
    np.testing.assert_allclose(out.numpy(), [[1e-9 / 1e-7, 0.0]], rtol=1e-5)
    out = utils.normalize(tf.constant([[1e-9, 0.0]]), order=1)
    np.testing.assert_allclose(out.numpy(), [[1e-9 / 1e-7, 0.0]], rtol=1e-5)
    # a list goes through the tensor path; a scalar becomes a vector
    out = utils.normalize([[3.0, 4.0]])
    assert tf.is_tensor(out)
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8]], rtol=1e-6)
    out = utils.normalize(tf.constant(-3.0))
    assert out.shape == (1,) and out.numpy()[0] == -1.0
    out = utils.normalize(tf.constant([[3.0, 4.0]], tf.float64))
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8]], rtol=1e-15)
    # the matrix 1-norm (largest column sum) over two axes
    out = utils.normalize(tf.constant(X.astype(np.float32)), axis=(0, 1), order=1)
    np.testing.assert_allclose(out.numpy(), X / 6.0, rtol=1e-6)
    for order in (0, 1.0, -2, "1"):
        with pytest.raises(ValueError, match="`order` must be an int >= 1"):
            utils.normalize(tf.constant([[1.0]]), order=order)
    with pytest.raises(tf.errors.InvalidArgumentError):
        utils.normalize(tf.constant([[3, 4]]))  # rsqrt has no integer kernel, as in TF
    with pytest.raises(ValueError, match="axis"):
        utils.normalize(tf.constant([[1.0]]), axis=2, order=1)


def test_normalize_in_function_and_gradient():
    fn = tf.function(lambda t: utils.normalize(t, axis=-1),
                     input_signature=[tf.TensorSpec([None, 3], tf.float64)])
    out = fn(tf.constant(X))
    norm = np.linalg.norm(X, axis=-1, keepdims=True)
    np.testing.assert_allclose(out.numpy(), X / np.maximum(norm, 1e-7), rtol=1e-12)
    # d/dx sum(w * x / |x|) = (w - (w.u) u) / |x|, u = x / |x|
    x, w = np.array([[1.0, 2.0, 2.0]]), np.array([[0.5, -1.0, 2.0]])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = tf.reduce_sum(utils.normalize(xt) * w)
    u = x / 3.0
    np.testing.assert_allclose(tape.gradient(loss, xt).numpy(),
                               (w - (w * u).sum() * u) / 3.0, rtol=1e-12)
