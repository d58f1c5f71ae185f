"""model.summary(): Keras 3's table of layers, output shapes, parameter counts and connections,
drawn with the same box characters and column arithmetic."""
from __future__ import annotations

import math
import re
import shutil
import sys

from tensorweave.util import nest


def _format_shape(shape) -> str:
    return f"({', '.join(str(d) for d in shape)})"


def _shape_text(layer) -> str:
    from tensorweave.keras.engine.layer import Layer
    nodes = getattr(layer, "_inbound_nodes", [])
    if nodes:
        outputs = nodes[-1].output_structure
        shapes = nest.map_structure(lambda t: _format_shape(t.shape), outputs)
    else:
        build_shapes = getattr(layer, "_build_shapes", None)
        if build_shapes is None or type(layer).compute_output_shape is Layer.compute_output_shape:
            return "?"
        try:
            out = layer.compute_output_shape(build_shapes)
        except NotImplementedError:
            return "?"
        if isinstance(out, tuple) and all(d is None or isinstance(d, int) for d in out):
            return _format_shape(out)
        shapes = [_format_shape(s) for s in out]
    flat = nest.flatten(shapes)
    return flat[0] if len(flat) == 1 else str(shapes).replace("'", "")


def _count(weights) -> int:
    return int(sum(math.prod(w.shape.as_list()) for w in weights))


def _memory(weights) -> float:
    unique = {id(w): w for w in weights}.values()
    return float(sum(math.prod(w.shape.as_list()) * w.dtype.size for w in unique))


def readable_size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} PB"


def _ratio_reduce(total: int, ratios: list, maximums: list, values: list) -> list:
    """Takes `total` cells away from the columns in proportion to `ratios` (rich's rule)."""
    total_ratio = sum(ratios)
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            taken = min(maximum, round(ratio * total / total_ratio))
            result.append(value - taken)
            total -= taken
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _wrap(text: str, width: int) -> list:
    """Lines of `text` at most `width` wide: broken between words (a word keeps the spaces
    before it only at the start of the text), words too long cut with '…'."""
    lines = []
    for paragraph in text.split("\n"):
        line = ""
        for word in re.findall(r"\s*\S+\s*", paragraph) or [""]:
            if line and len(line) + len(word.rstrip()) > width:
                lines.append(line.rstrip())
                line = word.lstrip()
            else:
                line += word
        lines.append(line.rstrip())
    return [line if len(line) <= width else line[:width - 1] + "…" for line in lines]


def _cell_lines(text: str, width: int, justify: str) -> list:
    inner = width - 2
    out = []
    for line in _wrap(text, inner):
        if justify == "right":
            line = line.rjust(inner)
        elif justify == "center":
            line = line.center(inner)
        else:
            line = line.ljust(inner)
        out.append(f" {line} ")
    return out


def _table(header: list, justify: list, rows: list, widths: list) -> list:
    def render(cells, bar, bottom=False):
        columns = [_cell_lines(c, w, j) for c, w, j in zip(cells, widths, justify)]
        height = max(len(c) for c in columns)
        columns = [[" " * w] * (height - len(c)) + c if bottom else
                   c + [" " * w] * (height - len(c)) for c, w in zip(columns, widths)]
        return [bar + bar.join(parts) + bar for parts in zip(*columns)]

    lines = ["┏" + "┳".join("━" * w for w in widths) + "┓"]
    lines += render(header, "┃", bottom=True)
    lines.append("┡" + "╇".join("━" * w for w in widths) + "┩")
    for i, row in enumerate(rows):
        if i:
            lines.append("├" + "┼".join("─" * w for w in widths) + "┤")
        lines += render(row, "│")
    lines.append("└" + "┴".join("─" * w for w in widths) + "┘")
    return lines


def _layer_range(layers: list, layer_range) -> tuple:
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(f"layer_range must be a list or tuple of length 2. Received: "
                         f"layer_range = {layer_range} of length {len(layer_range)}")
    if not all(isinstance(x, str) for x in layer_range):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, l in enumerate(layers) if re.match(layer_range[0], l.name)]
    upper = [i for i, l in enumerate(layers) if re.match(layer_range[1], l.name)]
    if not lower or not upper:
        raise ValueError("Passed layer_names do not match the layer names in the model. "
                         f"Received: {layer_range}")
    return min(lower), max(upper) + 1


def _is_sequential_like(model) -> tuple:
    """(sequential_like, layers, the model's nodes) as Keras decides what to show."""
    from tensorweave.keras.engine.functional import Functional
    from tensorweave.keras.engine.sequential import Sequential
    if isinstance(model, Sequential) or not isinstance(model, Functional):
        return True, model.layers, []
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        nodes += depth_nodes
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and
                                    len(depth_nodes[0].input_tensors) > 1):
            return False, model._operations, nodes
    for layer in model.layers:
        if sum(1 for node in layer._inbound_nodes if any(node is n for n in nodes)) > 1:
            return False, model._operations, nodes
    return True, model._operations, nodes


def summary_text(model, line_length=None, positions=None, expand_nested: bool = False,
                 show_trainable: bool = False, layer_range=None) -> str:
    sequential_like, layers, nodes = _is_sequential_like(model)
    if sequential_like:
        default_length, default_positions = 88, [0.45, 0.80, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #"]
        justify = ["left", "left", "right"]
    else:
        default_length, default_positions = 108, [0.3, 0.56, 0.74, 1.0]
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        justify = ["left", "left", "right", "left"]
    positions = list(positions or default_positions)
    if show_trainable:
        default_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        justify.append("center")
    default_length = min(default_length, shutil.get_terminal_size().columns - 4)
    line_length = line_length or default_length
    if positions[-1] <= 1:
        positions = [int(p * line_length) for p in positions]
    widths, current = [], 0
    for position in positions:
        width = int(position) - current
        if width < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width)
        current += width
    widths = [w + 2 for w in widths]
    excess = sum(widths) - (line_length - len(widths) - 1)
    if excess > 0:
        widths = _ratio_reduce(excess, [1] * len(widths), widths, widths)

    def connections(layer) -> str:
        parts = []
        for node in layer._inbound_nodes:
            if nodes and all(node is not n for n in nodes):
                continue
            for tensor in node.input_tensors:
                operation, node_index, tensor_index = tensor._keras_history
                parts.append(f"{operation.name}[{node_index}][{tensor_index}]")
        return ", ".join(parts) or "-"

    def fields(layer, prefix: str) -> list:
        if not getattr(layer, "built", True):
            params = "0 (unbuilt)"
        else:
            params = f"{layer.count_params():,}"
        row = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape_text(layer), params]
        if not sequential_like:
            row.append(connections(layer))
        if show_trainable:
            row.append(("Y" if layer.trainable else "N") if layer.weights else "-")
        return row

    def rows_of(layer, level: int) -> list:
        prefix = "   " * level + "└ " if level else ""
        rows = [fields(layer, prefix)]
        sublayers = getattr(layer, "layers", None) if expand_nested else None
        if sublayers:
            for sub in sublayers:
                rows += rows_of(sub, level + 1)
        return rows

    start, stop = _layer_range(layers, layer_range)
    rows = []
    for layer in layers[start:stop]:
        rows += rows_of(layer, 0)
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    lines = [f'Model: "{model.name}"'] + _table(header, justify, rows, widths)
    optimizer = getattr(model, "optimizer", None)
    optimizer_variables = list(getattr(optimizer, "variables", []) or []) \
        if optimizer is not None and getattr(optimizer, "built", False) else []
    total = _count(trainable) + _count(non_trainable) + _count(optimizer_variables)
    total_size = _memory(trainable) + _memory(non_trainable) + _memory(optimizer_variables)
    lines.append(f" Total params: {total:,} ({readable_size(total_size)})")
    lines.append(f" Trainable params: {_count(trainable):,} "
                 f"({readable_size(_memory(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable):,} "
                 f"({readable_size(_memory(non_trainable))})")
    if optimizer_variables:
        lines.append(f" Optimizer params: {_count(optimizer_variables):,} "
                     f"({readable_size(_memory(optimizer_variables))})")
    return "\n".join(lines) + "\n"


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  expand_nested: bool = False, show_trainable: bool = False,
                  layer_range=None) -> None:
    text = summary_text(model, line_length, positions, expand_nested, show_trainable,
                        layer_range)
    if print_fn is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        print_fn(text)
