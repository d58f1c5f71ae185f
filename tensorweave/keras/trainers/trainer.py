"""The Keras trainer, mixed into Model: compile, fit, evaluate, predict and their per-batch steps.

The steps (`train_step`, `test_step`, `predict_step`) are the methods users override; fit,
evaluate and predict run them once per batch, compiled with tf.function unless `run_eagerly`.
Everything a step needs (the model's weights, the compiled loss and metrics, the optimizer's
slots) is built before the first step is traced, from the shapes of the first batch.
"""
from __future__ import annotations

import warnings
from typing import Optional

import numpy as np

from tensorweave.autodiff.tape import GradientTape
from tensorweave.framework.tensor import Tensor
from tensorweave.keras.callbacks.callback_list import CallbackList, pythonify_logs
from tensorweave.keras.engine.keras_tensor import KerasTensor, shape_tuple
from tensorweave.keras.metrics.reduction_metrics import Mean
from tensorweave.keras.trainers import data_adapter
from tensorweave.keras.trainers.compile_utils import CompileLoss, CompileMetrics
from tensorweave.keras.trainers.epoch_iterator import EpochIterator
from tensorweave.ops import array_ops, math_ops, reduction_ops
from tensorweave.util import nest

unpack_x_y_sample_weight = data_adapter.unpack_x_y_sample_weight


def _set(obj, name: str, value) -> None:
    """Sets a trainer attribute without the layer's tracking (a metric held by the trainer is
    not one of the model's own metrics)."""
    object.__setattr__(obj, name, value)


class Trainer:
    """compile / fit / evaluate / predict for keras.Model."""

    compiled = False
    optimizer = None
    loss = None
    stop_training = False
    stop_evaluating = False
    stop_predicting = False
    steps_per_execution = 1
    train_function = None
    test_function = None
    predict_function = None
    _compile_loss = None
    _compile_metrics = None
    _loss_tracker = None
    _run_eagerly = False
    _jit_compile = False
    _initial_epoch = None
    _eval_epoch_iterator = None

    # -- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly: bool = False, steps_per_execution: int = 1,
                jit_compile="auto", auto_scale_loss: bool = True) -> None:
        """Configures the model for training: the optimizer, the loss (per output) and metrics."""
        from tensorweave.keras import optimizers
        output_names = getattr(self, "output_names", None)
        compile_loss = CompileLoss(loss, loss_weights, output_names) if loss is not None else None
        compile_metrics = None
        if metrics is not None or weighted_metrics is not None:
            compile_metrics = CompileMetrics(metrics, weighted_metrics, output_names)
        if not isinstance(steps_per_execution, int) or steps_per_execution < 1:
            raise ValueError(f"`steps_per_execution` must be a positive integer. Received: "
                             f"steps_per_execution={steps_per_execution}")
        _set(self, "optimizer", optimizers.get(optimizer))
        _set(self, "loss", loss)
        _set(self, "_compile_loss", compile_loss)
        _set(self, "_compile_metrics", compile_metrics)
        _set(self, "_loss_tracker", Mean(name="loss"))
        if jit_compile == "auto" or run_eagerly:
            jit_compile = False
        _set(self, "_jit_compile", bool(jit_compile))
        _set(self, "_run_eagerly", bool(run_eagerly))
        _set(self, "steps_per_execution", steps_per_execution)
        _set(self, "stop_training", False)
        _set(self, "compiled", True)
        # the optimizer object, not the argument (a name, or a dict `get` may have changed),
        # as Keras: its whole config is written
        _set(self, "_compile_config", {
            "optimizer": self.optimizer, "loss": loss, "loss_weights": loss_weights,
            "metrics": metrics, "weighted_metrics": weighted_metrics, "run_eagerly": run_eagerly,
            "steps_per_execution": steps_per_execution, "jit_compile": jit_compile})
        self._reset_step_functions()

    def _reset_step_functions(self) -> None:
        _set(self, "train_function", None)
        _set(self, "test_function", None)
        _set(self, "predict_function", None)

    @property
    def run_eagerly(self) -> bool:
        return self._run_eagerly

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        _set(self, "_run_eagerly", bool(value))
        self._reset_step_functions()

    @property
    def jit_compile(self) -> bool:
        return self._jit_compile

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        _set(self, "_jit_compile", bool(value))
        self._reset_step_functions()

    # -- tf.keras 2's names, kept as Keras 3 keeps them (deprecated shims) -----------------------
    def compiled_loss(self, y, y_pred, sample_weight=None, regularization_losses=None):
        """Deprecated: `compute_loss` (which adds the layers' losses itself)."""
        warnings.warn("`model.compiled_loss()` is deprecated. Instead, use "
                      "`model.compute_loss(x, y, y_pred, sample_weight, training)`.", stacklevel=2)
        return self.compute_loss(x=None, y=y, y_pred=y_pred, sample_weight=sample_weight)

    @property
    def compiled_metrics(self):
        """Deprecated: an object whose `update_state(y, y_pred, sample_weight)` updates every
        metric of the model (a Mean tracker with the predictions, as Keras 3 does)."""
        model = self

        class DeprecatedCompiledMetric:
            def update_state(self, y, y_pred, sample_weight=None):
                warnings.warn("`model.compiled_metrics()` is deprecated. Instead, use e.g.:\n"
                              "```\nfor metric in self.metrics:\n    metric.update_state(y, "
                              "y_pred)\n```\n", stacklevel=2)
                for metric in model.metrics:
                    if isinstance(metric, Mean):
                        metric.update_state(y_pred, sample_weight=sample_weight)
                    else:
                        metric.update_state(y, y_pred, sample_weight=sample_weight)
        return DeprecatedCompiledMetric()

    def get_compile_config(self) -> dict:
        from tensorweave.keras.saving import serialization
        if not self.compiled:
            return {}
        return {k: serialization.serialize_keras_object(v)
                for k, v in self._compile_config.items()}

    def compile_from_config(self, config: dict) -> None:
        """Compiles with the arguments `get_compile_config` wrote (when a file is loaded)."""
        from tensorweave.keras.saving import serialization
        if type(self).compile is not Trainer.compile:
            warnings.warn("`compile()` was not called as part of model loading because the "
                          "model's `compile()` method is custom. All subclassed Models that "
                          "have `compile()` overridden should also override "
                          "`get_compile_config()` and `compile_from_config(config)`. "
                          "Alternatively, you can call `compile()` manually after loading.",
                          stacklevel=2)
            return
        self.compile(**serialization.deserialize_keras_object(config))
        if self.optimizer is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def _assert_compile_called(self, method: str) -> None:
        if not self.compiled:
            raise ValueError(f"You must call `compile()` before using the model. (Calling "
                             f"`{method}()` on an uncompiled model.)")

    # -- metrics ---------------------------------------------------------------------------------
    @property
    def metrics(self) -> list:
        """The loss tracker, the compiled metrics, per-output loss trackers, then the metrics
        the model's layers hold."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
            if self._compile_loss is not None:
                out.extend(self._compile_loss.metrics)
        out.extend(self._metrics)
        for layer in self._flatten_layers(include_self=False):
            if not isinstance(layer, Trainer):
                out.extend(layer._metrics)
        return out

    @property
    def metrics_names(self) -> list:
        return [m.name for m in self.metrics]

    @property
    def metrics_variables(self) -> list:
        return [v for m in self.metrics for v in m.variables]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict:
        """{name: value} of every metric (the compiled metrics contribute one entry each)."""
        logs = {}
        for metric in self.metrics:
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return logs

    def _flatten_metrics_in_order(self, logs: dict):
        """The values of `logs` in the order of the metrics (what evaluate returns)."""
        names = []
        for metric in self.metrics:
            if isinstance(metric, CompileMetrics):
                names.extend(m.name for m in metric.metrics)
            else:
                names.append(metric.name)
        results = [logs[n] for n in names if n in logs]
        results += [logs[k] for k in sorted(logs) if k not in names]
        return results[0] if len(results) == 1 else results

    # -- the steps -------------------------------------------------------------------------------
    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training: bool = True):
        """The compiled loss plus every loss the layers added (regularization, add_loss)."""
        losses = []
        if self._compile_loss is not None:
            losses.append(self._compile_loss(y, y_pred, sample_weight))
        for extra in self.losses:
            if not extra.dtype.is_floating:
                extra = math_ops.cast(extra, "float32")
            losses.append(reduction_ops.reduce_sum(extra))
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = losses[0]
        for value in losses[1:]:
            total = math_ops.add(total, math_ops.cast(value, total.dtype))
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None) -> dict:
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data) -> dict:
        """One optimization step on a batch; returns the metric values."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        trainable = self.trainable_weights
        if trainable:
            gradients = tape.gradient(loss, trainable)
            self.optimizer.apply_gradients(zip(gradients, trainable))
        else:
            warnings.warn("The model does not have any trainable weights.", stacklevel=2)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data) -> dict:
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        self._loss_tracker.update_state(loss, sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _compiled(self, step):
        if self.run_eagerly:
            return step
        from tensorweave.function.def_function import function
        return function(step, reduce_retracing=True, jit_compile=self.jit_compile or None)

    def make_train_function(self, force: bool = False):
        if self.train_function is None or force:
            _set(self, "train_function", self._compiled(self.train_step))
        return self.train_function

    def make_test_function(self, force: bool = False):
        if self.test_function is None or force:
            _set(self, "test_function", self._compiled(self.test_step))
        return self.test_function

    def make_predict_function(self, force: bool = False):
        if self.predict_function is None or force:
            _set(self, "predict_function", self._compiled(self.predict_step))
        return self.predict_function

    def _symbolic_build(self, adapter=None, batch=None) -> None:
        """Builds the model, the compiled loss and metrics and the optimizer from the shapes of
        a first batch (`batch`, or the adapter's), so no variable is made while a step is
        traced."""
        from tensorweave.keras.engine import symbolic
        model_unbuilt = not all(layer.built for layer in self._flatten_layers())
        loss_unbuilt = self._compile_loss is not None and not self._compile_loss.built
        metrics_unbuilt = self._compile_metrics is not None and not self._compile_metrics.built
        if model_unbuilt or loss_unbuilt or metrics_unbuilt:
            batch = adapter.first_batch() if batch is None else batch
            if batch is None:
                raise ValueError("Expected input data to contain at least one batch; it is "
                                 "empty.")
            x, y, _ = unpack_x_y_sample_weight(batch)
            symbolic_x = nest.map_structure(
                lambda t: None if t is None else KerasTensor((None,) + shape_tuple(t)[1:],
                                                             t.dtype.name), x)
            try:
                y_pred = symbolic._trace(self, (symbolic_x,), {"training": False})
            except Exception:
                if not self.run_eagerly:
                    raise
                y_pred = self(x, training=False)  # a model that only runs eagerly
            if loss_unbuilt:
                self._compile_loss.build(y, y_pred)
            if metrics_unbuilt:
                self._compile_metrics.build(y, y_pred)
        if self.optimizer is not None and not getattr(self.optimizer, "built", True):
            self.optimizer.build(self.trainable_variables)

    # -- fit ---------------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size: Optional[int] = None, epochs: int = 1,
            verbose="auto", callbacks=None, validation_split: float = 0.0, validation_data=None,
            shuffle=True, class_weight: Optional[dict] = None, sample_weight=None,
            initial_epoch: int = 0, steps_per_epoch: Optional[int] = None,
            validation_steps: Optional[int] = None, validation_batch_size: Optional[int] = None,
            validation_freq=1):
        """Trains the model for `epochs` epochs; returns the History."""
        self._assert_compile_called("fit")
        _check_validation_freq(validation_freq)
        if validation_split and validation_data is None:
            if not isinstance(x, (np.ndarray, Tensor, list, tuple, dict)):
                raise ValueError("`validation_split` is only supported for Tensors or NumPy "
                                 f"arrays, found following types in the input: {type(x)}")
            arrays = tuple(data_adapter._array_structure(v) for v in (x, y, sample_weight))
            (x, y, sample_weight), validation_data = data_adapter.train_validation_split(
                arrays, validation_split)
        val_x = val_y = val_sample_weight = None
        if validation_data is not None:
            val_x, val_y, val_sample_weight = unpack_x_y_sample_weight(validation_data)
        iterator = EpochIterator(x, y, sample_weight, batch_size=batch_size,
                                 steps_per_epoch=steps_per_epoch, shuffle=shuffle,
                                 class_weight=class_weight)
        self._symbolic_build(iterator.adapter)
        train_function = self.make_train_function()
        callbacks = self._callback_list(callbacks, verbose, epochs, iterator.num_batches,
                                        add_history=True)
        _set(self, "stop_training", False)
        _set(self, "_eval_epoch_iterator", None)
        callbacks.on_train_begin()
        initial_epoch = self._initial_epoch or initial_epoch
        begin_hook = callbacks.wants("on_train_batch_begin")
        end_hook = callbacks.wants("on_train_batch_end")
        every = self.steps_per_execution
        training_logs = None
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            callbacks.on_epoch_begin(epoch)
            logs = None
            for step, batch in iterator.enumerate_epoch():
                if begin_hook and step % every == 0:
                    callbacks.on_train_batch_begin(step)
                logs = train_function(batch)
                if end_hook and (step + 1) % every == 0:
                    callbacks.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if logs is None:
                break  # the data ran out (the iterator warned): nothing more to train on
            epoch_logs = pythonify_logs(self._metrics_or(logs))
            if validation_data is not None and _should_evaluate(epoch, validation_freq):
                if self._eval_epoch_iterator is None:
                    _set(self, "_eval_epoch_iterator", EpochIterator(
                        val_x, val_y, val_sample_weight,
                        batch_size=validation_batch_size or batch_size,
                        steps_per_epoch=validation_steps, shuffle=False))
                val_logs = self.evaluate(callbacks=callbacks, return_dict=True,
                                         _use_cached_eval_dataset=True)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callbacks.on_epoch_end(epoch, epoch_logs)
            training_logs = epoch_logs
            if self.stop_training:
                break
        if self.optimizer is not None and hasattr(self.optimizer, "finalize_variable_values") \
                and epochs > initial_epoch:
            self.optimizer.finalize_variable_values(self.trainable_weights)
        _set(self, "_eval_epoch_iterator", None)
        _set(self, "_initial_epoch", None)
        callbacks.on_train_end(logs=training_logs)
        return self.history

    def _metrics_or(self, logs) -> dict:
        """The metrics' current results when `logs` are their values (the usual case), else the
        logs a custom train_step returned."""
        results = self.get_metrics_result()
        if isinstance(logs, dict) and set(logs) == set(results):
            return results
        return logs if isinstance(logs, dict) else results

    def _callback_list(self, callbacks, verbose, epochs: int, steps, add_history: bool = False):
        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(callbacks, add_history=add_history, add_progbar=verbose != 0,
                            model=self, verbose=verbose, epochs=epochs, steps=steps)

    # -- evaluate ----------------------------------------------------------------------------------
    def evaluate(self, x=None, y=None, batch_size: Optional[int] = None, verbose="auto",
                 sample_weight=None, steps: Optional[int] = None, callbacks=None,
                 return_dict: bool = False, **kwargs):
        """The loss and metrics over the data: a list (a scalar alone), or a dict."""
        self._assert_compile_called("evaluate")
        use_cached = kwargs.pop("_use_cached_eval_dataset", False)
        if kwargs:
            raise ValueError(f"Arguments not recognized: {kwargs}")
        if use_cached and self._eval_epoch_iterator is not None:
            iterator = self._eval_epoch_iterator
        else:
            iterator = EpochIterator(x, y, sample_weight, batch_size=batch_size,
                                     steps_per_epoch=steps, shuffle=False)
        self._symbolic_build(iterator.adapter)
        test_function = self.make_test_function()
        callbacks = self._callback_list(callbacks, verbose, 1, iterator.num_batches)
        begin_hook = callbacks.wants("on_test_batch_begin")
        end_hook = callbacks.wants("on_test_batch_end")
        _set(self, "stop_evaluating", False)
        callbacks.on_test_begin()
        self.reset_metrics()
        logs = None
        for step, batch in iterator.enumerate_epoch():
            if begin_hook:
                callbacks.on_test_batch_begin(step)
            logs = test_function(batch)
            if end_hook:
                callbacks.on_test_batch_end(step, logs)
            if self.stop_evaluating:
                break
        logs = pythonify_logs(self._metrics_or(logs))
        callbacks.on_test_end(logs)
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    # -- predict -----------------------------------------------------------------------------------
    def predict(self, x, batch_size: Optional[int] = None, verbose="auto",
                steps: Optional[int] = None, callbacks=None):
        """The model's outputs for `x`, batch by batch, as NumPy arrays."""
        iterator = EpochIterator(x, batch_size=batch_size, steps_per_epoch=steps, shuffle=False)
        predict_function = self.make_predict_function()
        callbacks = self._callback_list(callbacks, verbose, 1, iterator.num_batches)
        begin_hook = callbacks.wants("on_predict_batch_begin")
        end_hook = callbacks.wants("on_predict_batch_end")
        _set(self, "stop_predicting", False)
        callbacks.on_predict_begin()
        batches = []
        for step, batch in iterator.enumerate_epoch():
            if begin_hook:
                callbacks.on_predict_batch_begin(step)
            outputs = nest.map_structure(_to_numpy, predict_function(batch))
            batches.append(outputs)
            if end_hook:
                callbacks.on_predict_batch_end(step, {"outputs": outputs})
            if self.stop_predicting:
                break
        callbacks.on_predict_end()
        if not batches:
            raise ValueError("Expected input data to contain at least one batch; it is empty.")
        flat = [nest.flatten(b) for b in batches]
        joined = [np.concatenate([b[i] for b in flat], axis=0) for i in range(len(flat[0]))]
        return nest.pack_sequence_as(batches[0], joined)

    # -- single batches ---------------------------------------------------------------------------
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict: bool = False):
        """One training step on one batch; returns the metrics (running over calls)."""
        self._assert_compile_called("train_on_batch")
        batch = next(iter(data_adapter.ArrayAdapter(
            x, y, sample_weight, batch_size=_batch_count(x), class_weight=class_weight)))
        self._symbolic_build(batch=batch)
        logs = pythonify_logs(self._metrics_or(self.make_train_function()(batch)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict: bool = False):
        self._assert_compile_called("test_on_batch")
        batch = next(iter(data_adapter.ArrayAdapter(x, y, sample_weight,
                                                    batch_size=_batch_count(x))))
        self._symbolic_build(batch=batch)
        logs = pythonify_logs(self._metrics_or(self.make_test_function()(batch)))
        return logs if return_dict else self._flatten_metrics_in_order(logs)

    def predict_on_batch(self, x):
        batch = next(iter(data_adapter.ArrayAdapter(x, batch_size=_batch_count(x))))
        return nest.map_structure(_to_numpy, self.make_predict_function()(batch))


def _batch_size(x):
    first = nest.flatten(x)[0]
    return math_ops.cast(array_ops.shape(first)[0], "float32")


def _batch_count(x) -> int:
    return data_adapter.check_cardinality(data_adapter._array_structure(x), None, None)


def _to_numpy(value):
    return value.numpy() if hasattr(value, "numpy") else np.asarray(value)


def _check_validation_freq(validation_freq) -> None:
    if not isinstance(validation_freq, (int, list)):
        raise ValueError(f"Expected `validation_freq` to be a list or int. Received: "
                         f"validation_freq={validation_freq} of the type {type(validation_freq)}.")


def _should_evaluate(epoch: int, validation_freq) -> bool:
    epoch += 1
    if isinstance(validation_freq, int):
        return epoch % validation_freq == 0
    return epoch in validation_freq
