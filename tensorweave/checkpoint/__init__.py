"""tf.train.Checkpoint and its relatives: object-based checkpoints in a format of our own.

Objects and names
    A checkpoint saves the object graph reachable from a `Checkpoint`: its keyword arguments
    and attributes, and their dependencies (see graph.py: a Keras layer's tracked attributes,
    its other weights by name and its other sub-layers as `layer-<i>`, a compiled model's
    `optimizer`; an optimizer's variables by attribute; list items by index, dict values by
    key). Restoring matches the saved graph to the live objects by these names, from the root;
    optimizer slot variables are matched by (model variable, slot name), as TensorFlow does.
    Values whose objects do not exist yet wait and are assigned when they are created (a layer's
    weights when it is built, an optimizer's slots on its first step).

Files of a checkpoint `<prefix>` (no pickle anywhere)
    `<prefix>.data-00000-of-00001`: the values, one after the other, each C-ordered and
    little-endian; a string value is a sequence of (uint64 length, bytes).
    `<prefix>.index`: UTF-8 JSON
        {"format": "tensorweave.checkpoint", "version": 1,
         "data_file": "<basename of the data file>", "data_size": <bytes>,
         "tensors": {<key>: {"dtype": "float32", "shape": [3, 4], "offset": <byte>,
                             "size": <bytes>, "crc32": <zlib.crc32 of the bytes>}},
         "object_graph": [<node 0 = the root>, <node 1>, ...]}
    A node is {"kind": "checkpoint" | "layer" | "optimizer" | "list" | "dict" | "object" |
    "variable", "class": <Python class name>, "children": [[<name>, <node>], ...]}, plus
    "key" for a variable (where its value is in "tensors") and, for an optimizer,
    "slots": [[<model variable node>, <slot name>, <slot variable node>, <named>], ...] and
    "variables": [<node of each optimizer variable, in creation order, or null>].
    Keys follow TensorFlow's: `<path of dependency names>/.ATTRIBUTES/VARIABLE_VALUE`, a slot
    `<variable path>/.OPTIMIZER_SLOT/<optimizer path>/<slot name>/.ATTRIBUTES/VARIABLE_VALUE`
    (`.` in a name written `..`, `/` written `.S`).
    `<directory>/checkpoint`: the state file, in TensorFlow's text format (state.py).

Atomicity
    Each file is written to a temporary file in the same directory and renamed into place,
    the data file first and the index last: a checkpoint exists once its index does, so an
    interrupted save leaves the previous checkpoints and the state file as they were (the
    state file is rewritten, also atomically, only after the checkpoint is complete). Restoring
    reads and checks every dtype, shape and checksum before assigning anything.
"""
from tensorweave.checkpoint.checkpoint import Checkpoint, CheckpointOptions  # noqa: F401
from tensorweave.checkpoint.manager import CheckpointManager  # noqa: F401
from tensorweave.checkpoint.reader import (  # noqa: F401
    CheckpointReader, list_variables, load_checkpoint, load_variable)
from tensorweave.checkpoint.state import (  # noqa: F401
    CheckpointState, get_checkpoint_state, latest_checkpoint)
