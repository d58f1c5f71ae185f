"""keras.optimizers.schedules: each schedule's values against its formula in NumPy, on Python,
tensor and variable steps, eagerly and inside tf.function; configs and serialization."""
import math

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras

S = keras.optimizers.schedules
STEPS = [0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13, 20, 40]


def exponential(step, lr=0.1, decay_steps=7, rate=0.5, staircase=False):
    p = step / decay_steps
    return lr * rate ** (math.floor(p) if staircase else p)


def piecewise(step, boundaries=(5, 10), values=(1.0, 0.5, 0.1)):
    for boundary, value in zip(boundaries, values):
        if step <= boundary:
            return value
    return values[-1]


def polynomial(step, lr=0.1, decay_steps=10, end=0.01, power=0.5, cycle=False):
    if cycle:
        decay_steps = decay_steps * max(1, math.ceil(step / decay_steps))
    else:
        step = min(step, decay_steps)
    return (lr - end) * (1 - step / decay_steps) ** power + end


def inverse_time(step, lr=0.1, decay_steps=5, rate=0.3, staircase=False):
    p = step / decay_steps
    return lr / (1 + rate * (math.floor(p) if staircase else p))


def cosine(step, lr=0.1, decay_steps=10, alpha=0.2, warmup_target=None, warmup_steps=0):
    if warmup_target is None:
        step = min(step, decay_steps)
        return lr * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps)) + alpha)
    if step < warmup_steps:
        return lr + (warmup_target - lr) * step / warmup_steps
    step = min(step - warmup_steps, decay_steps)
    return warmup_target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * step / decay_steps))
                            + alpha)


def cosine_restarts(step, lr=0.1, first=4, t_mul=2.0, m_mul=1.0, alpha=0.0):
    # walk the periods: period i lasts first * t_mul^i steps and starts at lr * m_mul^i
    start, length, i = 0.0, float(first), 0
    while step >= start + length:
        start, length, i = start + length, length * t_mul, i + 1
    fraction = (step - start) / length
    return lr * ((1 - alpha) * m_mul ** i * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha)


CASES = {
    "exponential": (lambda: S.ExponentialDecay(0.1, 7, 0.5), exponential),
    "exponential_staircase": (lambda: S.ExponentialDecay(0.1, 7, 0.5, staircase=True),
                              lambda s: exponential(s, staircase=True)),
    "piecewise": (lambda: S.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]), piecewise),
    "piecewise_four": (lambda: S.PiecewiseConstantDecay([2, 4, 9], [0.4, 0.3, 0.2, 0.1]),
                       lambda s: piecewise(s, (2, 4, 9), (0.4, 0.3, 0.2, 0.1))),
    "polynomial": (lambda: S.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=0.5),
                   polynomial),
    "polynomial_cycle": (lambda: S.PolynomialDecay(0.1, 6, end_learning_rate=0.01, power=2.0,
                                                   cycle=True),
                         lambda s: polynomial(s, decay_steps=6, power=2.0, cycle=True)),
    "inverse_time": (lambda: S.InverseTimeDecay(0.1, 5, 0.3), inverse_time),
    "inverse_time_staircase": (lambda: S.InverseTimeDecay(0.1, 5, 0.3, staircase=True),
                               lambda s: inverse_time(s, staircase=True)),
    "cosine": (lambda: S.CosineDecay(0.1, 10, alpha=0.2), cosine),
    "cosine_warmup": (lambda: S.CosineDecay(0.01, 10, alpha=0.2, warmup_target=0.1,
                                            warmup_steps=4),
                      lambda s: cosine(s, lr=0.01, warmup_target=0.1, warmup_steps=4)),
    "cosine_restarts": (lambda: S.CosineDecayRestarts(0.1, 4), cosine_restarts),
    "cosine_restarts_equal": (lambda: S.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.5,
                                                            alpha=0.1),
                              lambda s: cosine_restarts(s, t_mul=1.0, m_mul=0.5, alpha=0.1)),
    "cosine_restarts_shrinking": (lambda: S.CosineDecayRestarts(0.1, 3, t_mul=1.5, m_mul=0.8),
                                  lambda s: cosine_restarts(s, first=3, t_mul=1.5, m_mul=0.8)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_schedule_values(name):
    make, formula = CASES[name]
    schedule = make()
    compiled = tf.function(lambda step: schedule(step))
    iterations = tf.Variable(0, dtype=tf.int64)
    for step in STEPS:
        expected = formula(step)
        value = schedule(step)
        assert value.dtype == tf.float32
        np.testing.assert_allclose(float(value), expected, rtol=2e-6, atol=1e-9)
        np.testing.assert_allclose(float(schedule(tf.constant(step, tf.int64))), expected,
                                   rtol=2e-6, atol=1e-9)
        np.testing.assert_allclose(float(compiled(tf.constant(step))), expected, rtol=2e-6,
                                   atol=1e-9)
        iterations.assign(step)
        np.testing.assert_allclose(float(schedule(iterations)), expected, rtol=2e-6, atol=1e-9)


def test_float64_initial_rate_gives_float64_values():
    schedule = S.ExponentialDecay(np.float64(0.1), 7, 0.5)
    assert schedule(3).dtype == tf.float64
    np.testing.assert_allclose(float(schedule(3)), exponential(3), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_and_serialization_round_trip(name):
    schedule = CASES[name][0]()
    config = schedule.get_config()
    rebuilt = type(schedule).from_config(config)
    assert rebuilt.get_config() == config
    serialized = S.serialize(schedule)
    assert serialized["module"] == "keras.optimizers.schedules"
    assert serialized["class_name"] == type(schedule).__name__
    restored = S.deserialize(serialized)
    assert type(restored) is type(schedule) and restored.get_config() == config
    for step in (0, 5, 11):
        assert float(restored(step)) == float(schedule(step))


def test_config_keys_are_keras_3s():
    assert S.CosineDecayRestarts(0.1, 4).get_config() == {
        "initial_learning_rate": 0.1, "first_decay_steps": 4, "t_mul": 2.0, "m_mul": 1.0,
        "alpha": 0.0, "name": "SGDRDecay"}
    assert S.CosineDecay(0.1, 4).get_config() == {
        "initial_learning_rate": 0.1, "decay_steps": 4, "alpha": 0.0, "name": "CosineDecay",
        "warmup_target": None, "warmup_steps": 0}
    assert S.PiecewiseConstantDecay([1], [0.1, 0.2]).get_config()["name"] == "PiecewiseConstant"


def test_custom_schedule_subclass():
    class HalfEvery(S.LearningRateSchedule):
        def __init__(self, rate, every):
            self.rate = rate
            self.every = every

        def __call__(self, step):
            exponent = tf.math.floordiv(tf.cast(step, tf.float32), float(self.every))
            return self.rate * tf.pow(0.5, exponent)

        def get_config(self):
            return {"rate": self.rate, "every": self.every}

    schedule = HalfEvery(0.4, 2)
    variable = tf.Variable([0.0])
    optimizer = keras.optimizers.SGD(schedule)
    for _ in range(4):
        optimizer.apply_gradients([(tf.constant([1.0]), variable)])
    np.testing.assert_allclose(variable.numpy(), [-(0.4 + 0.4 + 0.2 + 0.2)], rtol=1e-6)
    config = optimizer.get_config()["learning_rate"]
    restored = keras.optimizers.SGD.from_config({**optimizer.get_config(), "learning_rate": config},
                                                custom_objects={"HalfEvery": HalfEvery})
    assert isinstance(restored._learning_rate, HalfEvery)
    with pytest.raises(NotImplementedError, match="must override `__call__"):
        S.LearningRateSchedule()(1)
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        S.LearningRateSchedule().get_config()


def test_bad_arguments():
    for make in (lambda: S.ExponentialDecay(0.1, 0, 0.5), lambda: S.PolynomialDecay(0.1, -1),
                 lambda: S.InverseTimeDecay(0.1, 0, 0.5), lambda: S.CosineDecay(0.1, 0)):
        with pytest.raises(ValueError, match="`decay_steps` must be > 0"):
            make()
    with pytest.raises(ValueError, match="`first_decay_steps` must be > 0"):
        S.CosineDecayRestarts(0.1, 0)
    with pytest.raises(ValueError, match="should be 1 less than"):
        S.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    assert S.deserialize("nope") == "nope"  # Keras 3 hands an unknown name back
