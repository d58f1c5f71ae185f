"""What `compile(loss=..., metrics=...)` becomes: one loss and a list of metrics per model output.

The user's loss and metrics may be one object for every output, a list matching the outputs, or a
dict keyed by output name; strings and plain functions are resolved with `keras.losses.get` and
`keras.metrics.get`, and "accuracy"/"acc" (and the loss "crossentropy"/"ce") by the shapes of the
labels and predictions, as Keras does. Everything is resolved on the first batch, before any
training step, so a mismatch is reported before the model changes.
"""
from __future__ import annotations

from typing import Optional

from tensorweave.keras.engine.keras_tensor import shape_tuple
from tensorweave.keras.metrics.metric import Metric
from tensorweave.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper
from tensorweave.ops import array_ops, math_ops
from tensorweave.util import nest


def _object_name(obj) -> str:
    if isinstance(obj, str):
        return obj
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    return getattr(obj, "__name__", type(obj).__name__)


def is_binary_or_sparse_categorical(y_true, y_pred):
    """(binary, sparse categorical) judged from the label and prediction shapes."""
    true_shape, pred_shape = shape_tuple(y_true), shape_tuple(y_pred)
    is_binary = pred_shape[-1] == 1
    is_sparse = len(true_shape) < len(pred_shape) or (
        true_shape[-1] == 1 and pred_shape[-1] != 1)
    return is_binary, is_sparse


def get_metric(identifier, y_true, y_pred) -> Metric:
    from tensorweave.keras import metrics as metrics_module
    if identifier is None:
        raise ValueError("Expected metric, received `None`")
    if str(identifier).lower() in ("accuracy", "acc"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        if is_binary:
            metric = metrics_module.BinaryAccuracy(name=str(identifier))
        elif is_sparse:
            metric = metrics_module.SparseCategoricalAccuracy(name=str(identifier))
        else:
            metric = metrics_module.CategoricalAccuracy(name=str(identifier))
    else:
        metric = metrics_module.get(identifier)
    name = _object_name(identifier) if isinstance(identifier, str) else _object_name(metric)
    if not isinstance(metric, Metric):
        metric = MeanMetricWrapper(metric)
    metric.name = name
    return metric


def get_loss(identifier, y_true, y_pred):
    from tensorweave.keras import losses as losses_module
    if identifier is None:
        return None
    if str(identifier).lower() in ("crossentropy", "ce"):
        is_binary, is_sparse = is_binary_or_sparse_categorical(y_true, y_pred)
        loss = (losses_module.binary_crossentropy if is_binary else
                losses_module.sparse_categorical_crossentropy if is_sparse else
                losses_module.categorical_crossentropy)
    else:
        loss = losses_module.get(identifier)
    if not isinstance(loss, losses_module.Loss):
        loss = losses_module.LossFunctionWrapper(loss, name=_object_name(identifier))
    return loss


class _Outputs:
    """The model's outputs as a flat list with a name for each (None where it has none)."""

    def __init__(self, y_pred, output_names: Optional[list]):
        if isinstance(y_pred, dict):
            keys = list(output_names) if output_names and set(output_names) == set(y_pred) \
                else sorted(y_pred)
            self.names = keys
            self.keys = keys
        else:
            flat = nest.flatten(y_pred)
            self.keys = None
            names = list(output_names) if output_names and len(output_names) == len(flat) \
                else [None] * len(flat)
            self.names = names
        self.count = len(self.names)

    def flatten(self, y) -> list:
        """Labels, predictions or sample weights of the outputs, in output order."""
        if y is None:
            return [None] * self.count
        if isinstance(y, dict):
            names = self.keys or self.names
            missing = [n for n in names if n not in y]
            if missing:
                raise ValueError(f"Expected the targets to contain the model's output names "
                                 f"{names}; missing {missing}. Received keys: {sorted(y)}")
            return [y[n] for n in names]
        flat = nest.flatten(y) if isinstance(y, (list, tuple)) else [y]
        if len(flat) != self.count:
            raise ValueError(f"The model has {self.count} outputs, but the targets hold "
                             f"{len(flat)} arrays. Pass one target per output (as a list in "
                             f"output order or a dict keyed by {self.names}).")
        return flat

    def flatten_weights(self, sample_weight) -> list:
        """Sample weights per output: one array serves every output."""
        if isinstance(sample_weight, (list, tuple, dict)):
            return self.flatten(sample_weight)
        return [sample_weight] * self.count


def _per_output(spec, outputs: "_Outputs", argument: str) -> list:
    """`spec` (one entry for all outputs, a list per output, or a dict by output name) as a list
    with one entry per output."""
    n = outputs.count
    if isinstance(spec, dict):
        unknown = [k for k in spec if k not in outputs.names]
        if unknown:
            raise ValueError(f"The `{argument}` dict has keys {unknown} that are not output names "
                             f"of the model. Expected keys among {outputs.names}. Received: "
                             f"{argument}={spec}")
        return [spec.get(name) for name in outputs.names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != n:
            raise ValueError(f"The model has {n} outputs, but the `{argument}` argument has "
                             f"{len(spec)} entries. Expected a list of {n} entries (one per "
                             f"output, in order {outputs.names}) or a dict keyed by output name. "
                             f"Received: {argument}={spec}")
        return list(spec)
    return [spec] * n


class CompileLoss:
    """The compiled loss: the (weighted) sum of one loss per output."""

    def __init__(self, loss, loss_weights=None, output_names: Optional[list] = None):
        if loss_weights is not None and not isinstance(loss_weights, (list, tuple, dict, float,
                                                                      int)):
            raise ValueError(f"Expected `loss_weights` argument to be a float (single output case) "
                             f"or a list, tuple, or dict (multiple output case). Received "
                             f"instead: loss_weights={loss_weights} of type {type(loss_weights)}")
        self._user_loss = loss
        self._user_loss_weights = loss_weights
        self.output_names = output_names
        self.built = False
        self.metrics: list = []
        self._losses: list = []

    def build(self, y_true, y_pred) -> None:
        outputs = self._outputs = _Outputs(y_pred, self.output_names)
        losses = _per_output(self._user_loss, outputs, "loss")
        weights = self._user_loss_weights
        if weights is None or isinstance(weights, (int, float)):
            weights = [weights] * outputs.count
        else:
            weights = _per_output(weights, outputs, "loss_weights")
        y_true, y_pred = outputs.flatten(y_true), outputs.flatten(y_pred)
        self._losses = []
        for i, (spec, weight) in enumerate(zip(losses, weights)):
            loss = get_loss(spec, _as_tensor(y_true[i]), y_pred[i])
            if loss is not None:
                self._losses.append((i, loss, weight, outputs.names[i] or loss.name))
        if not self._losses:
            raise ValueError(f"No loss to compute: every output's loss is None. Received: "
                             f"loss={self._user_loss}")
        if len(self._losses) > 1:
            self.metrics = [Mean(name=f"{name}_loss") for _, _, _, name in self._losses]
        self.built = True

    def __call__(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        outputs = self._outputs
        y_true, y_pred = outputs.flatten(y_true), outputs.flatten(y_pred)
        weights = outputs.flatten_weights(sample_weight)
        total = None
        for k, (i, loss, weight, _) in enumerate(self._losses):
            value = loss(y_true[i], y_pred[i], weights[i])
            if value.dtype != y_pred[i].dtype and y_pred[i].dtype.is_floating:
                value = math_ops.cast(value, y_pred[i].dtype)
            if self.metrics:  # each output's loss is logged before its weight, as Keras does
                self.metrics[k].update_state(value, sample_weight=array_ops.shape(y_pred[i])[0])
            if weight is not None:
                value = math_ops.multiply(value, math_ops.cast(weight, value.dtype))
            total = value if total is None else math_ops.add(total, value)
        return total


def _as_tensor(value):
    from tensorweave.framework.convert import convert_to_tensor
    return convert_to_tensor(value)


class CompileMetrics:
    """The compiled metrics: a list of metrics (and of weighted metrics) per output."""

    def __init__(self, metrics, weighted_metrics, output_names: Optional[list] = None):
        for argument, value in (("metrics", metrics), ("weighted_metrics", weighted_metrics)):
            if value and not isinstance(value, (list, tuple, dict)):
                raise ValueError(f"Expected `{argument}` argument to be a list, tuple, or dict. "
                                 f"Received instead: {argument}={value} of type {type(value)}")
        self._user_metrics = metrics
        self._user_weighted_metrics = weighted_metrics
        self.output_names = output_names
        self.name = "compile_metrics"
        self.built = False
        self._flat: list = []  # (output index, metric, weighted, output name)

    def build(self, y_true, y_pred) -> None:
        outputs = self._outputs = _Outputs(y_pred, self.output_names)
        y_true, y_pred = outputs.flatten(y_true), outputs.flatten(y_pred)
        self._flat = []
        for weighted, spec in ((False, self._user_metrics), (True, self._user_weighted_metrics)):
            if not spec:
                continue
            argument = "weighted_metrics" if weighted else "metrics"
            if outputs.count == 1:
                per_output = [nest.flatten(spec)]
            else:
                per_output = _per_output(spec, outputs, argument)
            for i, entry in enumerate(per_output):
                if entry is None:
                    continue
                name = outputs.names[i] if outputs.count > 1 else None
                for identifier in (entry if isinstance(entry, (list, tuple)) else [entry]):
                    metric = get_metric(identifier, _as_tensor(y_true[i]), y_pred[i])
                    self._flat.append((i, metric, weighted, name))
        self.built = True

    @property
    def metrics(self) -> list:
        return [m for _, m, _, _ in self._flat]

    @property
    def variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if not self.built:
            self.build(y_true, y_pred)
        outputs = self._outputs
        y_true, y_pred = outputs.flatten(y_true), outputs.flatten(y_pred)
        weights = outputs.flatten_weights(sample_weight)
        for i, metric, weighted, _ in self._flat:
            if weighted:
                metric.update_state(y_true[i], y_pred[i], sample_weight=weights[i])
            else:
                metric.update_state(y_true[i], y_pred[i])

    def reset_state(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def result(self) -> dict:
        """{log name: value}; names get the output name in front for several outputs, and a
        suffix (or `weighted_`) where two would clash, as Keras does."""
        results: dict = {}
        for _, metric, weighted, output in self._flat:
            name = metric.name if output is None else f"{output}_{metric.name}"
            if name in results:
                if weighted:
                    base = f"weighted_{metric.name}"
                    name = base if output is None else f"{output}_{base}"
                index = 1
                candidate = name
                while candidate in results:
                    candidate = f"{name}_{index}"
                    index += 1
                name = candidate
            results[name] = metric.result()
        return results
