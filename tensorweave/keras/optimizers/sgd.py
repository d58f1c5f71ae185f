"""keras.optimizers.SGD: gradient descent, with momentum and Nesterov momentum."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.optimizers.base_optimizer import Optimizer, difference, store


def sgd_kernel(variables, gradient, learning_rate, *, momentum, nesterov):
    """Gradient descent:
        w <- w - lr * g                                   (no momentum slot)
        velocity <- momentum * velocity - lr * g
        w <- w + velocity                                 (plain momentum)
        w <- w + momentum * velocity - lr * g             (Nesterov)
    """
    variable = variables[0]
    w = variable._value
    step = np.multiply(gradient, learning_rate)
    if len(variables) == 1:
        store(variable, difference(w, step))
        return
    velocity = variables[1]
    new_velocity = np.multiply(velocity._value, momentum)
    new_velocity -= step
    if nesterov:
        change = np.multiply(new_velocity, momentum)
        change -= step
        change += w
        store(variable, change)
    else:
        store(variable, np.add(w, new_velocity))
    store(velocity, new_velocity)


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum."""

    _kernel = staticmethod(sgd_kernel)

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False,
                 ema_momentum=0.99, ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    @property
    def _slot_lists(self):
        return [self.momentums] if self.momentums else []

    def _kernel_options(self):
        return {"momentum": self.momentum, "nesterov": bool(self.nesterov)}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
