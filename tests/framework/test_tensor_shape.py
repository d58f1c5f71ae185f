import pytest

import tensorweave as tf


def test_known_and_partial_shapes():
    s = tf.TensorShape([2, None, 3])
    assert s.rank == 2 + 1 and s.ndims == 3 and len(s) == 3
    assert s.as_list() == [2, None, 3]
    assert s[0] == 2 and s[1] is None and s[1:] == tf.TensorShape([None, 3])
    assert not s.is_fully_defined() and s.num_elements() is None
    assert tf.TensorShape([2, 3]).num_elements() == 6
    assert repr(s) == "TensorShape([2, None, 3])" and str(s) == "(2, None, 3)"
    assert str(tf.TensorShape([4])) == "(4,)"


def test_unknown_rank():
    s = tf.TensorShape(None)
    assert s.rank is None
    with pytest.raises(ValueError):
        s.as_list()
    with pytest.raises(ValueError):
        len(s)
    assert s.is_compatible_with([1, 2, 3])


def test_compatibility_and_merging():
    a = tf.TensorShape([None, 3])
    assert a.is_compatible_with([5, 3]) and not a.is_compatible_with([5, 4])
    assert not a.is_compatible_with([5, 3, 1])
    assert a.merge_with([7, None]).as_list() == [7, 3]
    with pytest.raises(ValueError):
        a.merge_with([7, 4])
    assert a.most_specific_compatible_shape([5, 3]).as_list() == [None, 3]
    assert a.concatenate([1]).as_list() == [None, 3, 1]
    assert tf.TensorShape([1, 2]) == (1, 2) and tf.TensorShape([1, 2]) == [1, 2]
    assert tf.TensorShape([1, 2]) != [1, 3]


def test_invalid_dimensions():
    with pytest.raises(ValueError):
        tf.TensorShape([-2])
    with pytest.raises(TypeError):
        tf.TensorShape([1.5])
