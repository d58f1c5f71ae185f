"""The `checkpoint` state file of a directory (TensorFlow's text format), `latest_checkpoint`
and `get_checkpoint_state`.

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"
    all_model_checkpoint_timestamps: 1700000000.5
    ...
    last_preserved_timestamp: 1699999999.0

Paths inside the directory are written relative to it; reading makes them full paths again.
"""
from __future__ import annotations

import json
import os
import re

from tensorweave.checkpoint import format as fmt

STATE_FILE = "checkpoint"


class CheckpointState:
    """TensorFlow's CheckpointState message: the latest checkpoint and the ones kept."""

    def __init__(self, model_checkpoint_path: str = "", all_model_checkpoint_paths=(),
                 all_model_checkpoint_timestamps=(), last_preserved_timestamp: float = 0.0):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = [float(t) for t in all_model_checkpoint_timestamps]
        self.last_preserved_timestamp = float(last_preserved_timestamp)

    def __str__(self):
        lines = []
        if self.model_checkpoint_path:
            lines.append(f"model_checkpoint_path: {_quote(self.model_checkpoint_path)}")
        lines += [f"all_model_checkpoint_paths: {_quote(p)}"
                  for p in self.all_model_checkpoint_paths]
        lines += [f"all_model_checkpoint_timestamps: {t!r}"
                  for t in self.all_model_checkpoint_timestamps]
        if self.last_preserved_timestamp:
            lines.append(f"last_preserved_timestamp: {self.last_preserved_timestamp!r}")
        return "".join(line + "\n" for line in lines)

    def __repr__(self):
        return str(self)

    def __eq__(self, other):
        return isinstance(other, CheckpointState) and str(self) == str(other)


def _quote(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


_LINE = re.compile(r'^\s*(\w+)\s*:\s*(.*?)\s*$')


def parse(text: str) -> CheckpointState:
    state = CheckpointState()
    for line in text.splitlines():
        if not line.strip():
            continue
        match = _LINE.match(line)
        if match is None:
            raise ValueError(f"Unparseable line in checkpoint state file: {line!r}")
        field, value = match.groups()
        if field in ("model_checkpoint_path", "all_model_checkpoint_paths"):
            value = json.loads(value) if value.startswith('"') else value
            if field == "model_checkpoint_path":
                state.model_checkpoint_path = value
            else:
                state.all_model_checkpoint_paths.append(value)
        elif field == "all_model_checkpoint_timestamps":
            state.all_model_checkpoint_timestamps.append(float(value))
        elif field == "last_preserved_timestamp":
            state.last_preserved_timestamp = float(value)
        else:
            raise ValueError(f"Unknown field {field!r} in checkpoint state file")
    return state


def _relative(directory: str, path: str) -> str:
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory):
        return os.path.basename(path)
    return path


def write_state(directory: str, model_checkpoint_path: str, all_model_checkpoint_paths=(),
                all_model_checkpoint_timestamps=(), last_preserved_timestamp=None,
                latest_filename=None) -> None:
    """Writes the state file of `directory` atomically (paths inside it made relative)."""
    directory = directory or "."
    paths = list(all_model_checkpoint_paths)
    if model_checkpoint_path and (not paths or paths[-1] != model_checkpoint_path):
        paths = [p for p in paths if p != model_checkpoint_path] + [model_checkpoint_path]
    state = CheckpointState(_relative(directory, model_checkpoint_path),
                            [_relative(directory, p) for p in paths],
                            all_model_checkpoint_timestamps,
                            last_preserved_timestamp or 0.0)
    text = str(state).encode("utf-8")
    os.makedirs(directory, exist_ok=True)
    fmt.write_atomically(os.path.join(directory, latest_filename or STATE_FILE),
                         lambda stream: stream.write(text))


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The CheckpointState of `checkpoint_dir` (full paths), or None without a state file."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or STATE_FILE)
    try:
        with open(path, "r", encoding="utf-8") as stream:
            text = stream.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    state = parse(text)
    if not state.model_checkpoint_path:
        raise ValueError(f"Invalid checkpoint state loaded from {checkpoint_dir}")

    def full(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    state.model_checkpoint_path = full(state.model_checkpoint_path)
    state.all_model_checkpoint_paths = [full(p) for p in state.all_model_checkpoint_paths]
    return state


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, or None (no state file,
    or its checkpoint is missing)."""
    try:
        state = get_checkpoint_state(checkpoint_dir, latest_filename)
    except ValueError:
        return None
    if state is None or not state.model_checkpoint_path:
        return None
    if fmt.checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None
