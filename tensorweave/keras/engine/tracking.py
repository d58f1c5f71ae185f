"""Automatic tracking: layers and variables held by a layer's attributes, directly or inside
lists, tuples and dicts, become its sub-layers and weights (even when added to a list later)."""
from __future__ import annotations

import weakref


class TrackedList(list):
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


class TrackedDict(dict):
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
