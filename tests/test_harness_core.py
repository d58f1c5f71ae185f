"""The harnesses on the core ops, so that a broken harness shows up here first."""
import numpy as np

import tensorweave as tf
from harness import check_abstract, check_grad

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
ROW = np.array([0.5, -2.0, 1.1])


def test_binary_arithmetic_gradients_broadcast():
    for fn in (tf.add, tf.subtract, tf.multiply, tf.divide):
        check_grad(fn, X, ROW + 3.0)
        check_grad(fn, X, ROW + 3.0, order=2)
        check_abstract(fn, tf.constant(X), tf.constant(ROW))


def test_exp_reduce_reshape_stack():
    check_grad(tf.exp, X, order=2)
    check_grad(lambda x: tf.reduce_sum(x, axis=1), X)
    check_grad(lambda x: tf.reshape(x, [3, -1]), X)
    check_grad(lambda x, y: tf.stack([x, y], axis=1), ROW, ROW * 2)
    check_abstract(lambda x: tf.reshape(tf.reduce_sum(x, axis=0, keepdims=True), [-1]), tf.constant(X))


def test_harness_catches_a_wrong_gradient():
    from tensorweave.framework.op_registry import Primitive, execute
    wrong = Primitive("WrongSquare", np.square, lambda op, dy: tf.multiply(dy, op.inputs[0]))
    try:
        check_grad(lambda x: execute(wrong, (x,)), X)
    except AssertionError:
        return
    raise AssertionError("the harness accepted a wrong gradient")
