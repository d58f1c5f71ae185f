"""LambdaCallback: a callback made of functions given for some hooks."""
from __future__ import annotations

from tensorweave.keras.callbacks.callback import Callback


class LambdaCallback(Callback):
    """`LambdaCallback(on_epoch_end=lambda epoch, logs: ...)`; any other hook can be passed by
    its name too (`on_test_end=...`). The functions take the hook's arguments positionally."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end}
        for name, function in hooks.items():
            if function is not None:
                setattr(self, name, function)
