"""keras.optimizers.Nadam: Adam with Nesterov momentum (Dozat, 2016)."""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.optimizers.base_optimizer import (
    Optimizer, constant, difference, inplace, moving_average, store)
from tensorweave.ops import math_ops


def nadam_kernel(variables, gradient, learning_rate, u_next, one_minus_u_product_next,
                 one_minus_u, one_minus_u_product, one_minus_beta_2_power, *, beta_1, beta_2,
                 epsilon):
    """Nadam, with the momentum schedule u_t = beta_1 * (1 - 0.5 * 0.96^t) and
    u_product_t = u_1 * ... * u_t:
        m <- m + (g - m) * (1 - beta_1)
        v <- v + (g^2 - v) * (1 - beta_2)
        m_hat = u_{t+1} * m / (1 - u_product_{t+1}) + (1 - u_t) * g / (1 - u_product_t)
        v_hat = v / (1 - beta_2^t)
        w <- w - lr * m_hat / (sqrt(v_hat) + epsilon)
    """
    variable, m, v = variables
    new_m = moving_average(m._value, gradient, beta_1)
    new_v = moving_average(v._value, np.square(gradient), beta_2)
    m_hat = np.multiply(new_m, u_next)
    m_hat /= one_minus_u_product_next
    current = np.multiply(gradient, one_minus_u)
    current /= one_minus_u_product
    m_hat += current
    denominator = np.divide(new_v, one_minus_beta_2_power)
    denominator = inplace(np.sqrt, denominator)
    denominator += epsilon
    m_hat *= learning_rate
    m_hat /= denominator
    store(variable, difference(variable._value, m_hat))
    store(m, new_m)
    store(v, new_v)


class Nadam(Optimizer):
    """Nadam: Adam whose first moment takes a Nesterov look-ahead step."""

    _kernel = staticmethod(nadam_kernel)

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
        dtype = var_list[0].dtype if var_list else backend_config.floatx()
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        # Keras 3 leaves it unnamed: variable, variable_1...
        self._u_product = self._new_variable(1.0, None, dtype, None)

    @property
    def _slot_lists(self):
        return [self._momentums, self._velocities]

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        dtype = self._u_product.dtype
        step = math_ops.cast(math_ops.add(self.iterations, 1), dtype)
        u = math_ops.multiply(math_ops.multiply(self._u_product, constant(self.beta_1, dtype)),
                              math_ops.subtract(1.0, math_ops.multiply(
                                  0.5, math_ops.pow(constant(0.96, dtype), step))))
        self._u_product.assign(u)
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def _step_scalars(self, learning_rate, dtype):
        one = convert_to_tensor(1, dtype=dtype)
        step = math_ops.cast(math_ops.add(self.iterations, 1), dtype)
        next_step = math_ops.cast(math_ops.add(self.iterations, 2), dtype)
        decay = constant(0.96, dtype)
        beta_1 = constant(self.beta_1, dtype)
        u = math_ops.multiply(beta_1, math_ops.subtract(
            1.0, math_ops.multiply(0.5, math_ops.pow(decay, step))))
        u_next = math_ops.multiply(beta_1, math_ops.subtract(
            1.0, math_ops.multiply(0.5, math_ops.pow(decay, next_step))))
        u_product = constant(self._u_product, dtype)
        u_product_next = math_ops.multiply(u_product, u_next)
        beta_2_power = math_ops.pow(constant(self.beta_2, dtype), step)
        return (learning_rate, u_next, math_ops.subtract(one, u_product_next),
                math_ops.subtract(one, u), math_ops.subtract(one, u_product),
                math_ops.subtract(one, beta_2_power))

    def _kernel_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
