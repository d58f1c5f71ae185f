"""keras.optimizers.Lion: EvoLved Sign Momentum (Chen et al., 2023)."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.optimizers.base_optimizer import Optimizer, difference, inplace, store


def lion_kernel(variables, gradient, learning_rate, *, beta_1, beta_2):
    """Lion (beta_1 and beta_2 in the weight's dtype):
        w <- w - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m <- beta_2 * m + (1 - beta_2) * g
    """
    variable, m = variables
    cast = variable._value.dtype.type
    beta_1, beta_2 = cast(beta_1), cast(beta_2)
    direction = np.multiply(m._value, beta_1)
    direction += np.multiply(gradient, cast(1.0) - beta_1)
    direction = inplace(np.sign, direction)
    direction *= learning_rate
    new_m = np.multiply(m._value, beta_2)
    new_m += np.multiply(gradient, cast(1.0) - beta_2)
    store(variable, difference(variable._value, direction))
    store(m, new_m)


class Lion(Optimizer):
    """Lion: the sign of an interpolated momentum as the update."""

    _kernel = staticmethod(lion_kernel)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99,
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
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    @property
    def _slot_lists(self):
        return [self._momentums]

    def _kernel_options(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
