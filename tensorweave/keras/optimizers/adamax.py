"""keras.optimizers.Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7)."""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.optimizers.base_optimizer import (
    Optimizer, constant, difference, inplace, moving_average, store)
from tensorweave.ops import math_ops


def adamax_kernel(variables, gradient, learning_rate, one_minus_beta_1_power, *, beta_1, beta_2,
                  epsilon):
    """Adamax:
        m <- m + (g - m) * (1 - beta_1)
        u <- max(beta_2 * u, |g|)
        w <- w - lr * m / ((1 - beta_1^t) * (u + epsilon))
    """
    variable, m, u = variables
    new_m = moving_average(m._value, gradient, beta_1)
    new_u = inplace(np.maximum, np.multiply(u._value, beta_2), np.abs(gradient))
    denominator = new_u + epsilon
    denominator *= one_minus_beta_1_power
    step = np.multiply(new_m, learning_rate)
    step /= denominator
    store(variable, difference(variable._value, step))
    store(m, new_m)
    store(u, new_u)


class Adamax(Optimizer):
    """Adamax: Adam's update scaled by an exponentially weighted infinity norm."""

    _kernel = staticmethod(adamax_kernel)

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
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    @property
    def _slot_lists(self):
        return [self._m, self._u]

    def _step_scalars(self, learning_rate, dtype):
        step = math_ops.cast(math_ops.add(self.iterations, 1), dtype)
        beta_1_power = math_ops.pow(constant(self.beta_1, dtype), step)
        return learning_rate, math_ops.subtract(convert_to_tensor(1, dtype=dtype), beta_1_power)

    def _kernel_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
