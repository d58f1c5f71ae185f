"""keras.optimizers.RMSprop (Hinton, 2012), plain or centered, with optional momentum."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.optimizers.base_optimizer import Optimizer, difference, inplace, store


def rmsprop_kernel(variables, gradient, learning_rate, *, rho, momentum, epsilon, centered):
    """RMSprop:
        velocity <- rho * velocity + (1 - rho) * g^2
        average <- rho * average + (1 - rho) * g          (centered)
        increment = lr * g / sqrt(velocity + epsilon)      (centered: velocity - average^2 + eps)
        w <- w - increment                                 (no momentum)
        moment <- momentum * moment + increment; w <- w - moment     (momentum > 0)
    The slots after the weight: velocity, then moment (momentum > 0), then average (centered).
    """
    variable, velocity = variables[0], variables[1]
    new_velocity = np.multiply(velocity._value, rho)
    new_velocity += np.square(gradient) * (1 - rho)
    if centered:
        average = variables[-1]
        new_average = np.multiply(average._value, rho)
        new_average += np.multiply(gradient, 1 - rho)
        denominator = difference(new_velocity, np.square(new_average))
        denominator += epsilon
        store(average, new_average)
    else:
        denominator = np.add(new_velocity, epsilon)
    increment = np.multiply(gradient, learning_rate)
    increment /= inplace(np.sqrt, denominator)
    if momentum > 0:
        moment = variables[2]
        new_moment = np.multiply(moment._value, momentum)
        new_moment += increment
        store(variable, np.subtract(variable._value, new_moment))
        store(moment, new_moment)
    else:
        store(variable, difference(variable._value, increment))
    store(velocity, new_velocity)


class RMSprop(Optimizer):
    """Divides the gradient by a moving root mean square of recent gradients."""

    _kernel = staticmethod(rmsprop_kernel)

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
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
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    @property
    def _slot_lists(self):
        slots = [self._velocities]
        if self.momentum > 0:
            slots.append(self._momentums)
        if self.centered:
            slots.append(self._average_gradients)
        return slots

    def _kernel_options(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": bool(self.centered)}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
