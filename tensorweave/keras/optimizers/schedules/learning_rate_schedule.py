"""Learning rate schedules: a learning rate as a function of the optimizer's step (Keras 3).

Each schedule is written with tensorweave ops, so it works on an eager step (a Python int, a
tensor, the optimizer's `iterations` variable) and on a symbolic one inside a tf.function. The
result has the dtype of `initial_learning_rate` (float32 for a Python float).
"""
from __future__ import annotations

import math

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, control_flow_ops, math_ops


class LearningRateSchedule:
    """The base of schedules: subclasses implement `__call__(step)` and `get_config()`."""

    _keras_module = "keras.optimizers.schedules"

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{self.__class__.__name__}' must "
                                  f"override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{self.__class__.__name__}' must "
                                  f"override `get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_decay_steps(value, argument: str = "decay_steps") -> None:
    if value <= 0:
        raise ValueError(f"Argument `{argument}` must be > 0. Received: {argument}={value}")


def _start(schedule, step):
    """(initial learning rate as a tensor, its dtype, the step cast to that dtype)."""
    initial = convert_to_tensor(schedule.initial_learning_rate)
    dtype = initial.dtype
    return initial, dtype, math_ops.cast(step, dtype)


def _decay_periods(step, decay_steps, staircase: bool, dtype):
    """step / decay_steps, floored with `staircase` (the rate then changes in steps)."""
    periods = math_ops.divide(step, math_ops.cast(decay_steps, dtype))
    return math_ops.floor(periods) if staircase else periods


class ExponentialDecay(LearningRateSchedule):
    """initial_learning_rate * decay_rate ^ (step / decay_steps); with `staircase`, the exponent
    is floored (the rate drops every `decay_steps` steps)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial, dtype, step = _start(self, step)
        p = _decay_periods(step, self.decay_steps, self.staircase, dtype)
        return math_ops.multiply(initial, math_ops.pow(math_ops.cast(self.decay_rate, dtype), p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
    boundaries[i], values[-1] after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"The length of boundaries should be 1 less than the length of "
                             f"values. Received: boundaries={boundaries} of length "
                             f"{len(boundaries)}, and values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = convert_to_tensor(step)
        boundaries = [convert_to_tensor(b) for b in self.boundaries]
        boundaries = [b if b.dtype == step.dtype else math_ops.cast(b, step.dtype)
                      for b in boundaries]
        values = [convert_to_tensor(v) for v in self.values]
        dtype = values[0].dtype

        def weight(condition):
            return math_ops.cast(condition, dtype)

        # Exactly one of the indicator weights is 1: the sum picks that interval's value.
        result = math_ops.multiply(weight(math_ops.less_equal(step, boundaries[0])), values[0])
        result = math_ops.add(result, math_ops.multiply(
            weight(math_ops.greater(step, boundaries[-1])), values[-1]))
        for low, high, value in zip(boundaries[:-1], boundaries[1:], values[1:-1]):
            inside = math_ops.logical_and(math_ops.greater(step, low),
                                          math_ops.less_equal(step, high))
            result = math_ops.add(result, math_ops.multiply(weight(inside), value))
        return result

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ^ power + end, with the step capped at
    decay_steps; with `cycle`, decay_steps is instead multiplied by ceil(step / decay_steps)."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial, dtype, step = _start(self, step)
        end = math_ops.cast(self.end_learning_rate, dtype)
        power = math_ops.cast(self.power, dtype)
        decay_steps = math_ops.cast(self.decay_steps, dtype)
        if self.cycle:
            zero = math_ops.equal(step, convert_to_tensor(0, dtype=dtype))
            multiplier = math_ops.ceil(math_ops.divide(step, decay_steps))
            multiplier = array_ops.where(zero, array_ops.ones_like(multiplier), multiplier)
            decay_steps = math_ops.multiply(decay_steps, multiplier)
        else:
            step = math_ops.minimum(step, decay_steps)
        p = math_ops.divide(step, decay_steps)
        return math_ops.add(math_ops.multiply(math_ops.subtract(initial, end),
                                              math_ops.pow(math_ops.subtract(1, p), power)), end)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps); with `staircase`, the
    quotient step / decay_steps is floored."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial, dtype, step = _start(self, step)
        p = _decay_periods(step, self.decay_steps, self.staircase, dtype)
        denominator = math_ops.add(convert_to_tensor(1, dtype=dtype),
                                   math_ops.multiply(math_ops.cast(self.decay_rate, dtype), p))
        return math_ops.divide(initial, denominator)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _one_plus_cosine(fraction, dtype):
    """1 + cos(pi * fraction)."""
    pi = convert_to_tensor(math.pi, dtype=dtype)
    return math_ops.add(1.0, math_ops.cos(math_ops.multiply(pi, fraction)))


class CosineDecay(LearningRateSchedule):
    """A cosine decay from `initial_learning_rate` (or from `warmup_target` after a linear warmup
    of `warmup_steps` steps) down to alpha times that rate over `decay_steps` steps:
        lr = rate * ((1 - alpha) * (1 + cos(pi * min(step, decay_steps) / decay_steps)) / 2 + alpha)
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps(decay_steps)

    def _decay(self, step, decay_steps, decay_from, dtype):
        cosine = math_ops.multiply(0.5, _one_plus_cosine(math_ops.divide(step, decay_steps), dtype))
        decayed = math_ops.add(math_ops.multiply(1 - self.alpha, cosine), self.alpha)
        return math_ops.multiply(decay_from, decayed)

    def __call__(self, step):
        initial, dtype, step = _start(self, step)
        decay_steps = math_ops.cast(self.decay_steps, dtype)
        if self.warmup_target is None:
            step = math_ops.minimum(step, decay_steps)
            return self._decay(step, decay_steps, initial, dtype)
        target = math_ops.cast(self.warmup_target, dtype)
        warmup_steps = math_ops.cast(self.warmup_steps, dtype)
        step = math_ops.minimum(step, math_ops.add(decay_steps, warmup_steps))

        def warmup():  # linear from the initial rate to the target
            fraction = math_ops.divide(step, warmup_steps)
            return math_ops.add(math_ops.multiply(math_ops.subtract(target, initial), fraction),
                                initial)

        def decay():
            return self._decay(math_ops.subtract(step, warmup_steps), decay_steps, target, dtype)

        return control_flow_ops.cond(math_ops.less(step, warmup_steps), warmup, decay)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter 2017): the i-th period lasts
    first_decay_steps * t_mul^i steps and starts from initial_learning_rate * m_mul^i."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        initial, dtype, step = _start(self, step)
        alpha = math_ops.cast(self.alpha, dtype)
        t_mul = math_ops.cast(self._t_mul, dtype)
        m_mul = math_ops.cast(self._m_mul, dtype)
        fraction = math_ops.divide(step, math_ops.cast(self.first_decay_steps, dtype))

        def equal_periods():
            restart = math_ops.floor(fraction)
            return restart, math_ops.subtract(fraction, restart)

        def geometric_periods():
            # the periods before restart i sum to (1 - t_mul^i) / (1 - t_mul) first periods
            restart = math_ops.floor(math_ops.divide(
                math_ops.log(math_ops.subtract(1.0, math_ops.multiply(
                    fraction, math_ops.subtract(1.0, t_mul)))), math_ops.log(t_mul)))
            done = math_ops.divide(math_ops.subtract(1.0, math_ops.pow(t_mul, restart)),
                                   math_ops.subtract(1.0, t_mul))
            return restart, math_ops.divide(math_ops.subtract(fraction, done),
                                            math_ops.pow(t_mul, restart))

        restart, fraction = control_flow_ops.cond(math_ops.equal(t_mul, 1.0), equal_periods,
                                                  geometric_periods)
        cosine = math_ops.multiply(math_ops.multiply(0.5, math_ops.pow(m_mul, restart)),
                                   _one_plus_cosine(fraction, dtype))
        decayed = math_ops.add(math_ops.multiply(math_ops.subtract(1.0, alpha), cosine), alpha)
        return math_ops.multiply(initial, decayed)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (
    LearningRateSchedule, ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay,
    InverseTimeDecay, CosineDecay, CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """Keras 3's dict for a schedule."""
    return serialization.serialize_keras_object(learning_rate_schedule)


def deserialize(config, custom_objects=None):
    """The schedule a serialized dict describes."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT,
                                                  printable_module_name="decay")
