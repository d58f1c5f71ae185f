"""The layer harness (DESIGN §9): one call checks a layer the way every layer must behave.

    check_layer(make, input_shape, ...)
        make(**kwargs)         builds a fresh layer, passing kwargs (dtype=...) to its constructor
        input_shape            batch shape of the test input (or a list of shapes: several inputs)

It asserts: eager call output shape (and `expected_output_shape`), a symbolic call on
`keras.Input`s giving a KerasTensor of the same shape (batch None), `compute_output_shape` where
the layer defines it, the trainable / non-trainable weight counts, a JSON-able `get_config` whose
`from_config` clone (given the same weights) computes the same output and the same config, the
same output inside a tf.function, the whole-model round trip (the layer in a small functional
model saved with `model.save("m.keras")` and read back by `keras.models.load_model`, with
`custom_objects` for the test's own layers, gives the same weights and the same predictions),
and the gradients of the output with respect to the inputs and every trainable weight against
central finite differences (in float64).
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

import tensorweave as tf
from tensorweave import keras


def _inputs(input_shape, input_dtype, rng, input_data):
    if input_data is not None:
        return input_data
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    arrays = []
    for shape in shapes:
        if np.dtype(input_dtype).kind in "iu":
            arrays.append(rng.integers(0, 10, size=shape).astype(input_dtype))
        else:
            arrays.append(rng.standard_normal(size=shape).astype(input_dtype))
    return arrays if isinstance(input_shape, list) else arrays[0]


def _as_tensors(x):
    if isinstance(x, list):
        return [tf.constant(a) for a in x]
    return tf.constant(x)


def _shape_of(x):
    return tuple(x.shape.as_list()) if hasattr(x.shape, "as_list") else tuple(x.shape)


def _call(layer, x, call_kwargs):
    return layer(_as_tensors(x), **call_kwargs)


def _numeric_gradient(scalar, arrays, eps=1e-6):
    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        flat = g.reshape(-1)
        for j in range(a.size):
            plus = [x.copy() for x in arrays]
            minus = [x.copy() for x in arrays]
            plus[i].reshape(-1)[j] += eps
            minus[i].reshape(-1)[j] -= eps
            flat[j] = (scalar(plus) - scalar(minus)) / (2 * eps)
        grads.append(g)
    return grads


def check_gradients(make, x, call_kwargs, rtol=1e-5, atol=1e-6, seed=0):
    """Gradients of sum(output * w) with respect to the float inputs and the trainable weights
    of a float64 layer against central finite differences."""
    rng = np.random.default_rng(seed)
    layer = make(dtype="float64")
    inputs = x if isinstance(x, list) else [x]
    float_inputs = [np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else a
                    for a in inputs]
    packed = lambda arrays: arrays if isinstance(x, list) else arrays[0]  # noqa: E731
    out = layer(_as_tensors(packed(float_inputs)), **call_kwargs)
    weights_out = rng.uniform(0.5, 1.5, size=_shape_of(out))
    variables = layer.trainable_weights
    differentiable = [i for i, a in enumerate(float_inputs) if np.asarray(a).dtype.kind == "f"]

    def scalar_of(tensors):
        return tf.reduce_sum(layer(packed(tensors), **call_kwargs) * weights_out)

    tensors = [tf.constant(a) for a in float_inputs]
    with tf.GradientTape() as tape:
        for i in differentiable:
            tape.watch(tensors[i])
        value = scalar_of(tensors)
    analytic = tape.gradient(value, [tensors[i] for i in differentiable] + list(variables))
    originals = [np.array(v.numpy(), np.float64) for v in variables]  # 0-d weights stay arrays

    def numeric_scalar(arrays):
        for v, a in zip(variables, arrays[len(differentiable):]):
            v.assign(a)
        full = list(float_inputs)
        for i, a in zip(differentiable, arrays[:len(differentiable)]):
            full[i] = a
        return float(scalar_of([tf.constant(a) for a in full]).numpy())

    arrays = [np.array(float_inputs[i], np.float64) for i in differentiable] + \
        [o.copy() for o in originals]
    numeric = _numeric_gradient(numeric_scalar, arrays)
    for v, o in zip(variables, originals):
        v.assign(o)
    names = [f"input {i}" for i in differentiable] + [v.name for v in variables]
    for name, a, n in zip(names, analytic, numeric):
        a = np.zeros_like(n) if a is None else np.asarray(tf.convert_to_tensor(a).numpy())
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol, err_msg=f"gradient of {name}")


def _is_array(value) -> bool:
    return isinstance(value, (np.ndarray, tf.Tensor, tf.Variable))


def _flat_outputs(out) -> list:
    if isinstance(out, dict):
        return [np.asarray(out[k]) for k in sorted(out)]
    if isinstance(out, (list, tuple)):
        return [a for o in out for a in _flat_outputs(o)]
    return [np.asarray(out)]


def check_model_round_trip(make, x, call_kwargs=None, custom_objects=None):
    """The layer `make()` builds, in a functional model (one `keras.Input` per input, and one
    per array-valued call argument such as `value=` or `mask=`), saved to a `.keras` file and
    loaded back with `keras.models.load_model`: the loaded model has the same layers, weights
    (names and values) and predictions. Returns the loaded model."""
    from tensorweave.keras.models import load_model

    call_kwargs = {k: v for k, v in (call_kwargs or {}).items() if k != "training"}
    arrays = [np.asarray(a) for a in (x if isinstance(x, list) else [x])]
    inputs = [keras.Input(batch_shape=(None,) + a.shape[1:], dtype=str(a.dtype),
                          name=f"input_{i}") for i, a in enumerate(arrays)]
    array_kwargs = {k: np.asarray(v) for k, v in call_kwargs.items() if _is_array(v)}
    kwarg_inputs = {k: keras.Input(batch_shape=(None,) + a.shape[1:], dtype=str(a.dtype),
                                   name=f"kwarg_{k}") for k, a in array_kwargs.items()}
    constants = {k: v for k, v in call_kwargs.items() if k not in array_kwargs}
    layer = make()
    out = layer(inputs if isinstance(x, list) else inputs[0], **kwarg_inputs, **constants)
    all_inputs = inputs + list(kwarg_inputs.values())
    model = keras.Model(all_inputs if len(all_inputs) > 1 else all_inputs[0], out)
    feed = [tf.constant(a) for a in arrays + list(array_kwargs.values())]
    feed = feed if len(feed) > 1 else feed[0]
    expected = _flat_outputs(model(feed, training=False))
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "m.keras")
        model.save(path)
        loaded = load_model(path, custom_objects=custom_objects)
    assert type(loaded) is type(model)
    assert [type(lay).__name__ for lay in loaded.layers] == \
        [type(lay).__name__ for lay in model.layers]
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]
    assert len(loaded.trainable_weights) == len(model.trainable_weights)
    for ours, theirs in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(ours.numpy()), np.asarray(theirs.numpy()),
                                      err_msg=ours.name)
    got = _flat_outputs(loaded(feed, training=False))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    return loaded


def check_layer(make, input_shape, *, input_dtype="float32", input_data=None,
                expected_output_shape=None, trainable_weights: int = 0,
                non_trainable_weights: int = 0, call_kwargs=None, grad: bool = True,
                grad_rtol: float = 1e-5, grad_atol: float = 1e-6, symbolic: bool = True,
                custom_objects=None, seed: int = 0, save: bool = True):
    """Runs every check of the module docstring on the layer `make()` builds; returns the
    eager output."""
    call_kwargs = dict(call_kwargs or {})
    rng = np.random.default_rng(seed)
    x = _inputs(input_shape, input_dtype, rng, input_data)

    layer = make()
    out = _call(layer, x, call_kwargs)
    assert layer.built, "the layer is built after its first call"
    out_shape = _shape_of(out)
    if expected_output_shape is not None:
        assert out_shape == tuple(expected_output_shape), (out_shape, expected_output_shape)
    assert len(layer.trainable_weights) == trainable_weights, \
        [w.name for w in layer.trainable_weights]
    assert len(layer.non_trainable_weights) == non_trainable_weights, \
        [w.name for w in layer.non_trainable_weights]
    assert layer.count_params() == sum(int(np.prod(w.shape.as_list())) for w in layer.weights)

    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    if symbolic:
        sym_inputs = [keras.Input(batch_shape=(None,) + tuple(s[1:]),
                                  dtype=str(np.dtype(input_dtype))) for s in shapes]
        sym_layer = make()
        sym_out = sym_layer(sym_inputs if isinstance(input_shape, list) else sym_inputs[0],
                            **call_kwargs)
        assert keras.backend.is_keras_tensor(sym_out)
        assert tuple(sym_out.shape[1:]) == out_shape[1:], (sym_out.shape, out_shape)
        if type(layer).compute_output_shape is not keras.layers.Layer.compute_output_shape:
            computed = layer.compute_output_shape(input_shape if not isinstance(input_shape, list)
                                                  else [tuple(s) for s in input_shape])
            assert tuple(computed) == out_shape, (computed, out_shape)

    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config) if custom_objects is None else \
        keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer),
                                              custom_objects=custom_objects)
    clone(_as_tensors(x), **call_kwargs)
    clone.set_weights(layer.get_weights())
    inference = dict(call_kwargs)
    inference.setdefault("training", False)
    try:
        expected = _call(layer, x, inference)
    except TypeError:
        inference = call_kwargs
        expected = _call(layer, x, inference)
    np.testing.assert_allclose(np.asarray(_call(clone, x, inference)), np.asarray(expected),
                               rtol=1e-6, atol=1e-6)
    assert clone.get_config() == config

    compiled = tf.function(lambda *t: layer(list(t) if isinstance(x, list) else t[0],
                                            **inference))
    args = _as_tensors(x) if isinstance(x, list) else [_as_tensors(x)]
    np.testing.assert_allclose(np.asarray(compiled(*args)), np.asarray(expected),
                               rtol=1e-5, atol=1e-6)

    if symbolic and save:
        check_model_round_trip(make, x, call_kwargs, custom_objects)

    if grad:
        check_gradients(make, x, inference, rtol=grad_rtol, atol=grad_atol, seed=seed)
    return out
