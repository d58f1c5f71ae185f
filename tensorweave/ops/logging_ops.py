"""tf.print: prints tensors and Python structures, eagerly now or at every run of a tf.function.

The text is laid out as TensorFlow lays it out. Non-tensor inputs are formatted once, when
`tf.print` is called (a Python string as it is, anything else with `pprint.pformat`, where each
tensor of a nested structure stands as a placeholder); the tensors are formatted by the PrintV2
primitive each time it runs: the first and last `summarize` entries of every dimension, with
"..." between, elements written as TensorFlow's C++ runtime writes them (floats with the fewest
of 6 / 9 significant digits that read back exactly, 15 / 17 for doubles; bools as 1 and 0;
strings quoted and C-escaped).
"""
from __future__ import annotations

import logging
import math
import pprint
import sys

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import is_tensor
from tensorweave.util import nest

_logger = logging.getLogger("tensorflow")

# logging levels TensorFlow accepts as output streams: tf.compat.v1.logging.INFO, WARN, ERROR
_LEVELS = {logging.INFO: "log(info)", logging.WARNING: "log(warning)",
           logging.ERROR: "log(error)"}
_LEVEL_OF = {"log(info)": logging.INFO, "log(warning)": logging.WARNING,
             "log(error)": logging.ERROR}


# -- elements ----------------------------------------------------------------------------------
def _shortest_g(value: float, digits: int, more: int, kind) -> str:
    """`%g` with `digits` significant digits if that reads back as the same value, else `more`."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = "%.*g" % (digits, value)
    if kind(text) == kind(value):
        return text
    return "%.*g" % (more, value)


_ESCAPES = {0x0A: b"\\n", 0x0D: b"\\r", 0x09: b"\\t", 0x22: b'\\"', 0x27: b"\\'",
            0x5C: b"\\\\"}


def _escape(data: bytes) -> str:
    """C escaping that leaves bytes of UTF-8 sequences as they are (returned as text whose
    undecodable bytes are surrogate escapes)."""
    out = []
    for byte in data:
        escaped = _ESCAPES.get(byte)
        if escaped is None:
            escaped = b"\\%03o" % byte if byte < 0x20 or byte == 0x7F else bytes((byte,))
        out.append(escaped)
    return b"".join(out).decode("utf-8", "surrogateescape")


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    return bytes(value)


def _element_formatter(np_dtype: np.dtype):
    """The function writing one element of an array of this dtype."""
    kind = np_dtype.kind
    if kind == "b":
        return lambda v: "1" if v else "0"
    if kind in "iu":
        return lambda v: str(int(v))
    if kind == "f" or np_dtype.name == "bfloat16":
        if np_dtype == np.float64:
            return lambda v: _shortest_g(float(v), 15, 17, float)
        return lambda v: _shortest_g(float(v), 6, 9, np.float32)  # half and bfloat16 as float
    if kind in "OSU":
        return lambda v: '"' + _escape(_as_bytes(v)) + '"'
    return lambda v: "?"  # complex numbers and other kinds have no printed form


def _spacing(dim: int, rank: int) -> str:
    """What separates two entries of dimension `dim`: a space in the last dimension, else
    newlines (one more per level further out) and an indentation."""
    if dim == rank - 1:
        return " "
    return "\n" * (rank - dim - 1) + " " * (dim + 1)


def format_array(array, summarize) -> str:
    """A tensor's value as tf.print writes it."""
    array = np.asarray(array)
    element = _element_formatter(array.dtype)
    if array.ndim == 0:
        return element(array[()])
    count = array.size
    ends = count if summarize is None or summarize < 0 else min(int(summarize), count)
    rank = array.ndim
    parts = []

    def walk(sub, dim):
        if dim == rank:
            parts.append(element(sub))
            return
        parts.append("[")
        length = sub.shape[0]
        for i in range(min(ends, length)):
            if i:
                parts.append(_spacing(dim, rank))
            walk(sub[i], dim + 1)
        if length > 2 * ends:
            parts.append(_spacing(dim, rank))
            parts.append("...")
        for i in range(max(ends, length - ends), length):
            parts.append(_spacing(dim, rank))
            walk(sub[i], dim + 1)
        parts.append("]")

    walk(array, 0)
    return "".join(parts)


# -- writing -----------------------------------------------------------------------------------
def _write_text(stream, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (surrogate escapes): write them raw
        data = text.encode("utf-8", "surrogateescape")
        buffer = getattr(stream, "buffer", None)
        if buffer is None:
            stream.write(data.decode("utf-8", "backslashreplace"))
        else:
            stream.flush()
            buffer.write(data)
            buffer.flush()
    else:
        stream.write(text)
    stream.flush()


def _emit(text: str, stream: str) -> None:
    if stream == "stdout":
        _write_text(sys.stdout, text)
    elif stream == "stderr":
        _write_text(sys.stderr, text)
    elif stream.startswith("file://"):
        with open(stream[len("file://"):], "ab") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
    else:
        message = text[:-1] if text.endswith("\n") else text
        _logger.log(_LEVEL_OF[stream], "%s", message)


def _print_forward(*arrays, pieces, raw, summarize, stream, end):
    if raw:  # one scalar string tensor: its bytes, unquoted
        value = np.asarray(arrays[0])[()]
        text = _as_bytes(value).decode("utf-8", "surrogateescape")
    else:
        out = [pieces[0]]
        for array, piece in zip(arrays, pieces[1:]):
            out.append(format_array(array, summarize))
            out.append(piece)
        text = "".join(out)
    _emit(text + end, stream)
    return ()


PRINT_V2 = primitive("PrintV2", _print_forward, None, lambda *specs, **attrs: (),
                     multi_output=True, stateful=True)


# -- the public function -----------------------------------------------------------------------
def _stream_name(output_stream) -> str:
    if output_stream is sys.stdout:
        return "stdout"
    if output_stream is sys.stderr:
        return "stderr"
    level = _LEVELS.get(output_stream) if type(output_stream) is int else None
    if level is not None:
        return level
    level = _logging_function_level(output_stream)
    if level is not None:
        return level
    if isinstance(output_stream, str) and output_stream.startswith("file://"):
        return output_stream
    raise ValueError(f"Unsupported output stream, logging level, or file.{output_stream}. "
                     f"Supported streams are sys.stdout, sys.stderr, tf.logging.info, "
                     f"tf.logging.warning, tf.logging.error. File needs to be in the form of "
                     f"'file://<filepath>'.")


def _logging_function_level(output_stream):
    """The level of tf.compat.v1.logging.info/warning/error or absl.logging's, if it is one."""
    if not callable(output_stream):
        return None
    for module_name in ("tensorweave.compat.v1.logging", "absl.logging"):
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name, level in (("info", "log(info)"), ("warning", "log(warning)"),
                            ("warn", "log(warning)"), ("error", "log(error)")):
            if getattr(module, name, None) is output_stream:
                return level
    return None


def _placeholder(text: str) -> str:
    """A placeholder that does not occur in `text`."""
    mark, digit = "{}", 0
    while mark in text:
        mark += str(digit % 10)
        digit += 1
    return mark


def print(*inputs, **kwargs):  # noqa: A001 - TensorFlow's name
    """Prints the inputs (tensors, Python values, nested structures of them) to `output_stream`.

    Keyword arguments: output_stream=sys.stderr, summarize=3, sep=" ", end="\\n", name=None.
    Returns None; inside a tf.function it prints each time the function runs.
    """
    output_stream = kwargs.pop("output_stream", sys.stderr)
    summarize = kwargs.pop("summarize", 3)
    sep = kwargs.pop("sep", " ")
    end = kwargs.pop("end", "\n")
    kwargs.pop("name", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments for tf.print: {kwargs}")
    stream = _stream_name(output_stream)
    if summarize is None:
        summarize = 3
    summarize = int(summarize)

    if len(inputs) == 1 and is_tensor(inputs[0]):
        single = convert_to_tensor(inputs[0])
        if single.dtype == dtypes.string and single.shape.rank == 0:
            execute(PRINT_V2, (single,), {"pieces": ("", ""), "raw": True,
                                          "summarize": summarize, "stream": stream, "end": end})
            return None

    # tensors become placeholders in a template written by pprint, one per input
    tensor_free = nest.map_structure(lambda x: "" if is_tensor(x) else x, list(inputs))
    mark = _placeholder(" ".join(pprint.pformat(x) for x in tensor_free))
    tensors, templates = [], []
    for item in inputs:
        if isinstance(item, str):
            templates.append(item)
            continue
        leaves = []
        for leaf in nest.flatten(item):
            if is_tensor(leaf):
                tensors.append(convert_to_tensor(leaf))
                leaves.append(mark)
            else:
                leaves.append(leaf)
        templates.append(pprint.pformat(nest.pack_sequence_as(item, leaves)))
    template = sep.join(templates).replace(f"'{mark}'", mark)
    pieces = tuple(template.split(mark))
    if len(pieces) != len(tensors) + 1:  # a placeholder also in a Python string: keep order
        raise ValueError(f"tf.print could not lay out its inputs: {template!r}")
    execute(PRINT_V2, tuple(tensors), {"pieces": pieces, "raw": False, "summarize": summarize,
                                      "stream": stream, "end": end})
    return None
