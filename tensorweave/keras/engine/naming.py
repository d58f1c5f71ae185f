"""Automatic names of layers and models: `dense`, `dense_1`… per prefix, reset by clear_session."""
from __future__ import annotations

import re
import threading

_lock = threading.Lock()
_uids: dict = {}


def to_snake_case(name: str) -> str:
    """`BatchNormalization` -> `batch_normalization` (Keras's rule for default names)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """`prefix` the first time, then `prefix_1`, `prefix_2`…"""
    with _lock:
        count = _uids.get(prefix, 0)
        _uids[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_uids() -> None:
    with _lock:
        _uids.clear()
