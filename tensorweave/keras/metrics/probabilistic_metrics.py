"""Probabilistic metrics (Keras 3): streaming means of cross-entropies, KL divergence and the
Poisson loss, computed by the loss functions of keras.losses."""
from __future__ import annotations

from tensorweave.keras.metrics.reduction_metrics import MeanMetricWrapper
from tensorweave.keras.metrics.regression_metrics import _losses, _NameDtypeConfig


class KLDivergence(_NameDtypeConfig, MeanMetricWrapper):
    """The mean Kullback-Leibler divergence of predictions from labels."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(fn=_losses().kl_divergence, name=name, dtype=dtype)


class Poisson(_NameDtypeConfig, MeanMetricWrapper):
    """The mean Poisson loss, y_pred - y_true * log(y_pred)."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(fn=_losses().poisson, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary cross-entropy of labels and predictions (probabilities or logits)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(_losses().binary_crossentropy, name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean cross-entropy of one-hot labels and predicted class scores along `axis`."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(_losses().categorical_crossentropy, name, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean cross-entropy of integer labels and predicted class scores along `axis`; labels
    equal to `ignore_class` are left out."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(_losses().sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self.axis = axis
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}
