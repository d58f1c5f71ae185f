"""EpochIterator: the steps of each epoch, as Keras counts them.

Without `steps_per_epoch` an epoch is one pass over the data. With it, an epoch is that many steps
taken from one iterator that lives across epochs and restarts after a complete pass; data that
runs out within an epoch ends it early, with Keras's warning.
"""
from __future__ import annotations

import warnings
from typing import Optional

from tensorweave.framework.errors import OutOfRangeError
from tensorweave.keras.trainers.data_adapter import get_data_adapter


class EpochIterator:
    def __init__(self, x=None, y=None, sample_weight=None, batch_size=None,
                 steps_per_epoch: Optional[int] = None, shuffle=False, class_weight=None):
        if steps_per_epoch is not None and steps_per_epoch <= 0 and steps_per_epoch != -1:
            raise ValueError(f"steps_per_epoch must be positive, None or -1. Received: "
                             f"{steps_per_epoch}")
        self.steps_per_epoch = steps_per_epoch if steps_per_epoch != -1 else None
        self.adapter = get_data_adapter(x, y, sample_weight, batch_size=batch_size,
                                        shuffle=shuffle, class_weight=class_weight)
        self._num_batches = self.adapter.num_batches
        self._iterator = None
        self._steps_seen = 0

    @property
    def num_batches(self) -> Optional[int]:
        """The steps of one epoch, None when unknown until a pass ends."""
        return self.steps_per_epoch or self._num_batches

    def enumerate_epoch(self):
        """Yields (step, batch) for one epoch."""
        if self.steps_per_epoch:
            if self._iterator is None:
                self._iterator, self._steps_seen = iter(self.adapter), 0
            for step in range(self.steps_per_epoch):
                batch = None
                if not (self._num_batches and self._steps_seen >= self._num_batches):
                    batch = self._next(self._iterator)
                if batch is None:
                    self._warn_ran_out()
                    self._iterator = None
                    return
                self._steps_seen += 1
                yield step, batch
            if self._num_batches and self._steps_seen >= self._num_batches:
                self._iterator = None
            return
        step = 0
        for batch in iter(self.adapter):
            yield step, batch
            step += 1
        if self._num_batches is None:
            self._num_batches = step
        if step == 0:
            self._warn_ran_out()

    @staticmethod
    def _next(iterator):
        try:
            return next(iterator)
        except (StopIteration, OutOfRangeError):
            return None

    def _warn_ran_out(self) -> None:
        warnings.warn("Your input ran out of data; interrupting training. Make sure that your "
                      "dataset or generator can generate at least `steps_per_epoch * epochs` "
                      "batches. You may need to use the `.repeat()` function when building your "
                      "dataset.", stacklevel=3)
