"""keras.datasets.digits: the UCI handwritten digits, shipped inside tensorweave (works offline).

A tensorweave addition: Keras has no digits dataset. The file `data/digits.csv.gz` holds the 1797
8x8 images of the UCI "Optical Recognition of Handwritten Digits" test set (Alpaydin & Kaynak,
CC BY 4.0) as distributed with scikit-learn: one image a row, 64 pixel counts in 0..16 (row-major)
followed by the label 0..9. See data/README.md for the source and licence.
"""
from __future__ import annotations

import gzip
import importlib.resources

import numpy as np

_FILE = ("data", "digits.csv.gz")
_NUM_PIXELS = 64


def _read_rows() -> np.ndarray:
    """The (1797, 65) uint8 table of the shipped file: 64 pixels, then the label."""
    resource = importlib.resources.files(__package__).joinpath(*_FILE)
    with resource.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64, ndmin=2)
    if table.shape[1] != _NUM_PIXELS + 1:
        raise ValueError(f"digits.csv.gz: expected {_NUM_PIXELS + 1} columns a row, "
                         f"found {table.shape[1]}")
    return table.astype(np.uint8)


def load_data(test_split=0.2, seed=113):
    """Loads the handwritten digits dataset (a tensorweave addition; Keras has none).

    1797 grayscale 8x8 images of the digits 0-9 (about 180 of each), pixel values 0..16. The
    rows are shuffled with `np.random.default_rng(seed)` and the last `test_split` of them are the
    test set, so the same seed gives the same split.

    Args:
        test_split: fraction of the data to reserve as test set, in [0, 1).
        seed: Random seed for shuffling the data before computing the test split.

    Returns:
        Tuple of NumPy arrays: `(x_train, y_train), (x_test, y_test)`.

    **x_train, x_test**: uint8 arrays of shape `(num_samples, 8, 8)`, values 0..16.

    **y_train, y_test**: uint8 arrays of shape `(num_samples,)`, labels 0..9.
    """
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float, np.number)) \
            or not 0 <= test_split < 1:
        raise ValueError("Argument `test_split` must be a number in [0, 1). "
                         f"Received: test_split={test_split}")
    table = _read_rows()
    order = np.random.default_rng(seed).permutation(len(table))
    table = table[order]
    x = table[:, :_NUM_PIXELS].reshape(-1, 8, 8)
    y = table[:, _NUM_PIXELS]
    num_train = int(len(table) * (1 - test_split))
    train = (x[:num_train].copy(), y[:num_train].copy())
    return train, (x[num_train:].copy(), y[num_train:].copy())
