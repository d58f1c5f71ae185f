"""keras.layers.Layer: weights, sub-layer tracking, build-on-first-call, losses, masks, training.

A layer is called on tensors (run now, eagerly or into the graph being traced: there `call` is
converted by AutoGraph, so Python control flow over tensors works) or on KerasTensors (the call
runs once on a scratch graph to find the output shapes, and a Node records it for a functional
model: see symbolic.py).
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from typing import Optional

import numpy as np

from tensorweave.checkpoint import deferred as checkpoint_deferred
from tensorweave.framework import dtypes
from tensorweave.framework.context import init_scope, state
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable as _TFVariable
from tensorweave.keras.engine import dtype_policy as policies
from tensorweave.keras.engine import naming
from tensorweave.keras.engine.input_spec import assert_input_compatibility
from tensorweave.keras.engine.keras_tensor import is_keras_tensor, shape_tuple
from tensorweave.keras.engine.tracking import TrackedDict, TrackedList
from tensorweave.keras.engine.variable import Variable, path_scope
from tensorweave.ops import math_ops
from tensorweave.util import nest

_ACCEPTED_KWARGS = ("input_dim", "input_shape", "batch_input_shape", "batch_size", "weights")


class _CallContext(threading.local):
    """The outermost layer being called on this thread and the `training` value it set."""

    def __init__(self):
        self.entry = None
        self.training = None


_context = _CallContext()


class _CallSignature:
    """What a `call` method accepts, inspected once per class."""

    def __init__(self, call):
        params = list(inspect.signature(call).parameters.values())
        self.names = [p.name for p in params]
        self.positional = [p.name for p in params
                           if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        by_name = {p.name: p for p in params}
        self.has_training = "training" in by_name
        self.has_mask = "mask" in by_name
        training = by_name.get("training")
        self.training_default = None if training is None or training.default is inspect._empty \
            else training.default
        self.training_index = (self.positional.index("training")
                               if "training" in self.positional else None)
        self.mask_index = self.positional.index("mask") if "mask" in self.positional else None


_signatures: dict = {}


def _signature_of(layer) -> _CallSignature:
    call = type(layer).call
    found = _signatures.get(call)
    if found is None:
        found = _signatures[call] = _CallSignature(layer.call)
    return found


def _get_mask(x):
    return getattr(x, "_keras_mask", None)


def _set_mask(x, mask) -> None:
    try:
        x._keras_mask = mask
    except AttributeError:
        pass


class Layer:
    """The base class of all layers: `build(input_shape)` makes the weights, `call` computes."""

    _keras_module = "keras.layers"

    def __new__(cls, *args, **kwargs):
        self = super().__new__(cls)
        object.__setattr__(self, "_tracking_ready", False)
        self._init_tracking()
        object.__setattr__(self, "_auto_config", _auto_config(cls, args, kwargs))
        return self

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _recording_build(cls.__dict__["build"])

    def _init_tracking(self) -> None:
        set_ = object.__setattr__
        set_(self, "_layers", [])
        set_(self, "_trainable_variables", [])
        set_(self, "_non_trainable_variables", [])
        set_(self, "_tracked_attrs", {})
        set_(self, "_losses", [])
        set_(self, "_metrics", [])
        set_(self, "_tracking_ready", True)

    def __init__(self, *, activity_regularizer=None, trainable: bool = True, dtype=None,
                 autocast: bool = True, name: Optional[str] = None, **kwargs):
        unknown = {k: v for k, v in kwargs.items() if k not in _ACCEPTED_KWARGS}
        if unknown:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                             f"{unknown}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError("Argument `name` must be a string and cannot contain character `/`. "
                             f"Received: name={name} (of type {type(name)})")
        self.name = name or naming.unique_name(naming.to_snake_case(type(self).__name__))
        self._dtype_policy = policies.get(dtype)
        self._trainable = bool(trainable)
        self.autocast = autocast
        self.built = False
        self.supports_masking = False
        self.input_spec = None
        self._inbound_nodes: list = []
        self._outbound_nodes: list = []
        self._build_shapes = None
        self._build_shapes_dict = None
        self._called = False
        from tensorweave.keras.regularizers import get as get_regularizer
        self.activity_regularizer = get_regularizer(activity_regularizer)
        input_shape = kwargs.get("input_shape")
        if kwargs.get("input_dim") is not None:
            input_shape = (kwargs["input_dim"],)
        batch_shape = kwargs.get("batch_input_shape")
        if batch_shape is None and input_shape is not None:
            batch_shape = (kwargs.get("batch_size"),) + tuple(input_shape)
        self._batch_input_shape = None if batch_shape is None else tuple(batch_shape)
        self._initial_weights = kwargs.get("weights")

    # -- attribute tracking ---------------------------------------------------------------------
    def __setattr__(self, name, value):
        if not self.__dict__.get("_tracking_ready", False) or name.startswith("__"):
            object.__setattr__(self, name, value)
            return
        tracked = self._tracked_attrs
        if name in tracked:
            self._untrack(tracked.pop(name))
        if isinstance(value, (Layer, _TFVariable, list, tuple, dict, _metric_class())):
            value = self._track_value(value)
            tracked[name] = value
            object.__setattr__(self, name, value)
            checkpoint_deferred.attribute_set(self, name, value)  # restored values may wait
            return
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        tracked = self.__dict__.get("_tracked_attrs")
        if tracked and name in tracked:
            self._untrack(tracked.pop(name))
        object.__delattr__(self, name)

    def _track_value(self, value):
        """Tracks the layers and variables in `value`; returns it (lists and dicts wrapped)."""
        if isinstance(value, Layer):
            if value is not self and all(value is not l for l in self._layers):
                self._layers.append(value)
            return value
        if isinstance(value, _TFVariable):
            own = self._trainable_variables if value.trainable else self._non_trainable_variables
            if all(value is not v for v in self._trainable_variables) and \
                    all(value is not v for v in self._non_trainable_variables):
                own.append(value)
            return value
        if isinstance(value, _metric_class()):
            if all(value is not m for m in self._metrics):
                self._metrics.append(value)
            return value
        if isinstance(value, list) and not _is_plain_data(value):
            return TrackedList([self._track_value(v) for v in value], self)
        if isinstance(value, dict) and not _is_plain_data(value.values()):
            return TrackedDict({k: self._track_value(v) for k, v in value.items()}, self)
        if isinstance(value, tuple) and not _is_plain_data(value):
            for v in value:
                self._track_value(v)
        return value

    def _untrack(self, value) -> None:
        if isinstance(value, Layer):
            self._layers[:] = [l for l in self._layers if l is not value]
        elif isinstance(value, _metric_class()):
            self._metrics[:] = [m for m in self._metrics if m is not value]
        elif isinstance(value, _TFVariable):
            self._trainable_variables[:] = [v for v in self._trainable_variables if v is not value]
            self._non_trainable_variables[:] = [v for v in self._non_trainable_variables
                                                if v is not value]
        elif isinstance(value, (list, tuple)):
            for v in value:
                self._untrack(v)
        elif isinstance(value, dict):
            for v in value.values():
                self._untrack(v)

    def _flatten_layers(self, include_self: bool = True, recursive: bool = True):
        """This layer and its sub-layers, depth first, each once."""
        seen = set()
        order = []

        def visit(layer, depth):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            order.append(layer)
            if recursive or depth == 0:
                for sub in layer._layers:
                    visit(sub, depth + 1)

        visit(self, 0)
        return order if include_self else order[1:]

    # -- dtype ----------------------------------------------------------------------------------
    dtype_policy = property(lambda self: self._dtype_policy)
    dtype = property(lambda self: self._dtype_policy.variable_dtype)
    compute_dtype = property(lambda self: self._dtype_policy.compute_dtype)
    variable_dtype = property(lambda self: self._dtype_policy.variable_dtype)
    input_dtype = property(lambda self: self._dtype_policy.compute_dtype)

    # -- weights --------------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True,
                   autocast: bool = True, regularizer=None, constraint=None,
                   aggregation="none", overwrite_with_gradient: bool = False,
                   name: Optional[str] = None, **kwargs) -> Variable:
        """Creates a weight of this layer (tracked, regularized, constrained)."""
        from tensorweave.keras import constraints, initializers, regularizers
        if "use_resource" in kwargs or "synchronization" in kwargs:
            kwargs.pop("use_resource", None)
            kwargs.pop("synchronization", None)
        if kwargs:
            raise TypeError(f"add_weight() got unexpected keyword arguments: {sorted(kwargs)}")
        shape = () if shape is None else tuple(int(d) if d is not None else d for d in shape)
        if any(d is None for d in shape):
            raise ValueError(f"Can't create weight '{name}' of layer '{self.name}' with an "
                             f"unknown dimension: shape={shape}")
        dtype = dtypes.as_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        initializer = initializers.get(initializer)
        with init_scope(), self._path_scope():
            variable = Variable(initializer, shape=shape, dtype=dtype, trainable=trainable,
                                autocast=autocast, name=name,
                                regularizer=regularizers.get(regularizer),
                                constraint=constraints.get(constraint))
        variable.overwrite_with_gradient = overwrite_with_gradient
        self._track_value(variable)
        checkpoint_deferred.weight_created(self, variable)  # a restored value may wait for it
        return variable

    def add_variable(self, *args, **kwargs) -> Variable:
        return self.add_weight(*args, **kwargs)

    @property
    def weights(self) -> list:
        """This layer's weights (trainable first), then its sub-layers', each once."""
        seen = set()
        out = []
        for w in self._trainable_variables + self._non_trainable_variables:
            if id(w) not in seen:
                seen.add(id(w))
                out.append(w)
        for layer in self._layers:
            for w in layer.weights:
                if id(w) not in seen:
                    seen.add(id(w))
                    out.append(w)
        return out

    @property
    def trainable_weights(self) -> list:
        if not self.trainable:
            return []
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freezes (or unfreezes) this layer and all its sub-layers."""
        value = bool(value)
        object.__setattr__(self, "_trainable", value)
        for w in self._trainable_variables:
            if isinstance(w, Variable):
                w.trainable = value
        for layer in self._layers:
            layer.trainable = value

    def get_weights(self) -> list:
        return [np.array(w.numpy()) for w in self.weights]

    def set_weights(self, weights) -> None:
        """Sets the weights from NumPy arrays (in the order of `weights`); all or nothing."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a "
                             f"weight list of length {len(weights)}, but the layer was expecting "
                             f"{len(own)} weights.")
        values = []
        for variable, value in zip(own, weights):
            value = np.asarray(value)
            if tuple(value.shape) != tuple(variable.shape.as_list()):
                raise ValueError(f"Layer {self.name} weight shape {tuple(variable.shape)} is not "
                                 f"compatible with provided weight shape {value.shape}.")
            values.append(value)
        for variable, value in zip(own, values):
            variable.assign(value.astype(variable.dtype.as_numpy_dtype))

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             "layer isn't built. You can build it manually via: "
                             f"`layer.build(input_shape)`.")
        return int(sum(int(np.prod(w.shape.as_list())) for w in self.weights))

    # -- losses ---------------------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Adds a scalar loss (a tensor computed in `call`); `losses` collects it."""
        for x in nest.flatten(loss):
            if callable(x) and not isinstance(x, Tensor):
                x = x()
            if not isinstance(x, (Tensor, _TFVariable)):
                x = convert_to_tensor(x, dtype=self.compute_dtype)
            self._losses.append(x)

    @property
    def metrics(self) -> list:
        """The metric objects held by this layer and its sub-layers."""
        out = list(self._metrics)
        for layer in self._layers:
            out.extend(layer.metrics)
        return out

    @property
    def metrics_variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]

    def add_metric(self, value, name: Optional[str] = None, aggregation=None) -> None:
        """Reports `value` as a metric of this layer (TensorFlow 2's API; Keras 3 removed it).
        The result of calling a metric this layer holds is reported by that metric already;
        any other value is averaged by a `Mean` metric called `name`."""
        from tensorweave.keras.metrics.reduction_metrics import Mean
        if any(getattr(m, "_last_result", None) is value for m in self.metrics):
            return
        if name is None:
            raise ValueError("Please provide a name for your metric like "
                             "`self.add_metric(tf.reduce_sum(inputs), name='mean_activation')`")
        if aggregation not in (None, "mean"):
            raise ValueError(f"We currently support only `mean` aggregation for metrics added "
                             f"with add_metric; received aggregation={aggregation!r}")
        metric = next((m for m in self._metrics if m.name == name), None)
        if metric is None:
            metric = Mean(name=name)
            self._metrics.append(metric)
        metric.update_state(value)

    @property
    def losses(self) -> list:
        """Losses of the last call (this layer's and its sub-layers') and weight penalties."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        for w in self.trainable_weights:
            regularizer = getattr(w, "regularizer", None)
            if regularizer is not None:
                out.append(regularizer(w))
        return out

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            object.__setattr__(layer, "_losses", [])

    # -- build and call -------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        """Creates the weights; called once, before the first `call`, with the input shape."""
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method "
                                  "implemented.")

    @contextlib.contextmanager
    def _path_scope(self):
        """Names this layer in the paths of the weights made inside (once, if nested)."""
        names = path_scope.names
        pushed = not names or names[-1] != self.name
        if pushed:
            names.append(self.name)
        try:
            yield
        finally:
            if pushed:
                names.pop()

    def _maybe_build(self, first_arg, args: tuple = (), kwargs: Optional[dict] = None) -> None:
        if self.built:
            return
        shapes = nest.map_structure(
            lambda x: shape_tuple(x) if hasattr(x, "shape") else None, first_arg)
        self._build_shapes = shapes
        if getattr(type(self).build, "_builds_by_calling", False):
            self._build_shapes_dict = _shapes_by_argument(self, (first_arg,) + tuple(args[1:]),
                                                          kwargs or {})
        else:
            named = shapes_for(self.build, self.call, args, kwargs or {})
            with init_scope(), self._path_scope():
                if named is None:
                    self.build(shapes)
                else:
                    self.build(**named)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _convert_arg(self, x):
        if isinstance(x, Tensor):
            if self.autocast and x._dtype.is_floating and x._dtype.name != self.compute_dtype:
                mask = _get_mask(x)
                x = math_ops.cast(x, self.compute_dtype)
                if mask is not None:
                    _set_mask(x, mask)
            return x
        if isinstance(x, (np.ndarray, np.generic)):
            if x.dtype.kind == "f":
                return convert_to_tensor(x.astype(self.compute_dtype, copy=False)
                                         if self.autocast else x)
            return convert_to_tensor(x)
        if isinstance(x, _TFVariable):
            if self.autocast and x.dtype.is_floating and x.dtype.name != self.compute_dtype:
                return math_ops.cast(x, self.compute_dtype)
            return x
        return x

    def __call__(self, *args, **kwargs):
        if not args and kwargs:  # the first input given by name (`inputs=`, `query=`...)
            positional = _signature_of(self).positional
            first = positional[0] if positional and positional[0] in kwargs else "inputs"
            if first in kwargs:
                kwargs = dict(kwargs)
                args = (kwargs.pop(first),)
        if "_dtype_policy" not in self.__dict__:
            raise RuntimeError(f"You forgot to call `super().__init__()` in the `__init__()` "
                               f"method of {type(self).__name__}.")
        if len(args) == 1 and not kwargs and isinstance(args[0], Tensor):
            args = (self._convert_arg(args[0]),)
        else:
            args = nest.map_structure(self._convert_arg, args)
            kwargs = nest.map_structure(self._convert_arg, kwargs)
        if not args:
            raise ValueError(f"Layer {self.name} was called without an input.")
        flat = nest.flatten((args, kwargs)) if kwargs or len(args) > 1 or \
            not isinstance(args[0], Tensor) else args
        if any(is_keras_tensor(x) for x in flat):
            from tensorweave.keras.engine import symbolic
            return symbolic.symbolic_call(self, args, kwargs)
        self._called = True
        first = args[0]
        assert_input_compatibility(self.input_spec, first, self.name)
        self._maybe_build(first, args, kwargs)
        context = _context
        is_entry = context.entry is None
        previous_training = context.training
        if is_entry:
            context.entry = self
            self._clear_losses()
        try:
            args, kwargs = self._resolve_call_args(args, kwargs, context)
            previous_mask = kwargs.get("mask") if "mask" in kwargs else \
                nest.map_structure(_get_mask, first)
            outputs = self._run_call(args, kwargs)
            if self.activity_regularizer is not None:
                self._add_activity_losses(outputs)
            if self.supports_masking:
                self._set_output_masks(first, outputs, previous_mask)
        finally:
            context.training = previous_training
            if is_entry:
                context.entry = None
                context.training = None
        return outputs

    def _resolve_call_args(self, args, kwargs, context):
        """Fills `training` (explicit, else the outer call's, else the signature default) and
        `mask` (from the inputs' `_keras_mask`) as `call` accepts them."""
        signature = _signature_of(self)
        positional_training = signature.training_index is not None \
            and len(args) > signature.training_index
        training = args[signature.training_index] if positional_training \
            else kwargs.get("training")
        if training is None:
            training = context.training
            if training is None:
                training = signature.training_default
        context.training = training
        if signature.has_training and training is not None and not positional_training:
            kwargs = dict(kwargs, training=training)
        elif not signature.has_training and "training" in kwargs:
            kwargs = {k: v for k, v in kwargs.items() if k != "training"}
        tensors = [(None, args[0])] if len(args) == 1 and not kwargs else \
            _tensor_arguments(signature, args, kwargs)
        if len(tensors) <= 1:
            # one tensor argument: its mask goes to `mask`
            positional_mask = signature.mask_index is not None and \
                len(args) > signature.mask_index
            if signature.has_mask and not positional_mask and kwargs.get("mask") is None:
                mask = nest.map_structure(_get_mask, args[0])
                if any(m is not None for m in nest.flatten(mask)):
                    kwargs = dict(kwargs, mask=mask)
            return args, kwargs
        # several: each one's mask goes to `<argument>_mask` where call has it (Keras 3's rule)
        for name, value in tensors:
            key = f"{name}_mask"
            if key not in signature.names or kwargs.get(key) is not None or (
                    key in signature.positional and len(args) > signature.positional.index(key)):
                continue
            mask = nest.map_structure(_get_mask, value)
            if any(m is not None for m in nest.flatten(mask)):
                kwargs = dict(kwargs, **{key: mask})
        return args, kwargs

    def _run_call(self, args, kwargs):
        call = self.call
        if state.graph is not None:
            from tensorweave.autograph import conversion
            call = conversion.callable_for(call)
        names = path_scope.names
        pushed = not names or names[-1] != self.name
        if pushed:
            names.append(self.name)
        try:
            return call(*args, **kwargs)
        except Exception as error:
            if not getattr(error, "_keras_noted", False):
                try:
                    error.add_note(f"Exception encountered when calling {type(self).__name__}."
                                   f"call() of layer '{self.name}'.")
                    error._keras_noted = True
                except (AttributeError, TypeError):
                    pass
            raise
        finally:
            if pushed:
                names.pop()

    def _add_activity_losses(self, outputs) -> None:
        from tensorweave.ops import array_ops
        for output in nest.flatten(outputs):
            if isinstance(output, Tensor):
                loss = self.activity_regularizer(output)
                if output.shape.rank:
                    batch = math_ops.cast(array_ops.shape(output)[0], loss.dtype)
                    loss = math_ops.divide_no_nan(loss, batch)
                self.add_loss(loss)

    def _set_output_masks(self, first, outputs, previous_mask) -> None:
        mask = self.compute_mask(first, previous_mask)
        if mask is None:
            return
        flat_outputs = nest.flatten(outputs)
        flat_masks = nest.flatten(mask)
        if len(flat_masks) == len(flat_outputs):
            for output, m in zip(flat_outputs, flat_masks):
                if m is not None:
                    _set_mask(output, m)

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the outputs: the inputs' mask, passed on, where masking is supported."""
        if not self.supports_masking:
            return None
        return previous_mask

    def compute_output_shape(self, *args, **kwargs):
        """The output shape for an input shape; found by tracing `call` when not overridden."""
        from tensorweave.keras.engine import symbolic
        return symbolic.output_shape_by_tracing(self, *args, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        from tensorweave.keras.engine import symbolic
        return symbolic.output_spec(self, args, kwargs)

    # -- functional-graph views -----------------------------------------------------------------
    def _single_node_value(self, attr: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to return.")
        values = [getattr(node, attr) for node in self._inbound_nodes]
        if len(values) > 1:
            raise AttributeError(f"Layer {self.name} has multiple inbound nodes, hence the notion "
                                 f"of \"layer {what}\" is ill-defined. Use `get_{what}_at("
                                 "node_index)` instead.")
        return values[0]

    @property
    def input(self):
        return self._single_node_value("input_structure", "input")

    @property
    def output(self):
        return self._single_node_value("output_structure", "output")

    def get_input_at(self, node_index: int):
        return self._inbound_nodes[node_index].input_structure

    def get_output_at(self, node_index: int):
        return self._inbound_nodes[node_index].output_structure

    @property
    def input_shape(self):
        return nest.map_structure(lambda t: tuple(t.shape), self.input)

    @property
    def output_shape(self):
        return nest.map_structure(lambda t: tuple(t.shape), self.output)

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict:
        from tensorweave.keras.saving.serialization import serialize_keras_object
        config = {"name": self.name, "trainable": self.trainable,
                  "dtype": serialize_keras_object(self._dtype_policy)}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = serialize_keras_object(self.activity_regularizer)
        if type(self).get_config is Layer.get_config and self._auto_config is not None:
            extra = {k: v for k, v in self._auto_config.items() if k not in config
                     and k not in ("trainable", "dtype")}
            if "activity_regularizer" in extra:  # Keras writes the argument even when None
                extra["activity_regularizer"] = serialize_keras_object(self.activity_regularizer)
            if not _config_serializable(extra):
                raise NotImplementedError(
                    f"Layer {type(self).__name__} was created by passing non-serializable "
                    "argument values in `__init__()`, and therefore the layer must override "
                    "`get_config()` in order to be serializable.")
            config = {**extra, **config}
        return config

    def get_build_config(self) -> Optional[dict]:
        """The shapes the layer was built with: `{"input_shape": ...}` for one tensor argument,
        `{"shapes_dict": {"<arg>_shape": ...}}` for several; None before it is built."""
        shapes = getattr(self, "_build_shapes_dict", None)
        if not shapes:
            return None
        if len(shapes) == 1:
            return {"input_shape": next(iter(shapes.values()))}
        return {"shapes_dict": dict(shapes)}

    def build_from_config(self, config: dict) -> None:
        """Creates the weights from a `get_build_config()` (when a file is loaded)."""
        if not config:
            return
        with init_scope(), self._path_scope():
            if "input_shape" in config:
                shape = _as_shape(config["input_shape"])
                self._build_shapes = shape
                self.build(shape)
                self._build_shapes_dict = {"input_shape": shape}
            elif "shapes_dict" in config:
                shapes = {k: _as_shape(v) for k, v in config["shapes_dict"].items()}
                params = [p for p in inspect.signature(self.build).parameters.values()
                          if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
                if len(params) <= 1:  # a one-argument build gets the first input's shape
                    self.build(next(iter(shapes.values())))
                else:
                    self.build(**{k: v for k, v in shapes.items()
                                  if k in {p.name for p in params}})
                self._build_shapes_dict = shapes
        self.built = True

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = policies.get(config["dtype"])
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(f"Error when deserializing class '{cls.__name__}' using config="
                            f"{config}.\n\nException encountered: {error}") from None

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _tensor_arguments(signature: "_CallSignature", args: tuple, kwargs: dict) -> list:
    """(name, value) of the call arguments holding tensors, masks and `training` aside."""
    named = [(signature.positional[i] if i < len(signature.positional) else None, value)
             for i, value in enumerate(args)] + list(kwargs.items())
    return [(name, value) for name, value in named
            if name not in ("mask", "training")
            and any(isinstance(x, (Tensor, _TFVariable)) for x in nest.flatten(value))]


def shapes_for(target, call, args: tuple, kwargs: dict) -> Optional[dict]:
    """Keras 3's rule for a `build` (or `compute_output_shape`) with several arguments: each is
    named `<call argument>_shape` and receives that tensor argument's shape. None when `target`
    takes one argument (it then receives the first input's shape)."""
    params = [p.name for p in inspect.signature(target).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    if len(params) <= 1:
        return None
    call_params = inspect.signature(call).parameters
    try:
        bound = inspect.signature(call).bind_partial(*args, **kwargs).arguments
    except TypeError:
        bound = {}
    shapes = {f"{name}_shape": nest.map_structure(
        lambda x: shape_tuple(x) if hasattr(x, "shape") else None, value)
        for name, value in bound.items()
        if name not in ("mask", "args", "kwargs")
        and any(hasattr(x, "shape") for x in nest.flatten(value))}
    named = {}
    for name in params:
        argument = name[:-len("_shape")]
        if not name.endswith("_shape") or argument not in call_params:
            raise ValueError(f"For a `{target.__name__}()` method with more than one argument, all "
                             f"arguments should have a `_shape` suffix and match an argument "
                             f"from `call()`. E.g. `{target.__name__}(self, foo_shape, "
                             f"bar_shape)`. Received `{target.__name__}()` argument `{name}`.")
        if name in shapes:
            named[name] = shapes[name]
    return named


def _recording_build(build):
    """`build` that first notes the shapes it is given (what `get_build_config` writes): one
    argument as `input_shape`, several under their own `<arg>_shape` names."""
    if getattr(build, "_records_shapes", False):
        return build

    @functools.wraps(build)
    def recording(self, *args, **kwargs):
        if getattr(self, "_build_shapes_dict", None) is None:
            if len(args) == 1 and not kwargs:
                self._build_shapes_dict = {"input_shape": _as_shape(_plain_shape(args[0]))}
            elif kwargs and not args:
                self._build_shapes_dict = {k: _as_shape(_plain_shape(v))
                                           for k, v in kwargs.items()}
        return build(self, *args, **kwargs)

    recording._records_shapes = True
    return recording


Layer.build = _recording_build(Layer.build)


def _plain_shape(shape):
    """A TensorShape (or structure of them) as lists and tuples of ints and None."""
    if hasattr(shape, "as_list"):
        return None if shape.rank is None else tuple(shape.as_list())
    if isinstance(shape, dict):
        return {k: _plain_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)):
        return type(shape)(_plain_shape(d) for d in shape)
    return shape


def _shapes_by_argument(layer, args: tuple, kwargs: dict) -> Optional[dict]:
    """`{"<arg>_shape": shape}` for each call argument holding tensors (masks and `training`
    aside): what `get_build_config` writes."""
    try:
        bound = inspect.signature(layer.call).bind_partial(*args, **kwargs).arguments
    except TypeError:
        return None
    shapes = {}
    for name, value in bound.items():
        if name in ("mask", "training") or name.endswith("_mask"):
            continue
        flat = [x for x in nest.flatten(value) if x is not None]
        if flat and all(hasattr(x, "shape") and not isinstance(x, (int, float)) for x in flat):
            shapes[f"{name}_shape"] = nest.map_structure(
                lambda x: shape_tuple(x) if hasattr(x, "shape") else None, value)
    return shapes or None


def _as_shape(shape):
    """A shape read from JSON (lists) as tuples; a list of shapes stays a list."""
    if shape is None:
        return None
    if isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape):
        return tuple(shape)
    if isinstance(shape, dict):
        return {k: _as_shape(v) for k, v in shape.items()}
    return [_as_shape(s) for s in shape]


def _metric_class():
    """keras.metrics.Metric, imported on first use (the metrics package imports this module)."""
    global _METRIC
    if _METRIC is None:
        from tensorweave.keras.metrics.metric import Metric
        _METRIC = Metric
    return _METRIC


_METRIC = None


def _is_plain_data(values) -> bool:
    """True when a container holds only numbers and strings (nothing to track inside)."""
    for v in values:
        if not isinstance(v, (int, float, str, bool, type(None))):
            return False
    return True


def _auto_config(cls, args, kwargs) -> Optional[dict]:
    """The constructor arguments (with defaults), kept for `get_config` of layers without one."""
    try:
        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    config = {}
    for name, value in list(bound.arguments.items())[1:]:
        parameter = inspect.signature(cls.__init__).parameters[name]
        if parameter.kind is parameter.VAR_KEYWORD:
            config.update(value)
        elif parameter.kind is not parameter.VAR_POSITIONAL:
            config[name] = value
    config.pop("name", None)
    return config


def _config_serializable(config: dict) -> bool:
    def plain(v):
        if isinstance(v, (int, float, str, bool, type(None))):
            return True
        if isinstance(v, (list, tuple)):
            return all(plain(x) for x in v)
        if isinstance(v, dict):
            return all(isinstance(k, str) and plain(x) for k, x in v.items())
        return False
    return plain(config)
