"""keras.optimizers.Adagrad (Duchi et al., 2011)."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.optimizers.base_optimizer import Optimizer, difference, inplace, store


def adagrad_kernel(variables, gradient, learning_rate, *, epsilon):
    """Adagrad:
        accumulator <- accumulator + g^2
        w <- w - lr * g / sqrt(accumulator + epsilon)
    """
    variable, accumulator = variables
    new_accumulator = np.square(gradient)
    new_accumulator += accumulator._value
    denominator = np.add(new_accumulator, epsilon)
    step = np.multiply(gradient, learning_rate)
    step /= inplace(np.sqrt, denominator)
    store(variable, difference(variable._value, step))
    store(accumulator, new_accumulator)


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates shrinking with the sum of the squared gradients."""

    _kernel = staticmethod(adagrad_kernel)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
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
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        from tensorweave.keras import initializers
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator",
            initializer=initializers.Constant(self.initial_accumulator_value))

    @property
    def _slot_lists(self):
        return [self._accumulators]

    def _kernel_options(self):
        return {"epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}
