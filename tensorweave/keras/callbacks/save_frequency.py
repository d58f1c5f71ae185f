"""When a callback that saves every `save_freq` batches (ModelCheckpoint, BackupAndRestore) is
due: batches are counted across epochs, as Keras counts them."""
from __future__ import annotations


def due_on_batch(callback, batch: int) -> bool:
    """Counts the batches since `callback._last_batch_seen` (None before the first) into
    `callback._batches_seen_since_last_saving`; True, and the count restarts, every
    `callback.save_freq` batches. Never due when saving once an epoch."""
    if callback.save_freq == "epoch":
        return False
    last = callback._last_batch_seen
    added = batch + 1 if last is None or batch <= last else batch - last  # batch <= last: new epoch
    callback._batches_seen_since_last_saving += added
    callback._last_batch_seen = batch
    if callback._batches_seen_since_last_saving >= callback.save_freq:
        callback._batches_seen_since_last_saving = 0
        return True
    return False
