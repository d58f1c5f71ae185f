"""Training speed of `model.fit`: tensorweave against TensorFlow (Keras 3) and PyTorch.

    python bench/fit.py [--epochs-a E] [--epochs-b E]

(a) an 8-30-1 MLP (relu), batch 32, Nadam, MSE, on synthetic California-housing-like data
    (20,640 x 8 float32, standardized): `model.fit(x, y, batch_size=32, epochs=E, verbose=0)`;
(b) a 784-512-10 MLP (relu, Dropout(0.5), softmax), batch 128, RMSprop,
    sparse_categorical_crossentropy with an accuracy metric, on synthetic MNIST-like data
    (60,000 x 784 float32 in [0, 1), labels 0..9).
PyTorch runs the same models in the usual hand-written loop: a fresh permutation every epoch,
batches sliced from the tensors, zero_grad / backward / step, the loss (and for (b) the accuracy)
averaged over the epoch as Keras reports them; optimizers with Keras's defaults (NAdam lr=1e-3,
eps=1e-7; RMSprop lr=1e-3, alpha=0.9 = Keras's rho, eps=1e-7); Glorot-uniform weights and zero
biases as Keras's Dense; for (b) logits with cross_entropy, the fused form of softmax + sparse
categorical cross-entropy.

Every framework runs in its own subprocess: tensorweave from this checkout with this interpreter,
TensorFlow with TENSORFLOW_PYTHON (default /tmp/tfref/bin/python), PyTorch with TORCH_PYTHON
(default /tmp/torchref/bin/python). Each trains one warm-up epoch (tracing, compilation, caches),
then E timed epochs; the table gives training samples per second over the timed epochs and the
loss / accuracy of the last epoch (a check that all three really train). A framework that fails
gets "-" and its error is printed under the table.

Run it on an otherwise idle machine: with the cores shared, PyTorch's OpenMP threads (which spin
while waiting) slow down many times over, and every number moves.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np

from runner import print_rows, run_child, use_source_tree

HOUSING_ROWS, HOUSING_FEATURES = 20_640, 8
MNIST_ROWS, MNIST_FEATURES, MNIST_CLASSES = 60_000, 784, 10
DEFAULT_EPOCHS = {"a": 5, "b": 3}
ROWS = {  # key -> (label, format)
    "a_rate": ("(a) 8-30-1 MLP, Nadam, MSE, batch 32: samples/s", "{:.0f}"),
    "a_loss": ("(a) loss of the last epoch", "{:.4f}"),
    "b_rate": ("(b) 784-512-10 MLP, Dropout, RMSprop, batch 128: samples/s", "{:.0f}"),
    "b_loss": ("(b) loss of the last epoch", "{:.4f}"),
    "b_accuracy": ("(b) accuracy of the last epoch", "{:.4f}"),
}


# -- data (the same arrays in every process) -------------------------------------------------------
def housing_data():
    """California-housing-like regression data: 8 standardized features and a target around 2
    (standard deviation about 1) that depends on them non-linearly, plus noise."""
    rng = np.random.default_rng(42)
    x = rng.normal(size=(HOUSING_ROWS, HOUSING_FEATURES))
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    signal = 2.0 + 0.8 * x[:, 0] - 0.3 * x[:, 2] ** 2 + 0.4 * np.tanh(x[:, 5] * x[:, 6])
    y = signal + 0.3 * rng.normal(size=HOUSING_ROWS)
    return x.astype(np.float32), y.reshape(-1, 1).astype(np.float32)


def mnist_data():
    """MNIST-like classification data: 60,000 rows of 784 pixels in [0, 1) and labels 0..9 that a
    model can learn but not perfectly (each class brightens its own band of pixels a little)."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, MNIST_CLASSES, size=MNIST_ROWS)
    x = rng.random((MNIST_ROWS, MNIST_FEATURES), dtype=np.float32) * 0.9
    band = MNIST_FEATURES // MNIST_CLASSES
    for k in range(MNIST_CLASSES):
        rows = y == k
        x[rows, k * band:(k + 1) * band] += 0.09
    return x, y.astype(np.uint8)


# -- Keras (tensorweave and TensorFlow run the same code) ------------------------------------------
def _keras_case(keras, make_model, compile_kwargs, x, y, batch_size, epochs) -> tuple:
    model = make_model()
    model.compile(**compile_kwargs)
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0)  # warm-up
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0)
    elapsed = time.perf_counter() - start
    return len(x) * epochs / elapsed, {k: float(v[-1]) for k, v in history.history.items()}


def bench_keras(keras, epochs: dict) -> dict:
    keras.utils.set_random_seed(0)
    layers = keras.layers
    x, y = housing_data()
    rate, last = _keras_case(
        keras,
        lambda: keras.Sequential([keras.Input((HOUSING_FEATURES,)),
                                  layers.Dense(30, activation="relu"), layers.Dense(1)]),
        {"optimizer": keras.optimizers.Nadam(), "loss": "mse"}, x, y, 32, epochs["a"])
    out = {"a_rate": rate, "a_loss": last["loss"]}
    x, y = mnist_data()
    rate, last = _keras_case(
        keras,
        lambda: keras.Sequential([keras.Input((MNIST_FEATURES,)),
                                  layers.Dense(512, activation="relu"), layers.Dropout(0.5),
                                  layers.Dense(MNIST_CLASSES, activation="softmax")]),
        {"optimizer": keras.optimizers.RMSprop(), "loss": "sparse_categorical_crossentropy",
         "metrics": ["accuracy"]}, x, y, 128, epochs["b"])
    out.update(b_rate=rate, b_loss=last["loss"], b_accuracy=last["accuracy"])
    return out


def bench_tensorweave(epochs: dict) -> dict:
    use_source_tree()
    from tensorweave import keras
    return bench_keras(keras, epochs)


def bench_tensorflow(epochs: dict) -> dict:
    import keras
    return bench_keras(keras, epochs)


# -- PyTorch ---------------------------------------------------------------------------------------
def bench_torch(epochs: dict) -> dict:
    import torch
    from torch import nn
    torch.manual_seed(0)

    def keras_like(model):
        for module in model.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
        return model

    def train(model, optimizer, loss_fn, x, y, batch_size, n_epochs, accuracy):
        """n_epochs of shuffled mini-batch training; the last epoch's mean loss (and accuracy)."""
        model.train()
        n = len(x)
        for _ in range(n_epochs):
            order = torch.randperm(n)
            total_loss, correct = 0.0, 0
            for start in range(0, n, batch_size):
                index = order[start:start + batch_size]
                xb, yb = x[index], y[index]
                optimizer.zero_grad()
                out = model(xb)
                loss = loss_fn(out, yb)
                loss.backward()
                optimizer.step()
                total_loss += loss.item() * len(index)
                if accuracy:
                    correct += (out.argmax(dim=1) == yb).sum().item()
        return total_loss / n, correct / n

    def timed(make_model, make_optimizer, loss_fn, x, y, batch_size, n_epochs, accuracy):
        model = keras_like(make_model())
        optimizer = make_optimizer(model.parameters())
        train(model, optimizer, loss_fn, x, y, batch_size, 1, accuracy)  # warm-up
        start = time.perf_counter()
        last = train(model, optimizer, loss_fn, x, y, batch_size, n_epochs, accuracy)
        return len(x) * n_epochs / (time.perf_counter() - start), last

    x, y = housing_data()
    rate, (loss, _) = timed(
        lambda: nn.Sequential(nn.Linear(HOUSING_FEATURES, 30), nn.ReLU(), nn.Linear(30, 1)),
        lambda p: torch.optim.NAdam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-7),
        nn.MSELoss(), torch.from_numpy(x), torch.from_numpy(y), 32, epochs["a"], False)
    out = {"a_rate": rate, "a_loss": loss}
    x, y = mnist_data()
    rate, (loss, accuracy) = timed(
        lambda: nn.Sequential(nn.Linear(MNIST_FEATURES, 512), nn.ReLU(), nn.Dropout(0.5),
                              nn.Linear(512, MNIST_CLASSES)),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7),
        nn.CrossEntropyLoss(), torch.from_numpy(x), torch.from_numpy(y.astype(np.int64)), 128,
        epochs["b"], True)
    out.update(b_rate=rate, b_loss=loss, b_accuracy=accuracy)
    return out


BENCHES = {"tensorweave": bench_tensorweave, "tensorflow": bench_tensorflow, "torch": bench_torch}


# -- driver ----------------------------------------------------------------------------------------
def _run(name: str, epochs: dict):
    """(results, None) or (None, error text): the bench of `name` in its own process."""
    return run_child(name, __file__, ["--epochs-a", str(epochs["a"]),
                                      "--epochs-b", str(epochs["b"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs-a", type=int, default=DEFAULT_EPOCHS["a"])
    parser.add_argument("--epochs-b", type=int, default=DEFAULT_EPOCHS["b"])
    parser.add_argument("--child", choices=sorted(BENCHES), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=sorted(BENCHES), action="append",
                        help="run only this framework (may be repeated)")
    args = parser.parse_args()
    epochs = {"a": args.epochs_a, "b": args.epochs_b}
    if args.child:
        print(json.dumps(BENCHES[args.child](epochs)))
        return
    names = args.only or list(BENCHES)
    results, errors = {}, {}
    for name in names:
        results[name], errors[name] = _run(name, epochs)
    print_rows(f"epochs (a) {epochs['a']}, (b) {epochs['b']}, after 1 warm-up", results, errors,
               ROWS)


if __name__ == "__main__":
    main()
