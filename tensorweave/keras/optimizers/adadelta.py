"""keras.optimizers.Adadelta (Zeiler, 2012)."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.optimizers.base_optimizer import Optimizer, inplace, store


def adadelta_kernel(variables, gradient, learning_rate, *, rho, epsilon):
    """Adadelta:
        accumulated_grad <- rho * accumulated_grad + (1 - rho) * g^2
        delta = -sqrt(accumulated_delta + epsilon) * g / sqrt(accumulated_grad + epsilon)
        accumulated_delta <- rho * accumulated_delta + (1 - rho) * delta^2
        w <- w + lr * delta
    """
    variable, accumulated_grad, accumulated_delta = variables
    new_grad = np.multiply(accumulated_grad._value, rho)
    new_grad += np.square(gradient) * (1 - rho)
    delta = np.add(accumulated_delta._value, epsilon)
    delta = inplace(np.sqrt, delta)
    delta *= gradient
    delta /= inplace(np.sqrt, np.add(new_grad, epsilon))
    delta = inplace(np.negative, delta)
    new_delta = np.multiply(accumulated_delta._value, rho)
    new_delta += np.square(delta) * (1 - rho)
    delta *= learning_rate
    delta += variable._value
    store(variable, delta)
    store(accumulated_grad, new_grad)
    store(accumulated_delta, new_delta)


class Adadelta(Optimizer):
    """Adadelta: step sizes from moving averages of squared gradients and squared updates."""

    _kernel = staticmethod(adadelta_kernel)

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7,
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
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    @property
    def _slot_lists(self):
        return [self._accumulated_grads, self._accumulated_delta_vars]

    def _kernel_options(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
