"""keras.optimizers.Lamb: layer-wise adaptive moments (You et al., 2020)."""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.optimizers.base_optimizer import (
    Optimizer, constant, difference, inplace, moving_average, store)
from tensorweave.ops import math_ops


def lamb_kernel(variables, gradient, learning_rate, one_minus_beta_1_power,
                one_minus_beta_2_power, *, beta_1, beta_2, epsilon):
    """LAMB:
        m <- m + (g - m) * (1 - beta_1);   v <- v + (g^2 - v) * (1 - beta_2)
        update = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)
        ratio = ||w|| / ||update|| if both norms are positive, else 1
        w <- w - ratio * lr * update
    """
    variable, m, v = variables
    w = variable._value
    new_m = moving_average(m._value, gradient, beta_1)
    new_v = moving_average(v._value, np.square(gradient), beta_2)
    update = np.divide(new_m, one_minus_beta_1_power)
    denominator = np.divide(new_v, one_minus_beta_2_power)
    denominator = inplace(np.sqrt, denominator)
    denominator += epsilon
    update /= denominator
    w_norm = np.sqrt(np.sum(np.square(w)))
    update_norm = np.sqrt(np.sum(np.square(update)))
    ratio = w_norm / update_norm if w_norm > 0 and update_norm > 0 else w.dtype.type(1.0)
    update *= ratio * learning_rate
    store(variable, difference(w, update))
    store(m, new_m)
    store(v, new_v)


class Lamb(Optimizer):
    """LAMB: Adam's update rescaled per variable by the ratio of the weight and update norms."""

    _kernel = staticmethod(lamb_kernel)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])

    @property
    def _slot_lists(self):
        return [self._momentums, self._velocities]

    def _step_scalars(self, learning_rate, dtype):
        one = convert_to_tensor(1, dtype=dtype)
        step = math_ops.cast(math_ops.add(self.iterations, 1), dtype)
        return (learning_rate,
                math_ops.subtract(one, math_ops.pow(constant(self.beta_1, dtype), step)),
                math_ops.subtract(one, math_ops.pow(constant(self.beta_2, dtype), step)))

    def _kernel_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
