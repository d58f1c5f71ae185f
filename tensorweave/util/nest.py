"""tf.nest essentials: flattening nested lists, tuples and dicts, and packing them back.

Dicts flatten in sorted key order, as in TensorFlow; anything else is a leaf.
"""
from __future__ import annotations

from typing import Any


def _is_namedtuple(value) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def is_nested(value) -> bool:
    return isinstance(value, (list, tuple, dict))


def _children(value):
    if isinstance(value, dict):
        return [value[k] for k in sorted(value)]
    return list(value)


def flatten(structure) -> list:
    """The leaves of `structure`, depth first."""
    if not is_nested(structure):
        return [structure]
    leaves = []
    for child in _children(structure):
        leaves.extend(flatten(child))
    return leaves


def _pack(structure, leaves, index: int):
    if not is_nested(structure):
        return leaves[index], index + 1
    packed = []
    for child in _children(structure):
        value, index = _pack(child, leaves, index)
        packed.append(value)
    if isinstance(structure, dict):
        return type(structure)(zip(sorted(structure), packed)), index
    if _is_namedtuple(structure):
        return type(structure)(*packed), index
    return type(structure)(packed), index


def pack_sequence_as(structure, flat_sequence) -> Any:
    """`flat_sequence` arranged in the shape of `structure`."""
    flat_sequence = list(flat_sequence)
    expected = len(flatten(structure))
    if expected != len(flat_sequence):
        raise ValueError(f"Could not pack sequence. Structure had {expected} atoms, but "
                         f"flat_sequence had {len(flat_sequence)} items.")
    value, _ = _pack(structure, flat_sequence, 0)
    return value


def map_structure(func, *structures) -> Any:
    """`func` applied leaf by leaf to structures of the same shape."""
    flats = [flatten(s) for s in structures]
    if any(len(f) != len(flats[0]) for f in flats):
        raise ValueError("The two structures don't have the same number of elements.")
    return pack_sequence_as(structures[0], [func(*leaves) for leaves in zip(*flats)])
