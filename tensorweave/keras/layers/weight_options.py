"""The one place a layer turns its `<weight>_initializer`, `_regularizer` and `_constraint`
arguments into objects."""
from __future__ import annotations

from tensorweave.keras import constraints, initializers, regularizers


def set_weight_options(layer, **weights) -> None:
    """`<name>_initializer`, `_regularizer` and `_constraint` attributes for each named weight,
    from its (initializer, regularizer, constraint) identifiers."""
    for name, (initializer, regularizer, constraint) in weights.items():
        setattr(layer, f"{name}_initializer", initializers.get(initializer))
        setattr(layer, f"{name}_regularizer", regularizers.get(regularizer))
        setattr(layer, f"{name}_constraint", constraints.get(constraint))
