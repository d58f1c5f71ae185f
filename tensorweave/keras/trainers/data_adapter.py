"""What fit, evaluate and predict accept as data, turned into batches of (x, y, sample_weight).

Arrays (NumPy, tensors, and lists/tuples/dicts of them) are sliced into batches here, shuffled
each epoch with NumPy's global generator (so `keras.utils.set_random_seed` fixes the order);
a `tf.data.Dataset` yields its own batches; a Python generator or iterator yields batches until
it is exhausted.
"""
from __future__ import annotations

import math
from typing import Optional

import numpy as np

from tensorweave.data.dataset import INFINITE, UNKNOWN, Dataset
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable
from tensorweave.keras.engine import backend_config
from tensorweave.util import nest


def unpack_x_y_sample_weight(data):
    """(x, y, sample_weight) from a batch: a tuple of 1 to 3 items, or x alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(value) -> bool:
    return isinstance(value, (np.ndarray, Tensor, Variable))


def _holds_arrays(value) -> bool:
    """A list/tuple/dict whose leaves are arrays (several inputs), not a nested list of numbers."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and bool(value) and all(
        _is_array(v) or _holds_arrays(v) for v in value)


def _as_array(value):
    """A NumPy array; floating arrays take floatx (float64 NumPy data trains in float32), as
    Keras's array slicing does."""
    array = value.numpy() if isinstance(value, (Tensor, Variable)) else np.asarray(value)
    floatx = backend_config.floatx()
    if array.dtype.kind == "f" and array.dtype != np.dtype(floatx):
        array = array.astype(floatx)
    return array


def _array_structure(value):
    """`value` with every leaf a NumPy array."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: _array_structure(v) for k, v in value.items()}
    if _holds_arrays(value):
        return type(value)(_array_structure(v) for v in value)
    return _as_array(value)


def _leaves(structure) -> list:
    return [leaf for leaf in nest.flatten(structure) if leaf is not None]


def check_cardinality(x, y, sample_weight) -> int:
    """The number of samples all arrays share; Keras's error when they differ."""
    sizes = {}
    for label, part in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        leaves = _leaves(part)
        if leaves:
            sizes[label] = [int(leaf.shape[0]) if leaf.ndim else 1 for leaf in leaves]
    counts = {n for found in sizes.values() for n in found}
    if len(counts) > 1:
        text = "\n".join(f"'{label}' sizes: {', '.join(str(n) for n in found)}"
                         for label, found in sizes.items())
        raise ValueError("Data cardinality is ambiguous. Make sure all arrays contain the same "
                         f"number of samples.{text}")
    if not counts:
        raise ValueError("Expected at least one array of data; received none.")
    return counts.pop()


def class_weights_to_sample_weights(y, class_weight: dict) -> np.ndarray:
    """The weight of each sample's class: y holds class indices, or one-hot rows."""
    leaves = _leaves(y)
    if len(leaves) != 1:
        raise ValueError("`class_weight` is only supported for Models with a single output.")
    labels = leaves[0]
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = np.argmax(labels, axis=-1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0] if labels.ndim > 1 else labels
    labels = np.rint(labels).astype(np.int64)
    highest = max(int(labels.max(initial=0)), max(class_weight))
    table = np.ones(highest + 1, dtype=np.float32)
    for cls, weight in class_weight.items():
        table[int(cls)] = weight
    return table[labels]


def train_validation_split(arrays, validation_split: float):
    """(train, validation): the last `validation_split` fraction of every array is held out."""
    leaves = _leaves(arrays)
    n = int(leaves[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"Training data contains {n} samples, which is not sufficient to split it "
                         f"into a validation and training set as specified by `validation_split="
                         f"{validation_split}`. Either provide more data, or a different value for "
                         "the `validation_split` argument.")
    train = nest.map_structure(lambda a: None if a is None else a[:split_at], arrays)
    val = nest.map_structure(lambda a: None if a is None else a[split_at:], arrays)
    return train, val


class ArrayAdapter:
    """Batches sliced from in-memory arrays."""

    def __init__(self, x, y=None, sample_weight=None, batch_size: Optional[int] = None,
                 shuffle=False, class_weight: Optional[dict] = None, arrays_ready: bool = False):
        if not arrays_ready:
            x, y, sample_weight = (_array_structure(x), _array_structure(y),
                                   _array_structure(sample_weight))
        self.num_samples = check_cardinality(x, y, sample_weight)
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same "
                                 "time.")
            sample_weight = class_weights_to_sample_weights(y, class_weight)
        self.data = pack_x_y_sample_weight(x, y, sample_weight)
        self.batch_size = batch_size or 32
        self.shuffle = shuffle
        self.num_batches = max(1, math.ceil(self.num_samples / self.batch_size))

    def first_batch(self):
        return next(self._batches(shuffle=False))

    def __iter__(self):
        return self._batches(self.shuffle)

    def _batches(self, shuffle):
        n, size = self.num_samples, self.batch_size
        order = None
        if shuffle == "batch":
            starts = np.random.permutation(self.num_batches) * size
        else:
            starts = np.arange(self.num_batches) * size
            if shuffle:
                order = np.random.permutation(n)
        data = self.data
        flat = nest.flatten(data)
        for start in starts:
            stop = min(start + size, n)
            if order is None:
                parts = [None if a is None else convert_to_tensor(a[start:stop]) for a in flat]
            else:
                picked = order[start:stop]
                parts = [None if a is None else convert_to_tensor(a[picked]) for a in flat]
            yield nest.pack_sequence_as(data, parts)


class DatasetAdapter:
    """The batches of a tf.data.Dataset, one pass per epoch."""

    def __init__(self, dataset: Dataset, class_weight: Optional[dict] = None):
        self.dataset = dataset
        self.class_weight = class_weight
        cardinality = int(dataset.cardinality())
        self.num_batches = None if cardinality in (INFINITE, UNKNOWN) else cardinality
        self.batch_size = None

    def first_batch(self):
        return next(iter(self), None)

    def __iter__(self):
        for element in self.dataset:
            if self.class_weight is not None:
                x, y, sample_weight = unpack_x_y_sample_weight(element)
                weights = class_weights_to_sample_weights(_array_structure(y), self.class_weight)
                element = (x, y, convert_to_tensor(weights))
            yield element


class GeneratorAdapter:
    """Batches from a Python generator or iterator (one pass in all)."""

    def __init__(self, generator, class_weight: Optional[dict] = None):
        self.generator = generator
        self.class_weight = class_weight
        self.num_batches = len(generator) if hasattr(generator, "__len__") else None
        self.batch_size = None
        self._peeked: list = []  # a batch read ahead for building, handed out first

    def first_batch(self):
        if hasattr(self.generator, "__getitem__"):  # a sequence: batch 0 can be read again
            return next(self._batches(), None)
        if not self._peeked:
            batch = next(self._batches(), None)
            if batch is None:
                return None
            self._peeked.append(batch)
        return self._peeked[0]

    def __iter__(self):
        while self._peeked:
            yield self._peeked.pop(0)
        yield from self._batches()

    def _batches(self):
        source = self.generator if not hasattr(self.generator, "__getitem__") else \
            (self.generator[i] for i in range(len(self.generator)))
        for element in source:
            element = tuple(element) if isinstance(element, list) else element
            x, y, sample_weight = unpack_x_y_sample_weight(element)
            x, y, sample_weight = (_array_structure(x), _array_structure(y),
                                   _array_structure(sample_weight))
            if self.class_weight is not None:
                sample_weight = class_weights_to_sample_weights(y, self.class_weight)
            yield nest.map_structure(lambda a: None if a is None else convert_to_tensor(a),
                                     pack_x_y_sample_weight(x, y, sample_weight))


def get_data_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False,
                     class_weight=None):
    """The adapter for what the user passed as `x` (and `y`, `sample_weight`)."""
    if isinstance(x, Dataset):
        _refuse_extra("a tf.data.Dataset", y, sample_weight)
        return DatasetAdapter(x, class_weight)
    if hasattr(x, "__next__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                  and not isinstance(x, (list, tuple, dict, np.ndarray,
                                                         Tensor, Variable, str))):
        _refuse_extra("a generator", y, sample_weight)
        return GeneratorAdapter(x, class_weight)
    if x is None:
        raise ValueError("Unrecognized data type: x=None (of type NoneType)")
    return ArrayAdapter(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle,
                        class_weight=class_weight)


def _refuse_extra(kind: str, y, sample_weight) -> None:
    if y is not None:
        raise ValueError(f"When providing `x` as {kind}, `y` should not be passed. Instead, the "
                         f"targets should be included as part of the {kind}.")
    if sample_weight is not None:
        raise ValueError(f"When providing `x` as {kind}, `sample_weight` should not be passed. "
                         f"Instead, the sample weights should be included as part of the {kind}.")
