"""The Callback base class: hooks that fit, evaluate and predict call, each doing nothing."""
from __future__ import annotations

from typing import Optional

# hook -> the older name it falls back to (Keras keeps on_batch_* as aliases of the train ones)
_ALIASES = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


class Callback:
    """Subclass it and override the hooks you need; `self.model` is the model being trained
    and `self.params` holds verbose, epochs and steps."""

    _keras_module = "keras.callbacks"

    def __init__(self):
        self.params: Optional[dict] = None
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Called at the start of a training batch (an alias of on_train_batch_begin)."""

    def on_batch_end(self, batch, logs=None):
        """Called at the end of a training batch (an alias of on_train_batch_end)."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch of fit."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch of fit; `logs` holds the epoch's metrics (val_ too)."""

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the start of a batch of evaluate (and of fit's validation)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch of evaluate (and of fit's validation)."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the start of a batch of predict."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch of predict; `logs["outputs"]` holds its predictions."""

    def on_train_begin(self, logs=None):
        """Called at the start of fit."""

    def on_train_end(self, logs=None):
        """Called at the end of fit."""

    def on_test_begin(self, logs=None):
        """Called at the start of evaluate (and of fit's validation)."""

    def on_test_end(self, logs=None):
        """Called at the end of evaluate (and of fit's validation)."""

    def on_predict_begin(self, logs=None):
        """Called at the start of predict."""

    def on_predict_end(self, logs=None):
        """Called at the end of predict."""


def overrides(callback: Callback, hook: str) -> bool:
    """Whether `callback` does something in `hook` (so a caller may skip the hook, and the work
    of preparing its logs, when no callback does)."""
    names = (hook, _ALIASES[hook]) if hook in _ALIASES else (hook,)
    cls = type(callback)
    return any(getattr(cls, name, None) is not getattr(Callback, name) for name in names) \
        or any(name in vars(callback) for name in names)
