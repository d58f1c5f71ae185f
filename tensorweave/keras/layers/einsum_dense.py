"""keras.layers.EinsumDense: a dense layer whose product is an einsum equation (Keras 3).

`EinsumDense("abc,cde->abde", output_shape=(None, 8, 16), bias_axes="de")` maps inputs of
shape (batch, T, 32) to (batch, T, 8, 16) with a (32, 8, 16) kernel and an (8, 16) bias: the
projections of MultiHeadAttention. The kernel and bias shapes follow from the equation, the
input shape and the partial output shape, exactly as Keras 3 derives them, so weight files load.

Speed: an equation of the form `<free><contracted>,<contracted><out>-><free><out>` (the
common case, `...` allowed in front of the free labels) runs as one 2-D matrix product of the
input flattened to (rows, contracted) with the kernel flattened to (contracted, out); other
equations go through `tf.einsum`.
"""
from __future__ import annotations

import math
import re

import tensorweave as tf
from tensorweave.keras import activations, constraints, initializers, regularizers
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.initializers.initializers import VarianceScaling
from tensorweave.keras.layers.weight_options import set_weight_options


def analyze_einsum_string(equation: str, bias_axes, input_shape, output_shape):
    """(kernel_shape, bias_shape, full_output_shape, kernel_input_axes, kernel_output_axes) of
    an EinsumDense with this equation on inputs of `input_shape`."""
    plain = equation.replace("...", "0")
    for pattern, left in (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", False),
                          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", True),
                          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", False)):
        found = re.match(pattern, plain)
        if found:
            return _analyze_parts(*found.groups(), bias_axes, tuple(input_shape), output_shape,
                                  left_elided=left)
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def _analyze_parts(input_spec, weight_spec, output_spec, bias_axes, input_shape, output_shape,
                   left_elided):
    elided = len(input_shape) - len(input_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    # The full output shape: the batch size, the elided dims (front or back), the given dims.
    # (Keras 3 inserts the front elided dims one by one at index 1: they end up reversed.)
    if left_elided:
        out = [input_shape[0]] + [input_shape[i] for i in range(elided - 1, 0, -1)] + out
    else:
        out = [input_shape[0]] + out
        if elided > 0:
            out += list(input_shape[len(input_shape) - elided:])
    if left_elided:
        input_index = {label: i + elided - len(input_shape) for i, label in enumerate(input_spec)}
        output_index = {label: i + elided for i, label in enumerate(output_spec)}
    else:
        input_index = {label: i for i, label in enumerate(input_spec)}
        output_index = {label: i for i, label in enumerate(output_spec)}
    for label in input_spec:
        if label in output_index:
            size_in = input_shape[input_index[label]]
            size_out = out[output_index[label]]
            if size_out is not None and size_out != size_in:
                raise ValueError(f"Input shape and output shape do not match at shared dimension "
                                 f"'{label}'. Input shape is {size_in}, and output shape is "
                                 f"{size_out}.")
    for label in output_spec:
        if label not in input_spec and label not in weight_spec:
            raise ValueError(f"Dimension '{label}' was specified in the output '{output_spec}' "
                             f"but has no corresponding dim in the input spec '{input_spec}' or "
                             f"weight spec '{output_spec}'")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, label in enumerate(weight_spec):
        if label in output_index:
            kernel_shape.append(out[output_index[label]])
            output_axes.append(i)
        elif label in input_index:
            kernel_shape.append(input_shape[input_index[label]])
            input_axes.append(i)
        else:
            raise ValueError(f"Weight dimension '{label}' did not have a match in either the "
                             f"input spec '{input_spec}' or the output spec '{output_spec}'. For "
                             "this layer, the weight must be fully specified.")
    bias_shape = None
    if bias_axes is not None:
        for label in bias_axes:
            if label not in output_spec:
                raise ValueError(f"Bias dimension '{label}' was requested, but is not part of "
                                 f"the output spec '{output_spec}'")
        shift = elided if left_elided else 0
        first = min(output_spec.find(label) for label in bias_axes)
        bias_shape = [out[i + shift] if label in bias_axes else 1
                      for i, label in enumerate(output_spec) if i >= first]
        if not left_elided:
            bias_shape += [1] * max(elided, 0)
    return kernel_shape, bias_shape, out, input_axes, output_axes


def _matmul_plan(equation: str):
    """(number of free input labels, number of contracted labels, '...' in front) when the
    equation is `[...]<free><contracted>,<contracted><out>->[...]<free><out>`, else None."""
    eq = equation.replace(" ", "")
    found = re.match(r"(\.\.\.)?([a-zA-Z]+),([a-zA-Z]+)->(\.\.\.)?([a-zA-Z]+)$", eq)
    if not found or bool(found.group(1)) != bool(found.group(4)):
        return None
    x, k, o = found.group(2), found.group(3), found.group(5)
    if len(set(x)) != len(x) or len(set(k)) != len(k) or len(set(o)) != len(o):
        return None
    contracted = [c for c in x if c in k and c not in o]
    if not contracted:
        return None
    n = len(contracted)
    free, out = x[:len(x) - n], k[n:]
    if x[len(x) - n:] != "".join(contracted) or k[:n] != "".join(contracted) or \
            o != free + out or set(free) & set(k) or set(out) & set(x):
        return None
    return len(free), n, bool(found.group(1))


def project(inputs, kernel, plan):
    """inputs x kernel for an equation `_matmul_plan` accepted: one 2-D matmul and reshapes."""
    n_free, n_contracted, _ = plan
    kernel_dims = kernel.shape.as_list()
    inner = math.prod(kernel_dims[:n_contracted])
    out_dims = kernel_dims[n_contracted:]
    rank = inputs.shape.rank
    lead = inputs.shape.as_list()[:rank - n_contracted]
    flat = tf.reshape(inputs, [-1, inner])
    product = tf.matmul(flat, tf.reshape(kernel, [inner, math.prod(out_dims)])
                        if len(kernel_dims) != 2 else kernel)
    if all(d is not None for d in lead[1:]):
        return tf.reshape(product, [-1] + lead[1:] + out_dims)
    lead_dynamic = tf.shape(inputs)[:rank - n_contracted]
    return tf.reshape(product, tf.concat([lead_dynamic, tf.constant(out_dims, "int32")], 0))


def in_compute_dtype(layer, variable):
    """A weight read in the layer's compute dtype (mixed precision keeps float32 weights)."""
    if variable.dtype.name != layer.compute_dtype and variable.dtype.is_floating:
        return tf.cast(variable, layer.compute_dtype)
    return variable


class EinsumDense(Layer):
    """A dense layer computing `einsum(equation, inputs, kernel) + bias`, then `activation`."""

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        self.equation = equation
        self.partial_output_shape = (output_shape,) if isinstance(output_shape, int) \
            else tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        if lora_rank:
            raise NotImplementedError("EinsumDense: LoRA (lora_rank) is not supported yet.")
        if quantization_config is not None:
            raise NotImplementedError("EinsumDense: quantization is not supported yet.")
        self.lora_rank = lora_rank
        self.lora_alpha = lora_alpha if lora_alpha is not None else lora_rank
        self.lora_enabled = False
        self.gptq_unpacked_column_size = gptq_unpacked_column_size
        self.quantization_config = quantization_config
        self.kernel = None
        self.bias = None
        self._plan = _matmul_plan(equation)

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_einsum_string(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self.input_spec = InputSpec(ndim=len(input_shape))
        initializer = self.kernel_initializer
        if isinstance(initializer, VarianceScaling) and (
                initializer.input_axes is None or initializer.output_axes is None):
            # The fans of a many-axis kernel: its input axes and its output axes (Keras 3).
            config = dict(initializer.get_config(), input_axes=input_axes,
                          output_axes=output_axes)
            initializer = type(initializer).from_config(config)
            initializer.seed = self.kernel_initializer.seed
        self.kernel = self.add_weight(name="kernel", shape=tuple(kernel_shape),
                                      initializer=initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True)
        if bias_shape is not None:
            self.bias = self.add_weight(name="bias", shape=tuple(bias_shape),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, trainable=True)
        else:
            self.bias = None
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(analyze_einsum_string(self.equation, self.bias_axes, tuple(input_shape),
                                           self.partial_output_shape)[2])

    def call(self, inputs, training=None):
        kernel = in_compute_dtype(self, self.kernel)
        plan = self._plan
        if plan is not None and inputs.shape.rank is not None and \
                (plan[2] or inputs.shape.rank == plan[0] + plan[1]):
            x = project(inputs, kernel, plan)
        else:
            x = tf.einsum(self.equation, inputs, kernel)
        if self.bias is not None:
            x = tf.add(x, in_compute_dtype(self, self.bias))
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self) -> dict:
        from tensorweave.keras.saving.serialization import serialize_keras_object
        config = {**super().get_config(),
                  "output_shape": self.partial_output_shape,
                  "equation": self.equation,
                  "activation": activations.serialize(self.activation),
                  "bias_axes": self.bias_axes,
                  "kernel_initializer": initializers.serialize(self.kernel_initializer),
                  "bias_initializer": initializers.serialize(self.bias_initializer),
                  "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                  "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                  "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                  "kernel_constraint": constraints.serialize(self.kernel_constraint),
                  "bias_constraint": constraints.serialize(self.bias_constraint),
                  "quantization_config": serialize_keras_object(self.quantization_config)}
        if self.lora_rank:
            config["lora_rank"] = self.lora_rank
            config["lora_alpha"] = self.lora_alpha
        if self.gptq_unpacked_column_size:
            config["gptq_unpacked_column_size"] = self.gptq_unpacked_column_size
        return config

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("activity_regularizer"), dict):
            config["activity_regularizer"] = regularizers.get(config["activity_regularizer"])
        return super().from_config(config)
