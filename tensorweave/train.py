"""tf.train: object-based checkpoints (tensorweave/checkpoint/)."""
from tensorweave.checkpoint import (  # noqa: F401
    Checkpoint, CheckpointManager, CheckpointOptions, get_checkpoint_state, latest_checkpoint,
    list_variables, load_checkpoint, load_variable)
