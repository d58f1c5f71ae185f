"""tf.train.Checkpoint and tf.train.CheckpointOptions."""
from __future__ import annotations

import inspect
import os

from tensorweave.checkpoint import deferred, graph, state
from tensorweave.checkpoint import format as fmt
from tensorweave.checkpoint.restore import (
    CheckpointLoadStatus, InitializationOnlyStatus, Restoration)
from tensorweave.framework import dtypes
from tensorweave.framework.context import init_scope, state as context_state
from tensorweave.framework.variables import Variable


class CheckpointOptions:
    """Options of `save`/`write`/`restore`: accepted and kept. `experimental_write_callbacks`
    run after a write (with the path when they take one argument) and
    `experimental_skip_slot_variables` leaves optimizer slots out; the others change nothing
    here."""

    __slots__ = ("experimental_io_device", "enable_async", "experimental_enable_async_checkpoint",
                 "experimental_write_callbacks", "experimental_skip_slot_variables",
                 "experimental_sharding_callback")

    def __init__(self, experimental_io_device=None, experimental_enable_async_checkpoint=False,
                 experimental_write_callbacks=None, enable_async=False,
                 experimental_skip_slot_variables=False, experimental_sharding_callback=None):
        self.experimental_io_device = experimental_io_device
        self.enable_async = bool(experimental_enable_async_checkpoint or enable_async)
        self.experimental_enable_async_checkpoint = self.enable_async
        self.experimental_write_callbacks = experimental_write_callbacks
        self.experimental_skip_slot_variables = experimental_skip_slot_variables
        self.experimental_sharding_callback = experimental_sharding_callback

    def __copy__(self):
        copy = CheckpointOptions()
        for name in self.__slots__:
            setattr(copy, name, getattr(self, name))
        if copy.experimental_write_callbacks is not None:
            copy.experimental_write_callbacks = list(copy.experimental_write_callbacks)
        return copy


def _run_callbacks(callbacks, save_path: str) -> None:
    for callback in callbacks or ():
        count = len(inspect.signature(callback).parameters)
        if count == 0:
            callback()
        elif count == 1:
            callback(save_path)
        else:
            raise AssertionError(f"Callback functions for checkpoint are required to have 0 or 1 "
                                 f"parameters, but this has {count} parameters: {callback}")


def _eager_only(method: str) -> None:
    if context_state.graph is not None:
        raise RuntimeError(f"tf.train.Checkpoint.{method}() runs eagerly in tensorweave: call it "
                           "outside the tf.function (values inside a traced function are not "
                           "known until it runs).")


def _check_trackable(name: str, value) -> None:
    if not graph.is_trackable_value(value):
        raise ValueError(f"`Checkpoint` was expecting {name} to be a trackable object (an object "
                         f"derived from `Trackable`), got {value}. If you believe this object "
                         "should be trackable (i.e. it is part of the TensorFlow Python API and "
                         "manages state), please open an issue.")


class Checkpoint:
    """Saves and restores the variables reachable from its keyword arguments (and from `root`):
    `save` numbers checkpoints with `save_counter` and records them in the directory's
    `checkpoint` file, `write` writes exactly one prefix, `restore`/`read` assign the values
    (now, or when the objects that take them are created)."""

    def __init__(self, root=None, **kwargs):
        object.__setattr__(self, "_checkpoint_dependencies", {})
        object.__setattr__(self, "_checkpoint_save_counter", None)
        if root is not None:
            _check_trackable("root", root)
        object.__setattr__(self, "_checkpoint_root", root)
        for name, value in kwargs.items():
            _check_trackable(name, value)
            if root is not None and value is root:
                raise ValueError(f"`Checkpoint` was given the same object as `root` and as "
                                 f"`{name}`.")
            setattr(self, name, value)

    # -- dependencies ------------------------------------------------------------------------
    def __setattr__(self, name, value):
        dependencies = self._checkpoint_dependencies
        dependencies.pop(name, None)
        if not name.startswith("_checkpoint_") and name != "save_counter" and \
                graph.is_trackable_value(value):
            dependencies[name] = value
            object.__setattr__(self, name, value)
            deferred.attribute_set(self, name, value)
        else:
            object.__setattr__(self, name, value)

    def __delattr__(self, name):
        self._checkpoint_dependencies.pop(name, None)
        object.__delattr__(self, name)

    def _checkpoint_children(self) -> list:
        out = []
        if self._checkpoint_root is not None:
            out.extend(graph.children(self._checkpoint_root))
        used = {name for name, _ in out}
        for name, value in self._checkpoint_dependencies.items():
            if name not in used:
                used.add(name)
                out.append((name, value))
        if self._checkpoint_save_counter is not None and "save_counter" not in used:
            out.append(("save_counter", self._checkpoint_save_counter))
        return out

    @property
    def save_counter(self):
        """An int64 variable counting the `save` calls (made on first use; restored)."""
        if self._checkpoint_save_counter is None:
            with init_scope():
                counter = Variable(0, dtype=dtypes.int64, trainable=False, name="save_counter")
            object.__setattr__(self, "_checkpoint_save_counter", counter)
            deferred.attribute_set(self, "save_counter", counter)
        return self._checkpoint_save_counter

    # -- writing -----------------------------------------------------------------------------
    def _write(self, file_prefix: str, options=None) -> str:
        _eager_only("write")
        file_prefix = os.fspath(file_prefix)
        skip_slots = bool(getattr(options, "experimental_skip_slot_variables", False))
        nodes, values = graph.snapshot(self, skip_slots=skip_slots)
        fmt.write_checkpoint(file_prefix, nodes, values)
        _run_callbacks(getattr(options, "experimental_write_callbacks", None), file_prefix)
        return file_prefix

    def write(self, file_prefix, options=None) -> str:
        """Writes the checkpoint `file_prefix` (.index and .data files); no counter, no state
        file. Returns `file_prefix`."""
        return self._write(file_prefix, options)

    def save(self, file_prefix, options=None) -> str:
        """Writes `<file_prefix>-<n>` (n = the incremented `save_counter`) and records it in the
        `checkpoint` state file of its directory. Returns the prefix written."""
        _eager_only("save")
        file_prefix = os.fspath(file_prefix)
        counter = self.save_counter
        previous = int(counter.numpy())
        counter.assign(previous + 1)
        path = f"{file_prefix}-{previous + 1}"
        try:
            self._write(path, options)
            state.write_state(os.path.dirname(path), path, [path])
        except BaseException:
            counter.assign(previous)
            raise
        return path

    # -- reading -----------------------------------------------------------------------------
    def read(self, save_path, options=None):
        """Restores the values of the checkpoint `save_path` (a prefix); returns a status."""
        _eager_only("read")
        if save_path is None:
            return InitializationOnlyStatus()
        skip_slots = bool(getattr(options, "experimental_skip_slot_variables", False))
        try:
            file = fmt.CheckpointFile(os.fspath(save_path))
        except Exception as error:
            from tensorweave.framework.errors import NotFoundError
            if isinstance(error, NotFoundError):
                raise NotFoundError(
                    None, None, f"Error when restoring from checkpoint or SavedModel at "
                    f"{save_path}: {error}\nPlease double-check that the path is correct. You may "
                    "be missing the checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1').") \
                    from None
            raise
        restoration = Restoration(file, self, skip_slots=skip_slots)
        restoration.start()
        return CheckpointLoadStatus(restoration, self)

    def restore(self, save_path, options=None):
        """`read`, then `save_counter` is created (and so restored too)."""
        status = self.read(save_path, options)
        self.save_counter  # noqa: B018 - created now, it takes its checkpointed value
        return status

    def sync(self) -> None:
        """Nothing to wait for: writes are synchronous."""

    def __repr__(self):
        return f"<tensorweave.train.Checkpoint dependencies={list(self._checkpoint_dependencies)}>"
