"""keras.optimizers.Adafactor (Shazeer & Stern, 2018): factored second moments."""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.optimizers.base_optimizer import (
    Optimizer, constant, difference, inplace, store)
from tensorweave.ops import math_ops


def _rms(x):
    return np.sqrt(np.mean(np.square(x)))


def adafactor_kernel(variables, gradient, rho, beta_2, one_minus_beta_2, *, epsilon_1,
                     epsilon_2, clip_threshold):
    """Adafactor, with rho_t = min(lr, 1 / sqrt(t)) and beta_2_t = 1 - t^beta_2_decay:
        G = g^2 + epsilon_1
        for a weight of rank >= 2, the second moment is factored over the last two axes:
            r <- beta_2_t * r + (1 - beta_2_t) * mean(G, axis=-1)
            c <- beta_2_t * c + (1 - beta_2_t) * mean(G, axis=-2)
            v <- (r / mean(r, axis=-1))[..., None] * c[..., None, :]
        otherwise v <- beta_2_t * v + (1 - beta_2_t) * G
        u = g / sqrt(v);  u_hat = u / max(1, rms(u) / clip_threshold)
        w <- w - max(epsilon_2, rms(w)) * rho_t * u_hat
    The slots after the weight are r, c (placeholders for a weight of rank < 2) and v.
    """
    variable, r, c, v = variables
    w = variable._value
    cast = w.dtype.type
    alpha = np.maximum(cast(epsilon_2), _rms(w)) * rho
    regulated = np.square(gradient)
    regulated += epsilon_1
    if w.ndim >= 2:
        new_r = np.multiply(r._value, beta_2)
        new_r += np.multiply(np.mean(regulated, axis=-1), one_minus_beta_2)
        new_c = np.multiply(c._value, beta_2)
        new_c += np.multiply(np.mean(regulated, axis=-2), one_minus_beta_2)
        row = np.divide(new_r, np.mean(new_r, axis=-1, keepdims=True))
        new_v = np.multiply(row[..., None], new_c[..., None, :])
        store(r, new_r)
        store(c, new_c)
    else:
        new_v = np.multiply(v._value, beta_2)
        new_v += inplace(np.multiply, regulated, one_minus_beta_2)
    u = np.divide(gradient, np.sqrt(new_v))
    u /= np.maximum(cast(1.0), _rms(u) / cast(clip_threshold))
    u *= alpha
    store(variable, difference(w, u))
    store(v, new_v)


class Adafactor(Optimizer):
    """Adafactor: Adam-like steps with a memory-light factored second moment."""

    _kernel = staticmethod(adafactor_kernel)

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, weight_decay=None, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue, global_clipnorm=global_clipnorm,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._r, self._c, self._v = [], [], []
        for variable in var_list:
            shape = tuple(variable.shape.as_list())
            name = variable.name
            if len(shape) < 2:  # not factored: placeholders keep the lists aligned
                for slots in (self._r, self._c):
                    placeholder = self._new_variable(0, None, "int32", name)
                    self._track_variable(placeholder)
                    slots.append(placeholder)
            elif self._overwrite_variable_with_gradient(variable):
                self._r.append(None)
                self._c.append(None)
            else:
                self._r.append(self.add_variable(shape=shape[:-1], dtype=variable.dtype,
                                                 name=name))
                self._c.append(self.add_variable(shape=shape[:-2] + shape[-1:],
                                                 dtype=variable.dtype, name=name))
            self._v.append(None if self._overwrite_variable_with_gradient(variable) else
                           self.add_variable_from_reference(variable, name="velocity"))

    @property
    def _slot_lists(self):
        return [self._r, self._c, self._v]

    def _step_scalars(self, learning_rate, dtype):
        step = math_ops.cast(math_ops.add(self.iterations, 1), dtype)
        one = convert_to_tensor(1, dtype=dtype)
        inverse_sqrt = math_ops.divide(one, math_ops.sqrt(step))
        if not callable(self._learning_rate) and self.relative_step:
            learning_rate = math_ops.minimum(learning_rate, inverse_sqrt)
        rho = math_ops.minimum(learning_rate, inverse_sqrt)
        beta_2 = math_ops.subtract(one, math_ops.pow(step, constant(self.beta_2_decay, dtype)))
        return rho, beta_2, math_ops.subtract(one, beta_2)

    def _kernel_options(self):
        return {"epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold}

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}
