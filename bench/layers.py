"""Training speed of `model.fit` with convolution, pooling and recurrent layers: tensorweave against
TensorFlow (Keras 3) and PyTorch.

    python bench/layers.py [--epochs-a E] [--epochs-b E] [--only NAME] [--no-profile]

(a) the MNIST-shaped convnet: Conv2D(32, 3, relu), MaxPooling2D(2), Conv2D(64, 3, relu),
    MaxPooling2D(2), Flatten, Dropout(0.5), Dense(10, softmax); batch 64, Adam,
    sparse_categorical_crossentropy with an accuracy metric, on 60,000 synthetic 28x28x1 float32
    images in [0, 1) (each class brightens its own 6x6 patch a little);
(b) the IMDB-shaped classifier: Embedding(10000, 32), LSTM(32), Dense(1, sigmoid); batch 128,
    RMSprop, binary_crossentropy with an accuracy metric, on 25,000 synthetic sequences of 100
    word indices (positive ones use a few more words from one small set, negative ones from another).
PyTorch runs the same models in the usual hand-written loop (as bench/fit.py: a fresh permutation
every epoch, batches sliced from the tensors, zero_grad / backward / step, the epoch's mean loss
and accuracy): nn.Conv2d / nn.MaxPool2d / nn.Linear on NCHW images, nn.Embedding + nn.LSTM
(batch_first=True, the last hidden state) + nn.Linear; logits with cross_entropy /
binary_cross_entropy_with_logits (the fused forms of softmax / sigmoid + cross-entropy); Keras's
optimizer defaults (Adam lr=1e-3, eps=1e-7; RMSprop lr=1e-3, alpha=0.9 = Keras's rho, eps=1e-7)
and Keras's initial weights (Glorot-uniform kernels, orthogonal recurrent kernel, zero biases but
the LSTM's forget gate at 1, Embedding uniform in +-0.05).

Every framework runs in its own subprocess: tensorweave from this checkout with this interpreter,
TensorFlow with TENSORFLOW_PYTHON (default /tmp/tfref/bin/python), PyTorch with TORCH_PYTHON
(default /tmp/torchref/bin/python). Each first trains a warm-up epoch on a prefix of the data
(tracing, compilation, caches; the prefix ends with a partial batch, as the full data does), then
E timed epochs on all of it; the table gives training samples per second over the timed epochs and
the loss / accuracy of the last one (a check that all three really train). A framework that fails
gets "-" and its error is printed under the table.

Under the table: where tensorweave's time goes. One more epoch of each model runs under cProfile with
numpy.matmul, dot, tensordot, einsum, inner and vdot wrapped in timers, and every `a @ b` of two
arrays in tensorweave's modules timed too (see BlasTimer; all installed before tensorweave is
imported, the outermost call of a nest counted once): the time inside those BLAS calls against the
whole epoch, and the functions with the largest own time. The profiler slows Python code down more
than BLAS calls, so the share of BLAS without it is somewhat larger than the one printed.

Run it on an otherwise idle machine: with the cores shared, PyTorch's OpenMP threads (which spin
while waiting) slow down many times over, and every number moves.
"""
from __future__ import annotations

import argparse
import ast
import importlib.abc
import importlib.machinery
import json
import operator
import os
import sys
import time

import numpy as np

from runner import print_rows, run_child, use_source_tree

MNIST_ROWS, IMAGE_SIDE, MNIST_CLASSES = 60_000, 28, 10
IMDB_ROWS, VOCABULARY, SEQUENCE_LENGTH = 25_000, 10_000, 100
BATCH = {"a": 64, "b": 128}
WARMUP_BATCHES = 40
DEFAULT_EPOCHS = {"a": 2, "b": 2}
BLAS_FUNCTIONS = ("matmul", "dot", "tensordot", "einsum", "inner", "vdot")
TOP_FUNCTIONS = 12
ROWS = {  # key -> (label, format)
    "a_rate": ("(a) MNIST convnet, Adam, batch 64: samples/s", "{:.0f}"),
    "a_loss": ("(a) loss of the last epoch", "{:.4f}"),
    "a_accuracy": ("(a) accuracy of the last epoch", "{:.4f}"),
    "b_rate": ("(b) IMDB Embedding-LSTM(32), RMSprop, batch 128: samples/s", "{:.0f}"),
    "b_loss": ("(b) loss of the last epoch", "{:.4f}"),
    "b_accuracy": ("(b) accuracy of the last epoch", "{:.4f}"),
}


# -- data (the same arrays in every process) -------------------------------------------------------
def mnist_images():
    """60,000 28x28x1 float32 images in [0, 1) and labels 0..9: class k adds 0.25 to its own 6x6
    patch (the ten patches sit on a grid), learnable by a convnet but not perfectly at first."""
    rng = np.random.default_rng(7)
    y = rng.integers(0, MNIST_CLASSES, size=MNIST_ROWS)
    x = rng.random((MNIST_ROWS, IMAGE_SIDE, IMAGE_SIDE, 1), dtype=np.float32) * 0.75
    for k in range(MNIST_CLASSES):
        top, left = 2 + 9 * (k // 4), 2 + 6 * (k % 4)
        x[y == k, top:top + 6, left:left + 6, 0] += 0.25
    return x, y.astype(np.uint8)


def imdb_sequences():
    """25,000 sequences of 100 word indices in [1, 10000) (frequent words more likely) and 0/1
    labels: a positive review replaces 8% of its words by words of 2..201, a negative one by words
    of 202..401."""
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, size=IMDB_ROWS)
    ranks = np.minimum(rng.zipf(1.3, size=(IMDB_ROWS, SEQUENCE_LENGTH)), VOCABULARY - 1)
    x = ranks.astype(np.int32)
    marked = rng.random(x.shape) < 0.08
    sentiment_words = 2 + rng.integers(0, 200, size=x.shape) + 200 * (1 - y)[:, None]
    x = np.where(marked, sentiment_words, x).astype(np.int32)
    return x, y.reshape(-1, 1).astype(np.float32)


def warmup_rows(rows: int, batch: int) -> int:
    """A prefix of WARMUP_BATCHES full batches plus the same partial batch the whole data ends with."""
    return min(rows, WARMUP_BATCHES * batch + rows % batch)


# -- Keras (tensorweave and TensorFlow run the same code) ------------------------------------------
def convnet(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((IMAGE_SIDE, IMAGE_SIDE, 1)),
        layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(MNIST_CLASSES, activation="softmax"),
    ])


def lstm_classifier(keras):
    layers = keras.layers
    return keras.Sequential([
        keras.Input((SEQUENCE_LENGTH,), dtype="int32"),
        layers.Embedding(VOCABULARY, 32),
        layers.LSTM(32),
        layers.Dense(1, activation="sigmoid"),
    ])


def keras_cases(keras):
    """key -> (make_model, compile kwargs, data, batch size)."""
    return {
        "a": (lambda: convnet(keras),
              lambda: {"optimizer": keras.optimizers.Adam(),
                       "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
              mnist_images, BATCH["a"]),
        "b": (lambda: lstm_classifier(keras),
              lambda: {"optimizer": keras.optimizers.RMSprop(), "loss": "binary_crossentropy",
                       "metrics": ["accuracy"]},
              imdb_sequences, BATCH["b"]),
    }


def bench_keras(keras, epochs: dict) -> dict:
    keras.utils.set_random_seed(0)
    out, errors = {}, {}
    for key, (make_model, compile_kwargs, data, batch) in keras_cases(keras).items():
        try:
            x, y = data()
            model = make_model()
            model.compile(**compile_kwargs())
            warm = warmup_rows(len(x), batch)
            model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
            start = time.perf_counter()
            history = model.fit(x, y, batch_size=batch, epochs=epochs[key], verbose=0)
            elapsed = time.perf_counter() - start
        except Exception as error:  # a missing layer fails one case, not the other
            errors[key] = _describe(error)
            continue
        out[f"{key}_rate"] = len(x) * epochs[key] / elapsed
        out.update({f"{key}_{name}": float(values[-1])
                    for name, values in history.history.items()})
    if errors:
        out["errors"] = errors
    return out


def _describe(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else ''}"


def bench_tensorweave(epochs: dict) -> dict:
    use_source_tree()
    from tensorweave import keras
    return bench_keras(keras, epochs)


def bench_tensorflow(epochs: dict) -> dict:
    import keras
    return bench_keras(keras, epochs)


# -- where tensorweave's time goes -----------------------------------------------------------------
class BlasTimer:
    """Times numpy's BLAS entry points: numpy.matmul, dot, tensordot, einsum, inner and vdot are
    replaced by timed wrappers, and `a @ b` in tensorweave's own modules (invisible to cProfile: an
    operator on two arrays is no function call) is compiled, on import, as a call of a timed
    wrapper that runs numpy.matmul for two arrays and the operator otherwise. Nested calls
    (tensordot calling dot) count once. Each wrapper shows in cProfile as `numpy.<name>`."""

    def __init__(self):
        self.seconds, self.calls, self._depth = 0.0, 0, 0

    def install(self) -> None:
        """Before tensorweave is imported: wraps numpy's functions and rewrites `@` in tensorweave."""
        import builtins
        timed_matmul = self._wrap(np.matmul, "numpy.matmul (the @ operator)")
        for name in BLAS_FUNCTIONS:
            setattr(np, name, self._wrap(getattr(np, name), f"numpy.{name}"))
        matmul_operator = operator.matmul

        def bench_matmul(a, b):
            if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
                return timed_matmul(a, b)
            return matmul_operator(a, b)

        builtins.__bench_matmul__ = bench_matmul
        sys.meta_path.insert(0, _MatmulRewritingFinder())

    def _wrap(self, function, label):
        timer = self

        def blas_call(*args, **kwargs):
            timer._depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timer._depth -= 1
                if timer._depth == 0:
                    timer.seconds += time.perf_counter() - start
                    timer.calls += 1

        blas_call.__code__ = blas_call.__code__.replace(co_name=label, co_qualname=label)
        blas_call.__name__ = blas_call.__qualname__ = label
        return blas_call


class _MatmulToCall(ast.NodeTransformer):
    """`a @ b` -> `__bench_matmul__(a, b)` (line numbers kept)."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, ast.MatMult):
            return node
        call = ast.Call(func=ast.Name("__bench_matmul__", ast.Load()),
                        args=[node.left, node.right], keywords=[])
        return ast.copy_location(call, node)


class _MatmulRewritingLoader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname):  # always from the source: no bytecode cache read or written
        path = self.get_filename(fullname)
        tree = _MatmulToCall().visit(ast.parse(self.get_data(path), path))
        return compile(ast.fix_missing_locations(tree), path, "exec", dont_inherit=True)


class _MatmulRewritingFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] != "tensorweave":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and type(spec.loader) is importlib.machinery.SourceFileLoader:
            spec.loader = _MatmulRewritingLoader(spec.loader.name, spec.loader.path)
        return spec


def profile_tensorweave(epochs: dict) -> dict:
    """One epoch of each model under cProfile (after a warm-up epoch on a prefix): BLAS seconds,
    total seconds and the functions with the largest own time."""
    import cProfile
    import pstats
    timer = BlasTimer()
    timer.install()  # before tensorweave binds any numpy function
    use_source_tree()
    from tensorweave import keras
    keras.utils.set_random_seed(0)
    out = {}
    for key, (make_model, compile_kwargs, data, batch) in keras_cases(keras).items():
        try:
            x, y = data()
            model = make_model()
            model.compile(**compile_kwargs())
            warm = warmup_rows(len(x), batch)
            model.fit(x[:warm], y[:warm], batch_size=batch, epochs=1, verbose=0)
            timer.seconds, timer.calls = 0.0, 0
            profiler = cProfile.Profile()
            start = time.perf_counter()
            profiler.enable()
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
            profiler.disable()
            total = time.perf_counter() - start
        except Exception as error:
            out[key] = {"error": _describe(error)}
            continue
        stats = pstats.Stats(profiler)
        rows = sorted(stats.stats.items(), key=lambda item: -item[1][2])[:TOP_FUNCTIONS]
        top = [[f"{os.path.basename(file)}:{line}({name})" if file != "~" else name, own, cum]
               for (file, line, name), (_, _, own, cum, _) in rows]
        out[key] = {"total": total, "blas": timer.seconds, "blas_calls": timer.calls,
                    "rows": len(x), "top": top}
    return out


# -- PyTorch ---------------------------------------------------------------------------------------
def bench_torch(epochs: dict) -> dict:
    import torch
    from torch import nn
    torch.manual_seed(0)

    class LastState(nn.Module):
        """Embedding -> LSTM (batch_first) -> the last hidden state -> one logit."""

        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCABULARY, 32)
            self.lstm = nn.LSTM(32, 32, batch_first=True)
            self.dense = nn.Linear(32, 1)

        def forward(self, x):
            _, (h, _) = self.lstm(self.embedding(x))
            return self.dense(h[-1])

    def keras_like(model):
        for module in model.modules():
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.xavier_uniform_(module.weight)
                nn.init.zeros_(module.bias)
            elif isinstance(module, nn.Embedding):
                nn.init.uniform_(module.weight, -0.05, 0.05)
            elif isinstance(module, nn.LSTM):
                nn.init.xavier_uniform_(module.weight_ih_l0)
                nn.init.orthogonal_(module.weight_hh_l0)
                nn.init.zeros_(module.bias_ih_l0)
                nn.init.zeros_(module.bias_hh_l0)
                with torch.no_grad():  # gates i, f, g, o: unit_forget_bias
                    module.bias_ih_l0[module.hidden_size:2 * module.hidden_size] = 1.0
        return model

    def train(model, optimizer, loss_fn, x, y, batch_size, n_epochs, correct_count):
        """n_epochs of shuffled mini-batch training; the last epoch's mean loss and accuracy."""
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
                correct += correct_count(out, yb)
        return total_loss / n, correct / n

    def timed(key, model, make_optimizer, loss_fn, x, y, correct_count):
        model = keras_like(model)
        optimizer = make_optimizer(model.parameters())
        batch = BATCH[key]
        warm = warmup_rows(len(x), batch)
        train(model, optimizer, loss_fn, x[:warm], y[:warm], batch, 1, correct_count)
        start = time.perf_counter()
        loss, accuracy = train(model, optimizer, loss_fn, x, y, batch, epochs[key], correct_count)
        rate = len(x) * epochs[key] / (time.perf_counter() - start)
        return {f"{key}_rate": rate, f"{key}_loss": loss, f"{key}_accuracy": accuracy}

    x, y = mnist_images()
    out = timed(
        "a",
        nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Flatten(), nn.Dropout(0.5), nn.Linear(5 * 5 * 64, MNIST_CLASSES)),
        lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-7),
        nn.CrossEntropyLoss(),
        torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))),
        torch.from_numpy(y.astype(np.int64)),
        lambda out, yb: (out.argmax(dim=1) == yb).sum().item())
    x, y = imdb_sequences()
    out.update(timed(
        "b", LastState(),
        lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7),
        nn.BCEWithLogitsLoss(), torch.from_numpy(x.astype(np.int64)), torch.from_numpy(y),
        lambda out, yb: ((out > 0).float() == yb).sum().item()))
    return out


BENCHES = {"tensorweave": bench_tensorweave, "tensorflow": bench_tensorflow, "torch": bench_torch}
CHILDREN = {**BENCHES, "profile": profile_tensorweave}


# -- driver ----------------------------------------------------------------------------------------
def _run(name: str, epochs: dict):
    """(results, None) or (None, error text): the bench of `name` in its own process."""
    return run_child(name, __file__, ["--epochs-a", str(epochs["a"]),
                                      "--epochs-b", str(epochs["b"])])


def _print_profile(profile: dict) -> None:
    print("\ntensorweave, one epoch under cProfile (numpy BLAS calls timed):")
    labels = {"a": "(a) MNIST convnet", "b": "(b) IMDB LSTM"}
    for key, label in labels.items():
        case = profile.get(key, {"error": "not run"})
        if "error" in case:
            print(f"  {label}: - ({case['error']})")
            continue
        share = case["blas"] / case["total"]
        print(f"  {label}: {case['total']:.1f} s for {case['rows']:,} samples; "
              f"BLAS (matmul/dot/tensordot/einsum, {case['blas_calls']:,} calls) "
              f"{case['blas']:.1f} s = {share:.0%}, elsewhere {case['total'] - case['blas']:.1f} s "
              f"= {1 - share:.0%}")
        print(f"    {'own s':>8} {'cum s':>8}  function (largest own time)")
        for function, own, cum in case["top"]:
            print(f"    {own:8.2f} {cum:8.2f}  {function}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs-a", type=int, default=DEFAULT_EPOCHS["a"])
    parser.add_argument("--epochs-b", type=int, default=DEFAULT_EPOCHS["b"])
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--only", choices=sorted(BENCHES), action="append",
                        help="run only this framework (may be repeated)")
    parser.add_argument("--no-profile", action="store_true",
                        help="skip the cProfile epoch of tensorweave")
    args = parser.parse_args()
    epochs = {"a": args.epochs_a, "b": args.epochs_b}
    if args.child:
        print(json.dumps(CHILDREN[args.child](epochs)))
        return
    names = args.only or list(BENCHES)
    results, errors = {}, {}
    for name in names:
        results[name], errors[name] = _run(name, epochs)
        if results[name] and "errors" in results[name]:
            errors[name] = "; ".join(f"({key}) {text}"
                                     for key, text in results[name].pop("errors").items())
    print_rows(f"epochs (a) {epochs['a']}, (b) {epochs['b']}, after a warm-up", results, errors,
               ROWS)
    if "tensorweave" in names and not args.no_profile:
        profile, error = _run("profile", epochs)
        _print_profile(profile if profile is not None else {"a": {"error": error},
                                                            "b": {"error": error}})


if __name__ == "__main__":
    main()
