"""TerminateOnNaN: stops training at the first batch whose loss is NaN or infinite."""
from __future__ import annotations

import numpy as np

from tensorweave.keras.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets `model.stop_training` (or, with `raise_error=True`, raises RuntimeError at once, so
    no other callback's `on_train_end` runs)."""

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and (np.isnan(loss) or np.isinf(loss)):
            if self.raise_error:
                raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                                   f"{loss}. Terminating training immediately.")
            print(f"Batch {batch}: Invalid loss, terminating training", flush=True)
            self.model.stop_training = True
