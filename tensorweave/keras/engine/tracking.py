"""Automatic tracking: layers and variables held by a layer's attributes, directly or inside
lists, tuples and dicts, become its sub-layers and weights (even when added to a list later)."""
from __future__ import annotations

import weakref


class _WeightsOfValues:
    """`trainable_variables` & co. of a tracked list or dict: the weights of the layers and the
    variables it holds, as TensorFlow 2's tracked data structures offer them (seed code asks
    `model.deep_layers.trainable_variables` of a list of layers)."""

    def _held(self):
        return self.values() if isinstance(self, dict) else self

    def _collect(self, attribute: str, keep) -> list:
        out = []
        for value in self._held():
            if hasattr(value, attribute):
                out.extend(getattr(value, attribute))
            elif hasattr(value, "trainable") and hasattr(value, "assign") and keep(value):
                out.append(value)
        return out

    @property
    def trainable_weights(self) -> list:
        return self._collect("trainable_weights", lambda v: v.trainable)

    @property
    def non_trainable_weights(self) -> list:
        return self._collect("non_trainable_weights", lambda v: not v.trainable)

    @property
    def weights(self) -> list:
        return self.trainable_weights + self.non_trainable_weights

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights
    variables = weights


class TrackedList(_WeightsOfValues, list):
    """A list attribute of a layer: what is put into it later is tracked too."""

    def __init__(self, values=(), owner=None):
        super().__init__(values)
        self._owner = weakref.ref(owner) if owner is not None else (lambda: None)

    def _track(self, value):
        owner = self._owner()
        return value if owner is None else owner._track_value(value)

    def append(self, value):
        super().append(self._track(value))

    def extend(self, values):
        super().extend([self._track(v) for v in values])

    def insert(self, index, value):
        super().insert(index, self._track(value))

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            value = [self._track(v) for v in value]
        else:
            value = self._track(value)
        super().__setitem__(key, value)

    def __iadd__(self, values):
        self.extend(values)
        return self

    def __reduce_ex__(self, protocol):
        return list, (list(self),)


class TrackedDict(_WeightsOfValues, dict):
    """A dict attribute of a layer: values set later are tracked too."""

    def __init__(self, values=(), owner=None):
        super().__init__(values)
        self._owner = weakref.ref(owner) if owner is not None else (lambda: None)

    def __setitem__(self, key, value):
        owner = self._owner()
        super().__setitem__(key, value if owner is None else owner._track_value(value))

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def __reduce_ex__(self, protocol):
        return dict, (dict(self),)
