"""keras.metrics.get / serialize / deserialize: the built-in metrics by name (Keras 3's table:
class names, their snake_case names, and the short aliases "mse", "mae", "mape", "msle", "bce"),
looked up through the one shared serialization module."""
from __future__ import annotations

import importlib

from tensorweave.keras.engine.naming import to_snake_case
from tensorweave.keras.saving import serialization

# module -> the built-in metric classes it defines (parts A and B of keras.metrics)
_CLASSES = {
    "tensorweave.keras.metrics.metric": ("Metric",),
    "tensorweave.keras.metrics.reduction_metrics": ("Mean", "Sum", "MeanMetricWrapper"),
    "tensorweave.keras.metrics.regression_metrics": (
        "MeanSquaredError", "RootMeanSquaredError", "MeanAbsoluteError",
        "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "CosineSimilarity",
        "LogCoshError"),
    "tensorweave.keras.metrics.correlation_metrics": (
        "R2Score", "ConcordanceCorrelation", "PearsonCorrelation"),
    "tensorweave.keras.metrics.confusion_metrics": (
        "AUC", "FalseNegatives", "FalsePositives", "Precision", "PrecisionAtRecall", "Recall",
        "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
        "TrueNegatives", "TruePositives"),
    "tensorweave.keras.metrics.hinge_metrics": ("Hinge", "SquaredHinge", "CategoricalHinge"),
    "tensorweave.keras.metrics.probabilistic_metrics": (
        "KLDivergence", "Poisson", "BinaryCrossentropy", "CategoricalCrossentropy",
        "SparseCategoricalCrossentropy"),
    "tensorweave.keras.metrics.accuracy_metrics": (
        "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
        "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy"),
    "tensorweave.keras.metrics.f_score_metrics": ("F1Score", "FBetaScore"),
    "tensorweave.keras.metrics.iou_metrics": ("IoU", "BinaryIoU", "MeanIoU", "OneHotIoU",
                                              "OneHotMeanIoU"),
}
_ALIASES = {"bce": "BinaryCrossentropy", "BCE": "BinaryCrossentropy",
            "mse": "MeanSquaredError", "MSE": "MeanSquaredError",
            "mae": "MeanAbsoluteError", "MAE": "MeanAbsoluteError",
            "mape": "MeanAbsolutePercentageError", "MAPE": "MeanAbsolutePercentageError",
            "msle": "MeanSquaredLogarithmicError", "MSLE": "MeanSquaredLogarithmicError"}

# module -> the metric functions it defines (a serialized function names one of these)
_FUNCTIONS = {
    "tensorweave.keras.metrics.accuracy_metrics": (
        "accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
        "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"),
    "tensorweave.keras.metrics.regression_metrics": ("cosine_similarity",),
    "tensorweave.keras.metrics.correlation_metrics": ("pearson_correlation",
                                                      "concordance_correlation"),
    "tensorweave.keras.losses.losses": (
        "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
        "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence",
        "log_cosh", "mean_absolute_error", "mean_absolute_percentage_error",
        "mean_squared_error", "mean_squared_logarithmic_error", "poisson",
        "sparse_categorical_crossentropy", "squared_hinge"),
}

_cache: dict = {}


def _collect(table: dict) -> tuple:
    """{name: object} of every object `table` lists that exists now, and whether all did."""
    found, complete = {}, True
    for module_name, names in table.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            complete = False
            continue
        for name in names:
            obj = getattr(module, name, None)
            if obj is None:
                complete = False
            else:
                found[name] = obj
    return found, complete


def _lookup(kind: str) -> dict:
    """The name table of `kind` ("classes" or "functions"), imported at the first call (kept once
    every module it lists exists)."""
    if kind in _cache:
        return _cache[kind]
    if kind == "classes":
        classes, complete = _collect(_CLASSES)
        table = dict(classes)
        table.update({to_snake_case(name): cls for name, cls in classes.items()})
        table.update({alias: classes[name] for alias, name in _ALIASES.items() if name in classes})
    else:
        table, complete = _collect(_FUNCTIONS)
    if complete:
        _cache[kind] = table
    return table


def _is_function_config(config) -> bool:
    return isinstance(config, dict) and config.get("class_name") == "function"


def serialize(metric):
    """A metric (a `Metric` instance or a metric function) as Keras 3's JSON-ready dict."""
    return serialization.serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    """The metric instance or function that `config` describes."""
    kind = "functions" if _is_function_config(config) else "classes"
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=_lookup(kind),
                                                  printable_module_name="metric")


def get(identifier):
    """A metric from an identifier: None; a name of a built-in metric class (its class name,
    snake_case name or alias: "mae", "mean_absolute_error", "accuracy", "AUC"), which gives a
    new instance; a serialized dict; a metric instance, class or function."""
    if _is_function_config(identifier):
        return deserialize(identifier)
    return serialization.get_object(identifier, "metric", _lookup("classes"))
