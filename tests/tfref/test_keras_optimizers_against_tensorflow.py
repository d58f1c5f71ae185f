"""Optimizers and learning rate schedules against Keras 3 in TensorFlow: the same steps on the
same variables give the same variables and optimizer variables (names and values), the same
configs, and the schedules the same values.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import json
import warnings

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf
    import keras
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(5)
SHAPES = [(3, 4), (4,), (2, 3)]
DTYPES = [np.float32, np.float32, np.float64]
INITIAL = [RNG.normal(size=s).astype(d) for s, d in zip(SHAPES, DTYPES)]
STEPS = 4
# The gradients of each step; the second variable has none at step 1.
GRADS = [[None if (step == 1 and i == 1) else RNG.normal(size=s).astype(d)
          for i, (s, d) in enumerate(zip(SHAPES, DTYPES))] for step in range(STEPS)]


def _with_decay_exclusion(opt, variables):
    opt.exclude_from_weight_decay(var_list=[variables[1]])
    return opt


# name -> function of a keras module `k` making the optimizer (and of the variables)
CASES = {
    "sgd": lambda k, v: k.optimizers.SGD(0.1),
    "sgd_momentum": lambda k, v: k.optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov": lambda k, v: k.optimizers.SGD(0.05, momentum=0.5, nesterov=True),
    "rmsprop": lambda k, v: k.optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda k, v: k.optimizers.RMSprop(0.01, rho=0.8, momentum=0.5,
                                                                   centered=True),
    "adam": lambda k, v: k.optimizers.Adam(0.01),
    "adam_amsgrad": lambda k, v: k.optimizers.Adam(0.02, beta_1=0.8, amsgrad=True),
    "adamw": lambda k, v: k.optimizers.AdamW(0.01, weight_decay=0.1),
    "adamw_excluded": lambda k, v: _with_decay_exclusion(k.optimizers.AdamW(0.01), v),
    "adamax": lambda k, v: k.optimizers.Adamax(0.01),
    "nadam": lambda k, v: k.optimizers.Nadam(0.01),
    "adagrad": lambda k, v: k.optimizers.Adagrad(0.1),
    "adadelta": lambda k, v: k.optimizers.Adadelta(1.0),
    "ftrl": lambda k, v: k.optimizers.Ftrl(0.1),
    "ftrl_regularized": lambda k, v: k.optimizers.Ftrl(
        0.1, learning_rate_power=-0.7, l1_regularization_strength=0.01,
        l2_regularization_strength=0.02, l2_shrinkage_regularization_strength=0.03, beta=0.5),
    "lion": lambda k, v: k.optimizers.Lion(0.01),
    "lamb": lambda k, v: k.optimizers.Lamb(0.01),
    "adafactor": lambda k, v: k.optimizers.Adafactor(0.1),
    "adafactor_absolute_step": lambda k, v: k.optimizers.Adafactor(0.01, relative_step=False),
    "sgd_clipnorm": lambda k, v: k.optimizers.SGD(0.1, clipnorm=0.5),
    "sgd_clipvalue": lambda k, v: k.optimizers.SGD(0.1, clipvalue=0.3),
    "adam_global_clipnorm_float32_only": lambda k, v: k.optimizers.Adam(0.01,
                                                                        global_clipnorm=1.0),
    "sgd_weight_decay": lambda k, v: k.optimizers.SGD(0.1, weight_decay=0.05),
    "rmsprop_weight_decay": lambda k, v: k.optimizers.RMSprop(0.01, weight_decay=0.05),
    "adam_ema": lambda k, v: k.optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9),
    "sgd_ema_overwrite": lambda k, v: k.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5,
                                                      ema_overwrite_frequency=3),
    "adam_accumulation": lambda k, v: k.optimizers.Adam(0.01, gradient_accumulation_steps=2),
    "sgd_loss_scale": lambda k, v: k.optimizers.SGD(0.1, loss_scale_factor=4.0),
    "adam_schedule": lambda k, v: k.optimizers.Adam(
        k.optimizers.schedules.ExponentialDecay(0.02, decay_steps=2, decay_rate=0.5)),
    "nadam_schedule_float64_first": lambda k, v: k.optimizers.Nadam(
        k.optimizers.schedules.PolynomialDecay(0.02, decay_steps=3)),
}


def _run(module, tf_module, name, order=(0, 1, 2)):
    variables = [tf_module.Variable(INITIAL[i], name=f"w{i}") for i in order]
    optimizer = CASES[name](module, variables)
    for step in range(STEPS):
        pairs = [(None if GRADS[step][i] is None else tf_module.constant(GRADS[step][i]), v)
                 for i, v in zip(order, variables)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            optimizer.apply_gradients(pairs)
    return variables, optimizer


def _dtype_name(dtype):
    return getattr(dtype, "name", dtype)


def _unsuffixed(name):
    """`variable_3` -> `variable`: Keras numbers its unnamed variables (Nadam's u_product)."""
    return "variable" if name.startswith("variable_") else name


def _plain_config(config):
    config = json.loads(json.dumps(config))
    config.pop("name", None)
    return config


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_optimizer_matches_keras(name):
    order = (2, 0, 1) if "float64_first" in name else (0, 1) if "float32_only" in name else \
        (0, 1, 2)
    theirs, their_opt = _run(keras, tf, name, order)
    ours, our_opt = _run(tw.keras, tw, name, order)
    for a, b in zip(ours, theirs):
        assert _dtype_name(a.dtype) == _dtype_name(b.dtype)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert [_unsuffixed(v.name) for v in our_opt.variables] == \
        [_unsuffixed(v.name) for v in their_opt.variables]
    for a, b in zip(our_opt.variables, their_opt.variables):
        assert _dtype_name(a.dtype) == _dtype_name(b.dtype)
        assert a.shape.as_list() == list(b.shape)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
    assert _plain_config(our_opt.get_config()) == _plain_config(their_opt.get_config())


@needs_tf
@pytest.mark.parametrize("name", ["adam", "nadam", "sgd_ema_overwrite", "adam_accumulation",
                                  "adafactor"])
def test_optimizer_in_tf_function_matches_keras(name):
    theirs, _ = _run(keras, tf, name)
    variables = [tw.Variable(value, name=f"w{i}") for i, value in enumerate(INITIAL)]
    optimizer = CASES[name](tw.keras, variables)

    @tw.function
    def step(g0, g1, g2):
        optimizer.apply_gradients(zip([g0, g1, g2], variables))

    @tw.function
    def step_without_second(g0, g2):
        optimizer.apply_gradients([(g0, variables[0]), (None, variables[1]), (g2, variables[2])])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for grads in GRADS:
            if grads[1] is None:
                step_without_second(grads[0], grads[2])
            else:
                step(*grads)
    for a, b in zip(variables, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


@needs_tf
@pytest.mark.parametrize("name", ["adam", "sgd_momentum", "ftrl_regularized", "adafactor",
                                  "adam_schedule"])
def test_optimizer_config_round_trip_matches_keras(name):
    ours = CASES[name](tw.keras, [])
    theirs = CASES[name](keras, [])
    our_dict = tw.keras.optimizers.serialize(ours)
    their_dict = keras.optimizers.serialize(theirs)
    our_dict["config"].pop("name")
    their_dict["config"].pop("name")
    assert json.loads(json.dumps(our_dict)) == json.loads(json.dumps(their_dict))
    # each side reads the other's dict
    rebuilt = tw.keras.optimizers.deserialize(json.loads(json.dumps(their_dict)))
    assert _plain_config(rebuilt.get_config()) == _plain_config(theirs.get_config())
    rebuilt = keras.optimizers.deserialize(json.loads(json.dumps(our_dict)))
    assert _plain_config(rebuilt.get_config()) == _plain_config(ours.get_config())


@needs_tf
def test_slot_names_follow_keras_paths():
    their_layer, our_layer = keras.layers.Dense(3, name="dense"), tw.keras.layers.Dense(
        3, name="dense")
    their_layer.build((None, 2))
    our_layer.build((None, 2))
    for make in (lambda k: k.optimizers.Adam(use_ema=True), lambda k: k.optimizers.Ftrl(),
                 lambda k: k.optimizers.SGD(momentum=0.5),
                 lambda k: k.optimizers.RMSprop(momentum=0.5, centered=True),
                 lambda k: k.optimizers.Adam(gradient_accumulation_steps=2)):
        theirs, ours = make(keras), make(tw.keras)
        theirs.build(their_layer.trainable_variables)
        ours.build(our_layer.trainable_variables)
        strip = len(theirs.name) + 1
        their_paths = [v.path[strip:] if v.path.startswith(theirs.name + "/") else v.path
                       for v in theirs.variables]
        our_paths = [v.path[len(ours.name) + 1:] for v in ours.variables]
        assert our_paths == their_paths
        assert [v.dtype.name for v in ours.variables] == [v.dtype for v in theirs.variables]


SCHEDULES = {
    "exponential": lambda s: s.ExponentialDecay(0.1, 7, 0.5),
    "exponential_staircase": lambda s: s.ExponentialDecay(0.1, 7, 0.5, staircase=True),
    "piecewise": lambda s: s.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]),
    "polynomial": lambda s: s.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=0.5),
    "polynomial_cycle": lambda s: s.PolynomialDecay(0.1, 6, power=2.0, cycle=True),
    "inverse_time": lambda s: s.InverseTimeDecay(0.1, 5, 0.3),
    "inverse_time_staircase": lambda s: s.InverseTimeDecay(0.1, 5, 0.3, staircase=True),
    "cosine": lambda s: s.CosineDecay(0.1, 10, alpha=0.2),
    "cosine_warmup": lambda s: s.CosineDecay(0.01, 10, warmup_target=0.1, warmup_steps=4),
    "cosine_restarts": lambda s: s.CosineDecayRestarts(0.1, 4),
    "cosine_restarts_equal": lambda s: s.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.5,
                                                             alpha=0.1),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_keras(name):
    ours = SCHEDULES[name](tw.keras.optimizers.schedules)
    theirs = SCHEDULES[name](keras.optimizers.schedules)
    for step in [0, 1, 3, 4, 5, 7, 10, 11, 16, 30]:
        np.testing.assert_allclose(float(ours(step)), float(theirs(step)), rtol=1e-6, atol=1e-9)
    assert ours.get_config() == theirs.get_config()
    assert json.loads(json.dumps(tw.keras.optimizers.schedules.serialize(ours))) == \
        json.loads(json.dumps(keras.optimizers.schedules.serialize(theirs)))
