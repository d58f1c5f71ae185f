"""The public entry points of tf.autograph: to_graph, to_code, and the experimental options."""
from __future__ import annotations

import enum
import types

from tensorweave.autograph import conversion


class Feature(enum.Enum):
    """tf.autograph.experimental.Feature: optional conversions (all are always on here)."""

    ALL = "ALL"
    AUTO_CONTROL_DEPS = "AUTO_CONTROL_DEPS"
    ASSERT_STATEMENTS = "ASSERT_STATEMENTS"
    BUILTIN_FUNCTIONS = "BUILTIN_FUNCTIONS"
    EQUALITY_OPERATORS = "EQUALITY_OPERATORS"
    LISTS = "LISTS"
    NAME_SCOPES = "NAME_SCOPES"


def _python_function(entity):
    inner = getattr(entity, "python_function", None)  # a tf.function
    return inner if inner is not None and not isinstance(entity, types.FunctionType) else entity


def to_graph(entity, recursive=True, experimental_optional_features=None):
    """The converted function: Python control flow over tensors becomes graph control flow."""
    entity = _python_function(entity)
    if not callable(entity):
        raise ValueError(f"Expected a Python function or method, got {entity!r}")
    return conversion.convert(entity)


def to_code(entity, recursive=True, experimental_optional_features=None) -> str:
    """The source code of the converted function, as a string."""
    return conversion.to_source(_python_function(entity))


def set_loop_options(parallel_iterations=None, swap_memory=None, maximum_iterations=None,
                     shape_invariants=None):
    """tf.autograph.experimental.set_loop_options: options of the loop whose body calls it.

    AutoGraph lifts the call out of the loop body and evaluates it before the loop;
    `shape_invariants` is a list of (loop variable, shape) pairs and `maximum_iterations` bounds
    a graph loop (both as in tf.while_loop). Returns the options given (TensorFlow returns None).
    """
    given = {"parallel_iterations": parallel_iterations, "swap_memory": swap_memory,
             "maximum_iterations": maximum_iterations, "shape_invariants": shape_invariants}
    return {k: v for k, v in given.items() if v is not None}
