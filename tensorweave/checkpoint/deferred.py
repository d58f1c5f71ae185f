"""Deferred restoration: the hooks through which objects created after a `restore` get their
checkpointed values (a Keras layer's weights made when it is first called, an optimizer's slots
made on its first step, a `save_counter` made on first use).

`Layer.add_weight`, `Layer.__setattr__` (for tracked values) and the optimizer's
`_track_variable` call the functions below. They cost one truthiness test while no restoration
waits for anything.
"""
from __future__ import annotations

active: list = []  # the restorations (restore.Restoration) still waiting for objects


def weight_created(layer, variable) -> None:
    """A layer made a weight."""
    if active:
        _notify(layer)


def attribute_set(owner, name, value) -> None:
    """A trackable value was set as an attribute of a layer (or of a Checkpoint)."""
    if active:
        _notify(owner)


def optimizer_variable_created(optimizer, variable) -> None:
    """An optimizer made (and tracked) a variable: perhaps a slot a restoration waits for."""
    if active:
        _notify(optimizer, variable)


def _notify(owner, variable=None) -> None:
    for restoration in list(active):
        restoration.on_new_objects(owner, variable)
        if restoration.done():
            try:
                active.remove(restoration)
            except ValueError:
                pass


def register(restoration) -> None:
    if not restoration.done() and all(r is not restoration for r in active):
        active.append(restoration)
