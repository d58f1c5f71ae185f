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


# -- behaviours checked against TensorFlow 2.21 --

def test_slices_of_an_unknown_shape():
    unknown = tf.TensorShape(None)
    assert unknown[1:3] == tf.TensorShape([None, None]) and unknown[1:3].rank == 2
    assert unknown[1:].rank is None and unknown[-2:].rank is None
    with pytest.raises(ValueError, match="Steps are not yet handled"):
        unknown[::2]


def test_negative_dimensions_are_refused():
    for dims in ((2, -1), [-1]):
        with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
            tf.TensorShape(dims)


def test_shape_relations():
    with pytest.raises(ValueError, match=r"Shapes \(1,\) and \[2\] are incompatible"):
        tf.TensorShape([1]).assert_is_compatible_with([2])
    assert tf.TensorShape([1, 2]).is_subtype_of(tf.TensorShape([1, None]))
    assert not tf.TensorShape([1, None]).is_subtype_of(tf.TensorShape([1, 2]))
    assert tf.TensorShape([1, 2]).is_subtype_of(tf.TensorShape(None))
    common = tf.TensorShape([1, 2]).most_specific_common_supertype([tf.TensorShape([1, 3])])
    assert common.as_list() == [1, None]


def test_broadcast_static_shape():
    assert tf.broadcast_static_shape(tf.TensorShape([1, 3]), tf.TensorShape([2, 1])).as_list() == [2, 3]
    assert tf.broadcast_static_shape(tf.TensorShape([None, 3]), tf.TensorShape([2, 1])).as_list() == [2, 3]
    assert tf.broadcast_static_shape(tf.TensorShape([None]), tf.TensorShape([1])).as_list() == [None]
    assert tf.broadcast_static_shape(tf.TensorShape(None), tf.TensorShape([3])).rank is None
    with pytest.raises(ValueError, match=r"Incompatible shapes for broadcasting. .* Received: \(2,\) and \(3,\)"):
        tf.broadcast_static_shape(tf.TensorShape([2]), tf.TensorShape([3]))
