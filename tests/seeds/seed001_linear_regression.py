"""Seed 001's linear regression trained with GradientTape ("线性回归"), the first `make demo`.

Synthetic data y = X·[2, -3.4] + 4.2 + noise, 1000 examples, minibatch SGD with batch 10 for three
epochs, exactly as the notes write it with TensorFlow; prints the loss per epoch and the learned
parameters. The training step runs eagerly, then again compiled with `tf.function` (seed 002,
"TensorFlow函数和图"), then a third time reading a `tf.data` pipeline with the whole epoch in one
`tf.function` (seed 002, "tensorflow预处理与加载"); the three times are printed.
"""
from __future__ import annotations

import random
import time

import tensorweave as tf

NUM_INPUTS = 2
NUM_EXAMPLES = 1000
TRUE_W = [2, -3.4]
TRUE_B = 4.2
BATCH_SIZE = 10
LEARNING_RATE = 0.03
NUM_EPOCHS = 3


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)
    for i in range(0, num_examples, batch_size):
        j = indices[i:min(i + batch_size, num_examples)]
        yield tf.gather(features, axis=0, indices=j), tf.gather(labels, axis=0, indices=j)


def linreg(X, w, b):
    return tf.matmul(X, w) + b


def squared_loss(y_hat, y):
    return (y_hat - tf.reshape(y, y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size, grads):
    for param, grad in zip(params, grads):
        param.assign_sub(lr * grad / batch_size)


def train(features, labels, mode: str):
    """Trains w and b from scratch: "eager" steps, "compiled" steps (tf.function), or "dataset":
    epochs compiled whole, over a tf.data pipeline."""
    random.seed(0)
    w = tf.Variable(tf.random.stateless_normal((NUM_INPUTS, 1), seed=[1, 2], stddev=0.01))
    b = tf.Variable(tf.zeros((1,)))

    def train_step(X, y):
        with tf.GradientTape() as t:
            t.watch([w, b])
            loss = tf.reduce_sum(squared_loss(linreg(X, w, b), y))
        grads = t.gradient(loss, [w, b])
        sgd([w, b], LEARNING_RATE, BATCH_SIZE, grads)

    @tf.function
    def train_one_epoch(dataset):
        for X, y in dataset:
            train_step(X, y)

    dataset = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(
        NUM_EXAMPLES, seed=0).batch(BATCH_SIZE, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    step = tf.function(train_step) if mode == "compiled" else train_step
    start = time.perf_counter()
    for epoch in range(NUM_EPOCHS):
        if mode == "dataset":
            train_one_epoch(dataset)
        else:
            for X, y in data_iter(BATCH_SIZE, features, labels):
                step(X, y)
        train_loss = squared_loss(linreg(features, w, b), labels)
        print("epoch %d, loss %f" % (epoch + 1, tf.reduce_mean(train_loss)))
    elapsed = time.perf_counter() - start
    print(TRUE_W, w)
    print(TRUE_B, b)
    how = {"eager": "eagerly", "compiled": "compiled with tf.function",
           "dataset": "from a tf.data pipeline, each epoch one tf.function"}[mode]
    print(f"trained {NUM_EPOCHS} epochs of {NUM_EXAMPLES // BATCH_SIZE} steps {how} "
          f"in {elapsed:.2f} s")


def main() -> None:
    tf.random.set_seed(0)
    features = tf.random.normal((NUM_EXAMPLES, NUM_INPUTS), stddev=1)
    labels = TRUE_W[0] * features[:, 0] + TRUE_W[1] * features[:, 1] + TRUE_B
    labels += tf.random.normal(labels.shape, stddev=0.01)
    for mode in ("eager", "compiled", "dataset"):
        train(features, labels, mode)


if __name__ == "__main__":
    main()
