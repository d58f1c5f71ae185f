"""The execution context: eager or graph-building, the active tapes, the device scope.

The op call path reads `state.graph` and `state.tapes` on every op. They are per thread, as in
TensorFlow: a tape or a graph being traced on one thread must not see ops that a tf.data worker
thread runs meanwhile (about 50 ns per op, against a thread-blind global).
"""
from __future__ import annotations

import contextlib
import threading


class _State(threading.local):
    def __init__(self):
        self.graph = None  # the graph being built, or None when ops run eagerly
        self.tapes = []  # GradientTapes currently recording, innermost last
        self.device = "/job:localhost/replica:0/task:0/device:CPU:0"
        self.variable_watchers = []  # callbacks told of every variable read (custom_gradient)


state = _State()


def executing_eagerly() -> bool:
    """True when ops run now, not into a graph (tf.executing_eagerly)."""
    return state.graph is None


@contextlib.contextmanager
def graph_scope(graph):
    """Builds ops into `graph` inside the block (used by tf.function tracing)."""
    previous = state.graph
    state.graph = graph
    try:
        yield graph
    finally:
        state.graph = previous


@contextlib.contextmanager
def tapes_paused():
    """Runs the block with no tape recording."""
    previous = state.tapes
    state.tapes = []
    try:
        yield
    finally:
        state.tapes = previous


@contextlib.contextmanager
def init_scope():
    """Runs the block eagerly, outside any graph being traced and any tape (tf.init_scope):
    how variables created while tracing get their initial values."""
    previous = state.graph, state.tapes
    state.graph, state.tapes = None, []
    try:
        yield
    finally:
        state.graph, state.tapes = previous
