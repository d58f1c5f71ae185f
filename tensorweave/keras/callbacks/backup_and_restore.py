"""BackupAndRestore: backs the training state up (weights, optimizer state, epoch) so that a fit
killed midway resumes, in a new fit, from the last backup."""
from __future__ import annotations

import json
import os
import shutil

from tensorweave.keras.callbacks.callback import Callback
from tensorweave.keras.callbacks.save_frequency import due_on_batch
from tensorweave.keras.saving import saving_lib


class BackupAndRestore(Callback):
    """Writes `latest.weights.h5` and `training_metadata.json` in `backup_dir` at the end of each
    epoch (or every `save_freq` batches); a fit starting with a backup present loads it and
    begins at the epoch after the backed-up one. The backup is removed when fit ends normally
    (unless `delete_checkpoint=False`). With `double_checkpoint` the previous backup is kept as
    `*.bkp` and used when the latest cannot be read."""

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        self.backup_dir = os.fspath(backup_dir)
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir, "training_metadata.json")
        self._prev_weights_path = f"{self._weights_path}.bkp"
        self._prev_training_metadata_path = f"{self._training_metadata_path}.bkp"
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError("Invalid value for argument `save_freq`. Received: "
                             f"save_freq={save_freq}. Expected either 'epoch' or an integer "
                             "value.")

    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except OSError:
            # the latest backup cannot be read: fall back on the previous one, if kept
            if not os.path.exists(self._prev_weights_path):
                raise
            saving_lib.copy_file_atomically(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                saving_lib.copy_file_atomically(self._prev_training_metadata_path,
                                                self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self) -> None:
        model = self.model
        if not model.built:
            raise ValueError("To use the BackupAndRestore callback, you model must be built "
                             f"before you call `fit()`. Model {model} is unbuilt. You can build "
                             "it beforehand by calling it on a batch of data.")
        if os.path.exists(self._weights_path):
            optimizer = getattr(model, "optimizer", None)
            if optimizer is not None and not getattr(optimizer, "built", True):
                optimizer.build(model.trainable_variables)  # its slots must exist to be loaded
            model.load_weights(self._weights_path)
        if os.path.exists(self._training_metadata_path):
            with open(self._training_metadata_path) as f:
                metadata = json.loads(f.read())
            model._initial_epoch = metadata["epoch"]

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model()

    def _save_model(self) -> None:
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._weights_path):
            saving_lib.copy_file_atomically(self._weights_path, self._prev_weights_path)
        if self.double_checkpoint and os.path.exists(self._training_metadata_path):
            saving_lib.copy_file_atomically(self._training_metadata_path,
                                            self._prev_training_metadata_path)
        self.model.save_weights(filepath=self._weights_path, overwrite=True)
        saving_lib.write_text_atomically(
            self._training_metadata_path,
            json.dumps({"epoch": self._current_epoch, "batch": self._last_batch_seen}))

    def _should_save_on_batch(self, batch) -> bool:
        return due_on_batch(self, batch)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)
