"""`make demo`: a Keras classifier of handwritten digits, trained offline on data shipped inside
tensorweave (the UCI optical digits, 1797 8x8 images, CC BY 4.0: see
tensorweave/keras/datasets/data/README.md).

A Dense + Dropout network, written exactly as for TensorFlow: `compile`, then `fit` with a
validation split, the progress bar and EarlyStopping (best weights restored), then `evaluate` on
the held-out test images and a few predictions. Prints the test accuracy.
"""
from __future__ import annotations

import time

import numpy as np

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers


def build_model() -> keras.Model:
    inputs = keras.Input(shape=(64,), name="pixels")
    x = layers.Dense(128, activation="relu")(inputs)
    x = layers.Dropout(0.25)(x)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name="digits_classifier")


def main() -> float:
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    print(f"tensorweave {tf.__version__}: UCI handwritten digits, {len(x_train)} training and "
          f"{len(x_test)} test images of 8x8 pixels")
    x_train = x_train.reshape(-1, 64).astype("float32") / 16.0
    x_test = x_test.reshape(-1, 64).astype("float32") / 16.0

    model = build_model()
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    early_stopping = keras.callbacks.EarlyStopping(monitor="val_loss", patience=8,
                                                   restore_best_weights=True, verbose=1)
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=32, epochs=100, validation_split=0.15,
                        callbacks=[early_stopping])
    seconds = time.perf_counter() - start
    print(f"trained {len(history.epoch)} epochs in {seconds:.1f} s")

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    predictions = model.predict(x_test[:10], verbose=0)
    print("first test labels:     ", " ".join(str(int(d)) for d in y_test[:10]))
    print("predicted (argmax):    ", " ".join(str(int(d)) for d in np.argmax(predictions, axis=1)))
    print(f"test loss {test_loss:.4f}, test accuracy {test_accuracy:.4f}")
    return test_accuracy


if __name__ == "__main__":
    main()
