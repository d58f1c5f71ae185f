"""tf.train.CheckpointManager: numbered checkpoints in a directory, the oldest deleted beyond
`max_to_keep` (unless `keep_checkpoint_every_n_hours` preserves them), the state recorded in the
directory's `checkpoint` file and picked up again by a new manager."""
from __future__ import annotations

import glob
import os
import time
from collections import OrderedDict

import numpy as np

from tensorweave.checkpoint import format as fmt
from tensorweave.checkpoint import state


def _number(value) -> int:
    """An int from an int, or from an integer Variable / Tensor (its current value)."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return int(np.asarray(value.numpy() if hasattr(value, "numpy") else value))


def _delete_checkpoint(prefix: str) -> None:
    """Removes the files of one checkpoint, the index (what makes it exist) first."""
    for path in [prefix + fmt.INDEX_SUFFIX] + glob.glob(
            glob.escape(prefix) + ".data-?????-of-?????"):
        try:
            os.remove(path)
        except FileNotFoundError:
            pass


class CheckpointManager:
    """Saves numbered checkpoints of `checkpoint` in `directory` and keeps the newest
    `max_to_keep` of them (all with None)."""

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None,
                 init_fn=None, last_checkpoint_step=None):
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got "
                             f"{max_to_keep}.")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not "
                             "None.")
        self._checkpoint = checkpoint
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._directory = os.fspath(directory)
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._init_fn = init_fn
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_step = last_checkpoint_step
        # the managed checkpoints, oldest first, with the time each was written
        self._maybe_delete: OrderedDict = OrderedDict()
        now = time.time()
        recovered = state.get_checkpoint_state(self._directory)
        if recovered is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now - 1.0
            return
        self._latest_checkpoint = recovered.model_checkpoint_path
        self._last_preserved_timestamp = min(recovered.last_preserved_timestamp, now)
        paths = recovered.all_model_checkpoint_paths
        stamps = recovered.all_model_checkpoint_timestamps or \
            [self._last_preserved_timestamp] * len(paths)
        for path, stamp in zip(paths, stamps):
            stamp = min(stamp, now)
            if stamp > self._last_preserved_timestamp:
                self._maybe_delete[path] = stamp

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self):
        """The prefix of the newest checkpoint, or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list:
        """The managed checkpoints, oldest first (not those kept by
        keep_checkpoint_every_n_hours)."""
        return list(self._maybe_delete)

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Writes `<directory>/<checkpoint_name>-<n>` (n: `checkpoint_number`, else the
        incremented `save_counter`, which is incremented either way), records it, deletes the
        checkpoints beyond `max_to_keep`. Returns the prefix, or None when `checkpoint_interval`
        says it is too early."""
        if self._checkpoint_interval is not None:
            step = _number(self._step_counter)
            if self._last_checkpoint_step is not None:
                if step == self._last_checkpoint_step:
                    return None
                if check_interval and step < self._last_checkpoint_step + \
                        self._checkpoint_interval:
                    return None
            last_step, self._last_checkpoint_step = self._last_checkpoint_step, step
        counter = self._checkpoint.save_counter
        previous = int(counter.numpy())
        counter.assign(previous + 1)
        number = previous + 1 if checkpoint_number is None else _number(checkpoint_number)
        prefix = f"{self._prefix}-{number}"
        try:
            self._checkpoint._write(prefix, options)
        except BaseException:
            counter.assign(previous)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = last_step
            raise
        stamp = time.time()
        self._maybe_delete.pop(prefix, None)  # saved again: it becomes the newest
        self._maybe_delete[prefix] = stamp
        self._latest_checkpoint = prefix
        self._record_state()  # the new checkpoint is recorded before anything is deleted
        self._sweep()
        self._record_state()
        return prefix

    def _sweep(self) -> None:
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            prefix, stamp = self._maybe_delete.popitem(last=False)
            hours = self._keep_checkpoint_every_n_hours
            if hours and stamp - hours * 3600.0 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = stamp
                continue
            _delete_checkpoint(prefix)

    def _record_state(self) -> None:
        state.write_state(self._directory, self._latest_checkpoint, list(self._maybe_delete),
                          list(self._maybe_delete.values()), self._last_preserved_timestamp)

    def restore_or_initialize(self):
        """Restores the latest checkpoint and returns its path; without one, calls `init_fn`
        (if given) and returns None."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = _number(self._step_counter)
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self) -> None:
        """Nothing to wait for: saves are synchronous."""
