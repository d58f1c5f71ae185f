"""keras.optimizers.Ftrl: Follow The Regularized Leader (McMahan et al., 2013)."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.optimizers.base_optimizer import Optimizer, store


def ftrl_kernel(variables, gradient, learning_rate, two_l2, *, lr_power, l1, l2_shrinkage):
    """FTRL-Proximal, with p = -learning_rate_power and l2 = l2_regularization_strength +
    beta / (2 * lr):
        g' = g + 2 * l2_shrinkage * w
        n' = n + g^2
        z <- z + g' - (n'^p - n^p) / lr * w
        w <- (clip(z, -l1, l1) - z) / (n'^p / lr + 2 * l2)
        n <- n'
    """
    variable, accumulator, linear = variables
    w, n = variable._value, accumulator._value
    new_n = np.square(gradient)
    new_n += n
    new_n_power = np.power(new_n, -lr_power)
    sigma = np.subtract(new_n_power, np.power(n, -lr_power))
    sigma /= learning_rate
    sigma *= w
    new_z = np.multiply(w, 2 * l2_shrinkage)
    new_z += gradient
    new_z -= sigma
    new_z += linear._value
    quadratic = np.divide(new_n_power, learning_rate)
    quadratic += two_l2
    new_w = np.clip(new_z, -l1, l1)
    new_w -= new_z
    new_w /= quadratic
    store(variable, new_w)
    store(accumulator, new_n)
    store(linear, new_z)


class Ftrl(Optimizer):
    """FTRL-Proximal, with L1, L2 and L2-shrinkage regularization."""

    _kernel = staticmethod(ftrl_kernel)

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError(f"`initial_accumulator_value` needs to be positive or zero. "
                             f"Received: initial_accumulator_value={initial_accumulator_value}.")
        if learning_rate_power > 0.0:
            raise ValueError(f"`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        if l1_regularization_strength < 0.0:
            raise ValueError(f"`l1_regularization_strength` needs to be positive or zero. "
                             f"Received: l1_regularization_strength="
                             f"{l1_regularization_strength}.")
        if l2_regularization_strength < 0.0:
            raise ValueError(f"`l2_regularization_strength` needs to be positive or zero. "
                             f"Received: l2_regularization_strength="
                             f"{l2_regularization_strength}.")
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError(f"`l2_shrinkage_regularization_strength` needs to be positive or "
                             f"zero. Received: l2_shrinkage_regularization_strength="
                             f"{l2_shrinkage_regularization_strength}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        from tensorweave.keras import initializers
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"],
            initializer=[initializers.Constant(self.initial_accumulator_value), "zeros"])

    @property
    def _slot_lists(self):
        return [self._accumulators, self._linears]

    def _step_scalars(self, learning_rate, dtype):
        l2 = self.l2_regularization_strength + self.beta / (2.0 * learning_rate)
        return learning_rate, 2 * l2

    def _kernel_options(self):
        return {"lr_power": self.learning_rate_power, "l1": self.l1_regularization_strength,
                "l2_shrinkage": self.l2_shrinkage_regularization_strength}

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
