"""tf.pad in a tf.function whose input has dimensions unknown while tracing: the CONSTANT,
REFLECT and SYMMETRIC modes against np.pad, the static output shape, the gradient against a
NumPy oracle, and MirrorPad's padding limit checked when the graph runs."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave.errors import InvalidArgumentError

NP_MODES = {"CONSTANT": "constant", "REFLECT": "reflect", "SYMMETRIC": "symmetric"}
PADDINGS = [[1, 2], [2, 1], [0, 1]]


def _x(*shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape) * 0.5 - 1.0


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC", "reflect"])
def test_pad_with_unknown_dims_matches_numpy(mode):
    @tf.function(input_signature=[tf.TensorSpec([None, 4, None], tf.float32)])
    def padded(x):
        return tf.pad(x, PADDINGS, mode)

    assert padded.get_concrete_function().structured_outputs.shape.as_list() == [None, 7, None]
    for shape in [(3, 4, 2), (5, 4, 3), (4, 4, 2)]:
        x = _x(*shape)
        np.testing.assert_array_equal(padded(x).numpy(),
                                      np.pad(x, PADDINGS, mode=NP_MODES[mode.upper()]))
    assert padded.experimental_get_tracing_count() == 1


def test_pad_with_unknown_rank_and_a_constant_value():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def padded(x):
        return (tf.pad(x, [[1, 1], [2, 0]], "REFLECT"),
                tf.pad(x, [[1, 1], [2, 0]], "SYMMETRIC"),
                tf.pad(x, [[1, 1], [2, 0]], constant_values=7.0))

    x = _x(3, 3)
    reflect, symmetric, constant = padded(x)
    np.testing.assert_array_equal(reflect.numpy(), np.pad(x, [[1, 1], [2, 0]], mode="reflect"))
    np.testing.assert_array_equal(symmetric.numpy(),
                                  np.pad(x, [[1, 1], [2, 0]], mode="symmetric"))
    np.testing.assert_array_equal(constant.numpy(),
                                  np.pad(x, [[1, 1], [2, 0]], constant_values=7.0))


@pytest.mark.parametrize("mode", ["CONSTANT", "REFLECT", "SYMMETRIC"])
def test_gradient_with_unknown_dims_matches_numpy(mode):
    """d sum(w * pad(x)) / dx[i] = sum(w * pad(e_i)): np.pad of each basis vector."""
    paddings = [[2, 1], [1, 2]]

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32),
                                  tf.TensorSpec([None, None], tf.float32)])
    def grad(x, w):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.reduce_sum(w * tf.pad(x, paddings, mode))
        return tape.gradient(y, x)

    for shape in [(3, 4), (4, 3)]:
        x = _x(*shape)
        out_shape = (shape[0] + 3, shape[1] + 3)
        w = np.random.default_rng(shape[0]).normal(size=out_shape).astype(np.float32)
        expected = np.zeros(shape, np.float32)
        for i in np.ndindex(*shape):
            e = np.zeros(shape, np.float32)
            e[i] = 1.0
            expected[i] = np.sum(w * np.pad(e, paddings, mode=NP_MODES[mode]))
        np.testing.assert_allclose(grad(x, w).numpy(), expected, rtol=1e-6, atol=1e-6)
    assert grad.experimental_get_tracing_count() == 1


def test_too_large_padding_is_refused_when_the_graph_runs():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def reflect(x):
        return tf.pad(x, [[2, 2], [1, 1]], "REFLECT")

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def symmetric(x):
        return tf.pad(x, [[3, 0], [1, 1]], "SYMMETRIC")

    # at the limit: REFLECT takes a padding up to size - 1, SYMMETRIC up to size
    np.testing.assert_array_equal(reflect(_x(3, 3)).numpy(),
                                  np.pad(_x(3, 3), [[2, 2], [1, 1]], mode="reflect"))
    np.testing.assert_array_equal(symmetric(_x(3, 3)).numpy(),
                                  np.pad(_x(3, 3), [[3, 0], [1, 1]], mode="symmetric"))
    with pytest.raises(InvalidArgumentError,
                       match="paddings must be less than the dimension size: 2, 2 not less "
                             "than 2"):
        reflect(_x(2, 3))
    with pytest.raises(InvalidArgumentError,
                       match="paddings must be no greater than the dimension size: 3, 0 greater "
                             "than 2"):
        symmetric(_x(2, 3))


def test_known_dims_are_still_checked_while_tracing():
    with pytest.raises(InvalidArgumentError, match="not less than 3"):
        @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
        def reflect(x):
            return tf.pad(x, [[1, 1], [3, 0]], "REFLECT")
        reflect.get_concrete_function()
    with pytest.raises(InvalidArgumentError, match="not less than 2"):
        tf.pad(_x(2, 3), [[2, 0], [0, 0]], "REFLECT")


def test_wrong_rank_is_refused_when_the_graph_runs():
    @tf.function(input_signature=[tf.TensorSpec(None, tf.float32)])
    def padded(x):
        return tf.pad(x, [[1, 1], [1, 1]], "REFLECT"), tf.pad(x, [[1, 1], [1, 1]])

    with pytest.raises(InvalidArgumentError,
                       match=r"The first dimension of paddings must be the rank of "
                             r"inputs\[2,2\], \[2,3,4\]"):
        padded(_x(2, 3, 4))
