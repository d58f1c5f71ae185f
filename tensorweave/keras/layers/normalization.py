"""Keras 3's normalization layers: BatchNormalization, LayerNormalization, UnitNormalization.

BatchNormalization normalizes with the batch's statistics in training (and moves its moving mean
and variance towards them with `assign`, so the update also happens inside a tf.function) and
with the moving statistics at inference; a frozen layer (`trainable=False`) always runs in
inference mode. Statistics are computed in float32 at least (float16 inputs are upcast).
"""
from __future__ import annotations

import warnings

from tensorweave.framework import dtypes
from tensorweave.keras import constraints, initializers, regularizers
from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.weight_options import set_weight_options
from tensorweave.ops import array_ops, math_ops, nn_ops, reduction_ops


def _statistics_dtype(dtype) -> str:
    """The dtype the statistics are computed in: float64 stays, anything else is float32."""
    return "float64" if dtypes.as_dtype(dtype) == dtypes.float64 else "float32"


def _check_axes_in_range(axes, input_shape, received) -> None:
    for axis in axes:
        if axis >= len(input_shape) or axis < -len(input_shape):
            raise ValueError(f"Axis {axis} is out of bounds for input shape {tuple(input_shape)}. "
                             f"Received: axis={received}")


class BatchNormalization(Layer):
    """Normalizes each feature (along `axis`) to zero mean and unit variance, then scales by
    `gamma` and shifts by `beta`."""

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        set_weight_options(
            self, beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.supports_masking = True
        self.renorm = renorm
        if renorm:
            clipping = renorm_clipping or {}
            keys = ["rmax", "rmin", "dmax"]
            if set(clipping) - set(keys):
                raise ValueError("Received invalid keys for `renorm_clipping` argument: "
                                 f"{clipping}. Supported values: {keys}.")
            rmax, rmin, dmax = clipping.get("rmax"), clipping.get("rmin"), clipping.get("dmax")
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError("rmax should be greater than rmin in the `renorm_clipping` "
                                 f"argument. Received: rmax={rmax}, rmin={rmin}.")
            if dmax is not None and dmax < 0:
                raise ValueError("dmax should be non-negative in the `renorm_clipping` "
                                 f"argument. Received: dmax={dmax}.")
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None
        self._reduction_axes = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        _check_axes_in_range([self.axis], input_shape, self.axis)
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, trainable=True,
                                         autocast=False)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, trainable=True,
                                        autocast=False)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean",
                                           initializer=self.moving_mean_initializer,
                                           trainable=False, autocast=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer,
                                               trainable=False, autocast=False)
        if self.renorm:
            variance_init = self.moving_variance_initializer

            def stddev_initializer(shape, dtype=None):
                return math_ops.sqrt(variance_init(shape, dtype=dtype))

            # Batch renormalization tracks the moving stddev (and its own renorm statistics).
            self.moving_stddev = self.add_weight(shape=shape, name="moving_stddev",
                                                 initializer=stddev_initializer,
                                                 trainable=False, autocast=False)
            self.renorm_mean = self.add_weight(shape=shape, name="renorm_mean",
                                               initializer=self.moving_mean_initializer,
                                               trainable=False, autocast=False)
            self.renorm_stddev = self.add_weight(shape=shape, name="renorm_stddev",
                                                 initializer=stddev_initializer,
                                                 trainable=False, autocast=False)
        self.input_spec = InputSpec(ndim=len(input_shape),
                                    axes={self.axis: input_shape[self.axis]})
        axes = list(range(len(input_shape)))
        del axes[self.axis]
        self._reduction_axes = axes
        self.built = True

    def compute_output_shape(self, input_shape):
        _check_axes_in_range([self.axis], input_shape, self.axis)
        return input_shape

    # -- statistics -----------------------------------------------------------------------------
    def _moments(self, inputs, mask):
        axes = self._reduction_axes
        if mask is None:
            if self.synchronized:
                # The all-reduce formulation: E(x^2) - E(x)^2 from sums and a count (one
                # replica here: the sums are this batch's).
                count = math_ops.cast(array_ops.size(inputs), inputs.dtype)
                count = math_ops.divide(count, math_ops.cast(
                    array_ops.shape(inputs)[self.axis], inputs.dtype))
                mean = math_ops.divide_no_nan(reduction_ops.reduce_sum(inputs, axis=axes),
                                              count)
                squares = math_ops.divide_no_nan(
                    reduction_ops.reduce_sum(math_ops.square(inputs), axis=axes), count)
                variance = math_ops.maximum(math_ops.subtract(squares, math_ops.square(mean)),
                                            math_ops.cast(0.0, inputs.dtype))
                return mean, variance
            return nn_ops.moments(inputs, axes=axes)
        weights = array_ops.broadcast_to(array_ops.expand_dims(mask, -1),
                                         array_ops.shape(inputs))
        weights = math_ops.cast(weights, "bool")
        zeros = array_ops.zeros_like(inputs)
        count = reduction_ops.reduce_sum(math_ops.cast(weights, inputs.dtype), axis=axes,
                                         keepdims=True)
        eps = math_ops.cast(backend_config.epsilon(), inputs.dtype)
        total = reduction_ops.reduce_sum(array_ops.where(weights, inputs, zeros), axis=axes,
                                         keepdims=True)
        mean = math_ops.divide(total, math_ops.add(count, eps))
        difference = array_ops.where(weights, math_ops.subtract(inputs, mean), zeros)
        variance = math_ops.divide(
            reduction_ops.reduce_sum(math_ops.square(difference), axis=axes, keepdims=True),
            math_ops.add(count, eps))
        return (array_ops.squeeze(mean, axis=axes), array_ops.squeeze(variance, axis=axes))

    def _moving_average(self, variable, value, momentum):
        current = math_ops.cast(variable, value.dtype)
        new = math_ops.add(math_ops.multiply(current, momentum),
                           math_ops.multiply(value, 1.0 - momentum))
        variable.assign(math_ops.cast(new, variable.dtype))
        return new

    def _renorm_correction(self, mean, variance):
        stddev = math_ops.sqrt(math_ops.add(variance, self.epsilon))
        renorm_mean = math_ops.cast(self.renorm_mean, mean.dtype)
        renorm_stddev = math_ops.maximum(math_ops.cast(self.renorm_stddev, mean.dtype),
                                         math_ops.sqrt(math_ops.cast(self.epsilon, mean.dtype)))
        r = math_ops.divide(stddev, renorm_stddev)
        d = math_ops.divide(math_ops.subtract(mean, renorm_mean), renorm_stddev)
        clipping = self.renorm_clipping or {}
        if clipping.get("rmin") is not None:
            r = math_ops.maximum(r, math_ops.cast(clipping["rmin"], r.dtype))
        if clipping.get("rmax") is not None:
            r = math_ops.minimum(r, math_ops.cast(clipping["rmax"], r.dtype))
        if clipping.get("dmax") is not None:
            d = math_ops.clip_by_value(d, math_ops.cast(-clipping["dmax"], d.dtype),
                                       math_ops.cast(clipping["dmax"], d.dtype))
        return array_ops.stop_gradient(r), array_ops.stop_gradient(d)

    def _update_renorm_statistics(self, mean, variance):
        stddev = math_ops.sqrt(math_ops.add(variance, self.epsilon))
        self._moving_average(self.renorm_mean, mean, self.renorm_momentum)
        self._moving_average(self.renorm_stddev, stddev, self.renorm_momentum)
        self._moving_average(self.moving_mean, mean, self.momentum)
        new_stddev = self._moving_average(self.moving_stddev, stddev, self.momentum)
        # The moving variance follows the moving stddev (ReLU against rounding below zero).
        self.moving_variance.assign(math_ops.cast(nn_ops.relu(math_ops.subtract(
            math_ops.square(new_stddev), self.epsilon)), self.moving_variance.dtype))

    # -- call -----------------------------------------------------------------------------------
    def call(self, inputs, training=None, mask=None):
        if mask is not None and mask.shape.rank != inputs.shape.rank - 1:
            raise ValueError("The mask provided should be one dimension less than the inputs. "
                             f"Received: mask.shape={tuple(mask.shape)}, "
                             f"inputs.shape={tuple(inputs.shape)}")
        inputs = math_ops.cast(inputs, _statistics_dtype(inputs.dtype))
        dtype = inputs.dtype
        moving_mean = math_ops.cast(self.moving_mean, dtype)
        moving_variance = math_ops.cast(self.moving_variance, dtype)
        gamma = math_ops.cast(self.gamma, dtype) if self.scale else None
        beta = math_ops.cast(self.beta, dtype) if self.center else None
        if training and self.trainable:
            mean, variance = self._moments(inputs, mask)
            if self.renorm:
                r, d = self._renorm_correction(mean, variance)
                # (x * r + d) * gamma + beta = x * (r * gamma) + (d * gamma + beta)
                if gamma is not None:
                    gamma, shift = math_ops.multiply(r, gamma), math_ops.multiply(d, gamma)
                else:
                    gamma, shift = r, d
                beta = shift if beta is None else math_ops.add(shift, beta)
                self._update_renorm_statistics(mean, variance)
            else:
                self.moving_mean.assign(math_ops.cast(math_ops.add(
                    math_ops.multiply(moving_mean, self.momentum),
                    math_ops.multiply(mean, 1.0 - self.momentum)), self.moving_mean.dtype))
                self.moving_variance.assign(math_ops.cast(math_ops.add(
                    math_ops.multiply(moving_variance, self.momentum),
                    math_ops.multiply(variance, 1.0 - self.momentum)),
                    self.moving_variance.dtype))
        else:
            mean, variance = moving_mean, moving_variance
        rank = inputs.shape.rank
        if self.axis != -1:
            shape = [1] * rank
            shape[self.axis] = -1
            mean, variance = array_ops.reshape(mean, shape), array_ops.reshape(variance, shape)
            if beta is not None:
                beta = array_ops.reshape(beta, shape)
            if gamma is not None:
                gamma = array_ops.reshape(gamma, shape)
        outputs = nn_ops.batch_normalization(inputs, mean, variance, beta, gamma, self.epsilon)
        return math_ops.cast(outputs, self.compute_dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer":
                    initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
                "synchronized": self.synchronized, "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (an int or a list of axes) to zero mean and unit
    variance, then scales by `gamma` and shifts by `beta` (both shaped like those axes)."""

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument "
                          "incorrectly scales the input by the variance, not the root mean "
                          "square. To correctly use RMS Normalization, please use "
                          "`keras.layers.RMSNormalization` instead.")
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', "
                            f"but received: {axis!r}")
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        set_weight_options(
            self, beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _check_axes_in_range(axes, input_shape, self.axis)
        if isinstance(self.axis, list):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[a] for a in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(name="gamma", shape=shape,
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, trainable=True,
                                         autocast=False)
        else:
            self.gamma = None
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(name="beta", shape=shape,
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, trainable=True,
                                        autocast=False)
        else:
            self.beta = None
        self.built = True

    def call(self, inputs):
        original = inputs.dtype
        x = math_ops.cast(inputs, _statistics_dtype(original))
        rank = x.shape.rank
        axes = sorted(self.axis if isinstance(self.axis, list) else [self.axis])
        gamma = None if self.gamma is None else math_ops.cast(self.gamma, x.dtype)
        beta = None if self.beta is None else math_ops.cast(self.beta, x.dtype)
        weight = self.gamma if self.gamma is not None else self.beta
        if weight is not None and axes != [rank - 1] and weight.shape.rank != rank:
            # gamma and beta cover the normalized axes: give them the input's rank.
            broadcast = [1] * rank
            for a, size in zip(axes, weight.shape.as_list()):
                broadcast[a] = size
            gamma = None if gamma is None else array_ops.reshape(gamma, broadcast)
            beta = None if beta is None else array_ops.reshape(beta, broadcast)
        if self.rms_scaling:
            _, variance = nn_ops.moments(x, axes=axes, keepdims=True)
            outputs = math_ops.multiply(x, math_ops.rsqrt(math_ops.add(variance, self.epsilon)))
            if gamma is not None:
                outputs = math_ops.multiply(outputs, gamma)
        else:
            mean, variance = nn_ops.moments(x, axes=axes, keepdims=True)
            inv = math_ops.rsqrt(math_ops.add(variance, math_ops.cast(self.epsilon, x.dtype)))
            if gamma is not None:
                inv = math_ops.multiply(inv, gamma)
            shift = math_ops.multiply(math_ops.negative(mean), inv)
            if beta is not None:
                shift = math_ops.add(shift, beta)
            outputs = math_ops.add(math_ops.multiply(x, inv), shift)
        outputs = math_ops.cast(outputs, original)
        return math_ops.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _check_axes_in_range(axes, input_shape, self.axis)
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm over `axis` (an int or a list of axes)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("Invalid value for `axis` argument: expected an int or a list/tuple "
                            f"of ints. Received: axis={axis}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        x = inputs
        if x.shape.rank == 0:
            x = array_ops.expand_dims(x, 0)
        square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=self.axis, keepdims=True)
        inv_norm = math_ops.minimum(math_ops.rsqrt(square_sum),
                                    math_ops.cast(1e12, x.dtype))
        return math_ops.multiply(x, inv_norm)

    def compute_output_shape(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                                 f"{tuple(input_shape)}.")
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "axis": self.axis}
