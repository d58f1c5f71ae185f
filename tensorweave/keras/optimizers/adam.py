"""keras.optimizers.Adam and AdamW (Adam with decoupled weight decay)."""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.optimizers.base_optimizer import (
    Optimizer, constant, difference, moving_average, store)
from tensorweave.ops import math_ops


def adam_kernel(variables, gradient, alpha, *, beta_1, beta_2, epsilon):
    """Adam (Kingma & Ba, 2015), the bias corrections folded into the step size:
        m <- m + (g - m) * (1 - beta_1)
        v <- v + (g^2 - v) * (1 - beta_2)
        v_hat <- max(v_hat, v)            (AMSGrad, when a v_hat slot is given: used for v below)
        w <- w - m * alpha / (sqrt(v) + epsilon),   alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
    """
    variable, m, v = variables[:3]
    new_m = moving_average(m._value, gradient, beta_1)
    new_v = moving_average(v._value, np.square(gradient), beta_2)
    used = new_v
    if len(variables) == 4:
        v_hat = variables[3]
        used = np.maximum(v_hat._value, new_v)
        store(v_hat, used)
    denominator = np.sqrt(used)
    denominator += epsilon
    step = np.multiply(new_m, alpha)
    step /= denominator
    store(variable, difference(variable._value, step))
    store(m, new_m)
    store(v, new_v)


class Adam(Optimizer):
    """Adam: adaptive estimates of the first and second moments of the gradients."""

    _kernel = staticmethod(adam_kernel)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    @property
    def _slot_lists(self):
        slots = [self._momentums, self._velocities]
        return slots + [self._velocity_hats] if self.amsgrad else slots

    def _step_scalars(self, learning_rate, dtype):
        step = math_ops.cast(math_ops.add(self.iterations, 1), dtype)
        one = convert_to_tensor(1, dtype=dtype)
        beta_1_power = math_ops.pow(constant(self.beta_1, dtype), step)
        beta_2_power = math_ops.pow(constant(self.beta_2, dtype), step)
        alpha = math_ops.divide(
            math_ops.multiply(learning_rate, math_ops.sqrt(math_ops.subtract(one, beta_2_power))),
            math_ops.subtract(one, beta_1_power))
        return (alpha,)

    def _kernel_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019): each step first shrinks
    the weights, w <- w - w * weight_decay * lr, then takes Adam's step."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
