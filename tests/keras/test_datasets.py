"""keras.datasets.digits (a tensorweave addition shipped inside the package): the loader against
an independent read of the shipped file with the csv module, the split, and a sanity check that the
images and labels belong together (a NumPy nearest-centroid classifier)."""
import csv
import fnmatch
import gzip
import importlib.resources
import io
import os
import tomllib

import numpy as np
import pytest

from tensorweave import keras
from tensorweave.keras.datasets import digits

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _raw_rows():
    """The shipped file read with gzip + csv: a list of 65 ints a row."""
    path = importlib.resources.files("tensorweave.keras.datasets").joinpath("data/digits.csv.gz")
    with gzip.open(io.BytesIO(path.read_bytes()), "rt") as f:
        return [[int(v) for v in row] for row in csv.reader(f)]


RAW = _raw_rows()


def test_namespace():
    assert keras.datasets.digits is digits
    public = {n for n in dir(keras.datasets) if not n.startswith("_")}
    assert public == {"digits"}


def test_file_is_the_uci_test_set():
    assert len(RAW) == 1797 and all(len(r) == 65 for r in RAW)
    table = np.array(RAW)
    assert table[:, :64].min() == 0 and table[:, :64].max() == 16
    counts = np.bincount(table[:, 64], minlength=10)
    assert len(counts) == 10 and counts.sum() == 1797
    assert counts.min() >= 170 and counts.max() <= 190  # about 180 of each digit


def test_file_is_package_data():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]
    patterns = package_data["tensorweave.keras.datasets"]
    for name in ("data/digits.csv.gz", "data/README.md"):
        assert any(fnmatch.fnmatch(name, p) for p in patterns)
        assert importlib.resources.files("tensorweave.keras.datasets").joinpath(name).is_file()


def test_shapes_dtypes_and_ranges():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1437, 8, 8) and y_train.shape == (1437,)  # int(1797 * 0.8)
    assert x_test.shape == (360, 8, 8) and y_test.shape == (360,)
    for a in (x_train, y_train, x_test, y_test):
        assert a.dtype == np.uint8 and a.flags.c_contiguous
    for x in (x_train, x_test):
        assert x.min() == 0 and x.max() == 16
    for y in (y_train, y_test):
        assert set(np.unique(y)) == set(range(10))
    counts = np.bincount(np.concatenate([y_train, y_test]), minlength=10)
    assert counts.tolist() == np.bincount(np.array(RAW)[:, 64]).tolist()
    # the shuffle spreads every digit over the test set (about 36 each)
    assert np.bincount(y_test, minlength=10).min() >= 20


def test_split_is_the_seeded_permutation_of_the_file():
    (x_train, y_train), (x_test, y_test) = digits.load_data(test_split=0.25, seed=7)
    order = np.random.default_rng(7).permutation(1797)
    table = np.array(RAW)[order]
    num_train = int(1797 * 0.75)
    np.testing.assert_array_equal(x_train.reshape(-1, 64), table[:num_train, :64])
    np.testing.assert_array_equal(y_train, table[:num_train, 64])
    np.testing.assert_array_equal(x_test.reshape(-1, 64), table[num_train:, :64])
    np.testing.assert_array_equal(y_test, table[num_train:, 64])
    # an image is stored row-major: pixel (r, c) is column 8 * r + c
    assert x_train[0, 2, 5] == table[0, 8 * 2 + 5]


def test_reproducible_and_no_overlap():
    first = digits.load_data(seed=3)
    second = digits.load_data(seed=3)
    for a, b in zip(first[0] + first[1], second[0] + second[1]):
        np.testing.assert_array_equal(a, b)
    other = digits.load_data(seed=4)
    assert not np.array_equal(first[0][1], other[0][1])
    (x_train, y_train), (x_test, y_test) = first
    # train and test together are the whole file, each row once (a multiset comparison): no row
    # is in both parts, none is lost
    rows = np.concatenate([np.c_[x_train.reshape(-1, 64), y_train],
                           np.c_[x_test.reshape(-1, 64), y_test]])
    assert sorted(map(tuple, rows.tolist())) == sorted(map(tuple, RAW))


def test_test_split_bounds():
    (x_train, _), (x_test, y_test) = digits.load_data(test_split=0)
    assert x_train.shape == (1797, 8, 8) and x_test.shape == (0, 8, 8) and y_test.shape == (0,)
    (x_train, _), (x_test, _) = digits.load_data(test_split=0.5)
    assert len(x_train) == 898 and len(x_test) == 899
    for bad in (1, 1.5, -0.1, "0.2", None):
        with pytest.raises(ValueError, match="test_split"):
            digits.load_data(test_split=bad)


def test_images_match_labels():
    """A nearest-centroid classifier (NumPy) reaches about 90 % on the test split: labels and
    pixels are aligned and the images are not scrambled."""
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float64)
    x_test = x_test.reshape(len(x_test), -1).astype(np.float64)
    centroids = np.stack([x_train[y_train == k].mean(axis=0) for k in range(10)])
    distances = ((x_test[:, None, :] - centroids[None]) ** 2).sum(-1)
    accuracy = (distances.argmin(axis=1) == y_test).mean()
    assert accuracy > 0.85
