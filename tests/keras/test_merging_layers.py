"""The merging layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot) and
their functional forms: the layer harness for each, values against NumPy, shape broadcasting on
eager and keras.Input tensors, masks, and Keras 3's errors."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tests.keras_harness import check_layer

L = keras.layers

HARNESS = {
    "add": (lambda **kw: L.Add(**kw), [(3, 4), (3, 4)], (3, 4)),
    "add_three": (lambda **kw: L.Add(**kw), [(3, 4), (3, 4), (3, 4)], (3, 4)),
    "add_broadcast": (lambda **kw: L.Add(**kw), [(3, 4), (3, 1)], (3, 4)),
    "add_ranks": (lambda **kw: L.Add(**kw), [(3, 4), (3, 2, 4)], (3, 2, 4)),
    "subtract": (lambda **kw: L.Subtract(**kw), [(2, 5), (2, 5)], (2, 5)),
    "multiply": (lambda **kw: L.Multiply(**kw), [(3, 4), (3, 4), (3, 4)], (3, 4)),
    "average": (lambda **kw: L.Average(**kw), [(3, 4), (3, 4), (3, 4)], (3, 4)),
    "maximum": (lambda **kw: L.Maximum(**kw), [(3, 4), (3, 4)], (3, 4)),
    "minimum": (lambda **kw: L.Minimum(**kw), [(3, 4), (3, 4), (3, 4)], (3, 4)),
    "concatenate": (lambda **kw: L.Concatenate(**kw), [(2, 3), (2, 4)], (2, 7)),
    "concatenate_axis1": (lambda **kw: L.Concatenate(axis=1, **kw), [(2, 3, 4), (2, 1, 4)],
                          (2, 4, 4)),
    "dot": (lambda **kw: L.Dot(axes=1, **kw), [(3, 4), (3, 4)], (3, 1)),
    "dot_3d": (lambda **kw: L.Dot(axes=(2, 1), **kw), [(2, 3, 4), (2, 4, 5)], (2, 3, 5)),
    "dot_same_axis": (lambda **kw: L.Dot(axes=1, **kw), [(2, 3, 4), (2, 3, 5)], (2, 4, 5)),
    "dot_2d_3d": (lambda **kw: L.Dot(axes=(1, 1), **kw), [(2, 4), (2, 4, 5)], (2, 5)),
    "dot_3d_2d": (lambda **kw: L.Dot(axes=-1, **kw), [(2, 3, 4), (2, 4)], (2, 3)),
    "dot_normalize": (lambda **kw: L.Dot(axes=-1, normalize=True, **kw), [(3, 4), (3, 4)],
                      (3, 1)),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    make, shapes, expected = HARNESS[name]
    check_layer(make, shapes, expected_output_shape=expected)


def _arrays(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


# -- values ----------------------------------------------------------------------------------
def test_elementwise_values_against_numpy():
    a, b, c = _arrays((3, 4), (3, 4), (3, 4))
    close = np.testing.assert_allclose
    close(L.Add()([a, b, c]).numpy(), a + b + c, rtol=1e-6)
    close(L.Subtract()([a, b]).numpy(), a - b, rtol=1e-6)
    close(L.Multiply()([a, b, c]).numpy(), a * b * c, rtol=1e-6)
    close(L.Average()([a, b, c]).numpy(), (a + b + c) / 3, rtol=1e-6)
    close(L.Maximum()([a, b, c]).numpy(), np.maximum(np.maximum(a, b), c))
    close(L.Minimum()([a, b, c]).numpy(), np.minimum(np.minimum(a, b), c))
    close(L.Add()([a]).numpy(), a)  # one input is accepted by Keras 3


def test_inputs_of_lower_rank_get_axes_after_the_batch_axis():
    a, b = _arrays((3, 4), (3, 2, 4))
    np.testing.assert_allclose(L.Add()([a, b]).numpy(), a[:, None, :] + b, rtol=1e-6)
    a, b = _arrays((3, 2), (3, 2, 5))
    # (3, 2) becomes (3, 1, 2): not broadcastable with (3, 2, 5)
    with pytest.raises(ValueError, match=r"Inputs have incompatible shapes. Received shapes "
                                         r"\(2, 5\) and \(2,\)"):
        L.Add()([a, b])


def test_concatenate_values():
    a, b, c = _arrays((2, 3, 4), (2, 1, 4), (2, 2, 4))
    np.testing.assert_array_equal(L.Concatenate(axis=1)([a, b, c]).numpy(),
                                  np.concatenate([a, b, c], axis=1))
    np.testing.assert_array_equal(L.concatenate([a, a], axis=-1).numpy(),
                                  np.concatenate([a, a], axis=-1))


def test_dot_values_against_numpy():
    a, b = _arrays((3, 4), (3, 4))
    np.testing.assert_allclose(L.Dot(axes=1)([a, b]).numpy(),
                               np.sum(a * b, axis=1, keepdims=True), rtol=1e-5)
    cosine = np.sum(a * b, 1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    np.testing.assert_allclose(L.Dot(axes=1, normalize=True)([a, b]).numpy()[:, 0], cosine,
                               rtol=1e-5)
    x, y = _arrays((2, 3, 4), (2, 5, 3))
    np.testing.assert_allclose(L.Dot(axes=(1, 2))([x, y]).numpy(),
                               np.einsum("bij,bkj->bik", x.transpose(0, 2, 1), y), rtol=1e-5)
    x, y = _arrays((2, 3, 4, 2), (2, 4, 6))
    np.testing.assert_allclose(L.dot([x, y], axes=(2, 1)).numpy(),
                               np.einsum("bijk,bjl->bikl", x, y), rtol=1e-5)


# -- functional forms and keras.Input ----------------------------------------------------------
def test_functional_forms_on_keras_inputs():
    i1, i2, i3 = keras.Input((4,)), keras.Input((4,)), keras.Input((4,))
    for fn in (L.add, L.multiply, L.average, L.maximum, L.minimum):
        out = fn([i1, i2, i3])
        assert keras.backend.is_keras_tensor(out) and out.shape == (None, 4)
    assert L.subtract([i1, i2]).shape == (None, 4)
    assert L.concatenate([i1, i2, i3]).shape == (None, 12)
    assert L.dot([i1, i2], axes=1).shape == (None, 1)
    assert L.add([i1, keras.Input((3, 4))]).shape == (None, 3, 4)
    assert L.add([keras.Input((4,), batch_size=2), i1]).shape == (2, 4)
    assert L.concatenate([keras.Input((None, 3)), keras.Input((2, 3))], axis=1).shape == \
        (None, None, 3)
    layer = L.Add(name="my_add")
    assert layer([i1, i2]).shape == (None, 4) and layer.name == "my_add"
    assert L.add([i1, i2], name="named_add").shape == (None, 4)


def test_ensemble_average_model_from_the_notes():
    inputs = keras.Input((5,))
    heads = [L.Dense(1, name=f"head{i}")(inputs) for i in range(3)]
    outputs = L.average(heads)
    model = keras.Model(inputs, outputs)
    x = _arrays((4, 5))[0]
    expected = np.mean([x @ model.get_layer(f"head{i}").get_weights()[0]
                        + model.get_layer(f"head{i}").get_weights()[1] for i in range(3)], axis=0)
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-6)


def test_residual_add_model_from_the_notes():
    inputs = keras.Input((6,))
    h = L.Dense(6, activation="relu")(inputs)
    block = L.Dense(6)(h)
    out = L.add([block, inputs])
    model = keras.Model(inputs, out)
    x = _arrays((3, 6))[0]
    (k1, b1), (k2, b2) = [model.layers[i].get_weights() for i in (1, 2)]
    expected = np.maximum(x @ k1 + b1, 0) @ k2 + b2 + x
    np.testing.assert_allclose(model(x).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_merge_in_tf_function_with_unknown_batch():
    layer = L.Concatenate()
    fn = tf.function(lambda a, b: layer([a, b]),
                     input_signature=[tf.TensorSpec([None, 2]), tf.TensorSpec([None, 3])])
    a, b = _arrays((5, 2), (5, 3))
    np.testing.assert_array_equal(fn(a, b).numpy(), np.concatenate([a, b], 1))


# -- errors ----------------------------------------------------------------------------------
def test_errors_name_the_shapes():
    a = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match=r"Received shapes \(3,\) and \(2,\)"):
        L.Add()([keras.Input((3,)), keras.Input((2,))])
    with pytest.raises(ValueError, match=r"Received shapes \(3,\) and \(2,\)"):
        L.Maximum()([a, np.ones((4, 2), np.float32)])
    with pytest.raises(ValueError, match=r"different batch sizes. Received tensors with shapes "
                                         r"\[\(4, 3\), \(5, 3\)\]"):
        L.Add()([a, np.ones((5, 3), np.float32)])
    with pytest.raises(ValueError, match="should be called on a list of inputs"):
        L.Add()(a)
    with pytest.raises(ValueError, match="at least 1 input"):
        L.Add()([])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.Subtract()([a, a, a])
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        L.subtract([keras.Input((3,))])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        L.Concatenate()([keras.Input((3, 4)), keras.Input((2, 5))])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        L.Concatenate()([keras.Input((3, 4)), keras.Input((4,))])
    with pytest.raises(ValueError, match=r"axis values 3 \(at axis 1\) != 4 \(at axis 1\)"):
        L.Dot(1)([keras.Input((3,)), keras.Input((4,))])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        L.Dot(1)([a, a, a])
    with pytest.raises(TypeError, match="should be a list or an int"):
        L.Dot("1")
    with pytest.raises(ValueError, match="two elements"):
        L.Dot((1, 1, 1))


# -- masks -----------------------------------------------------------------------------------
def _masked(array, mask):
    t = tf.constant(array)
    t._keras_mask = tf.constant(mask)
    return t


M1 = np.array([[True, False, True], [False, False, True]])
M2 = np.array([[True, True, False], [False, True, True]])


def test_elementwise_merges_or_the_masks():
    a, b = _arrays((2, 3, 4), (2, 3, 4))
    for layer in (L.Add(), L.Subtract(), L.Average(), L.Multiply(), L.Maximum(), L.Minimum()):
        out = layer([_masked(a, M1), _masked(b, M2)])
        np.testing.assert_array_equal(out._keras_mask.numpy(), M1 | M2)
    out = L.Add()([_masked(a, M1), tf.constant(b)])
    assert getattr(out, "_keras_mask", None) is None


def test_maximum_and_multiply_ignore_masked_out_entries():
    a, b = _arrays((2, 3, 4), (2, 3, 4))
    m1, m2 = M1[..., None], M2[..., None]
    # Maximum: a masked-out value takes the other input's value; nothing masked in: the first
    second = np.where(m2, b, a)
    first = np.where(m1, a, second)
    np.testing.assert_allclose(L.Maximum()([_masked(a, M1), _masked(b, M2)]).numpy(),
                               np.maximum(first, second))
    np.testing.assert_allclose(L.Minimum()([_masked(a, M1), _masked(b, M2)]).numpy(),
                               np.minimum(first, second))
    # Multiply: masked-out values count as 1, and the product is 0 where all are masked out
    product = np.where(m1, a, 1) * np.where(m2, b, 1)
    np.testing.assert_allclose(L.Multiply()([_masked(a, M1), _masked(b, M2)]).numpy(),
                               np.where(m1 | m2, product, 0), rtol=1e-6)
    # Add ignores the masks in its values
    np.testing.assert_allclose(L.Add()([_masked(a, M1), _masked(b, M2)]).numpy(), a + b)


def test_concatenate_mask():
    a, b = _arrays((2, 3, 4), (2, 3, 5))
    out = L.Concatenate()([_masked(a, M1), tf.constant(b)])
    # along the feature axis an unmasked input makes every step present
    np.testing.assert_array_equal(out._keras_mask.numpy(), np.ones((2, 3), bool))
    out = L.Concatenate(axis=1)([_masked(a, M1), _masked(_arrays((2, 3, 4))[0], M2)])
    np.testing.assert_array_equal(out._keras_mask.numpy(), np.concatenate([M1, M2], axis=1))
    out = L.Dot(axes=2)([_masked(a, M1), _masked(a, M2)])
    assert getattr(out, "_keras_mask", None) is None


def test_configs():
    assert L.Concatenate(axis=2, name="c").get_config()["axis"] == 2
    config = L.Dot(axes=[1, 2], normalize=True).get_config()
    assert (config["axes"], config["normalize"]) == ([1, 2], True)
    assert set(L.Add().get_config()) == {"name", "trainable", "dtype"}
    clone = L.Dot.from_config(config)
    assert clone.axes == [1, 2] and clone.normalize is True
