"""keras.utils.Progbar: the progress line of fit, evaluate and predict.

On a terminal (or in a notebook) the line is redrawn in place, with Keras's colours. Written to a
file or a pipe it carries no escape codes and no carriage returns: one plain line per finished epoch
(and one every `log_interval` seconds on long epochs), so logs stay readable.
"""
from __future__ import annotations

import math
import os
import sys
import time
from typing import Optional

import numpy as np

_BOLD, _GREEN, _GREY, _RESET = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"


def _interactive() -> bool:
    stream = sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) or "ipykernel" in sys.modules \
        or "PYCHARM_HOSTED" in os.environ


class Progbar:
    """A progress bar for `target` steps (None when unknown)."""

    log_interval = 60.0  # seconds between interim lines when the output is not a terminal

    def __init__(self, target: Optional[int], width: int = 20, verbose: int = 1,
                 interval: float = 0.05, stateful_metrics=None, stateless_metrics=None,
                 unit_name: str = "step"):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Only one of `stateful_metrics` or `stateless_metrics` can be "
                             "provided.")
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        # A stateless metric's shown value is its average over the steps; a stateful one (the
        # running result of a Keras metric) is shown as it is.
        self.stateful_metrics = set(stateful_metrics or ()) if stateless_metrics is None else None
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        self._dynamic_display = _interactive()
        self._seen_so_far = 0
        self._values: dict = {}
        self._start = time.time()
        # in a log, the first interim line comes after `log_interval`, not at the first step
        self._last_update = 0.0 if self._dynamic_display else self._start
        self._time_after_first_step = None
        self._prev_total_width = 0

    def _is_stateless(self, name: str) -> bool:
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current: int, values=None, finalize: Optional[bool] = None) -> None:
        """Moves the bar to step `current` with `values`, a list of (name, value) pairs."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or ():
            if self._is_stateless(name):
                if finalize:
                    self._values[name] = [value, 1]
                else:
                    steps = max(current - self._seen_so_far, 1)
                    total, count = self._values.get(name, [0.0, 0])
                    self._values[name] = [total + value * steps, count + steps]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current
        now = time.time()
        per_step = self._step_duration(current, now)
        if self.verbose == 1:
            wait = self.interval if self._dynamic_display else self.log_interval
            if not finalize and now - self._last_update < wait:
                return
            self._write_line(current, now, per_step, finalize)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            line = f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -" \
                   f"{_format_time(per_step, self.unit_name)}{self._metrics_text()}\n"
            _write(line)
        self._last_update = now

    def add(self, n: int, values=None) -> None:
        self.update(self._seen_so_far + n, values)

    def _write_line(self, current: int, now: float, per_step: float, finalize: bool) -> None:
        color = self._dynamic_display
        if self.target:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = int(self.width * current / self.target)
            if color:
                filled = f"{_GREEN}{'━' * done}{_RESET}" if done else ""
                bar = f"{_BOLD}{count}{_RESET} {filled}{_GREY}{'━' * (self.width - done)}{_RESET}"
            else:
                bar = f"{count} {'━' * self.width}" if finalize else \
                    f"{count} {'━' * done}{'─' * (self.width - done)}"
        else:
            bar = f"{current:7d}/Unknown"
        if self.target and not finalize:
            clock = _format_eta(per_step * (self.target - current))
        else:
            clock = f"{now - self._start:.0f}s"
        info = f" {_BOLD}{clock}{_RESET}" if color else f" {clock}"
        info += _format_time(per_step, self.unit_name) + self._metrics_text()
        if color:
            width = len(_strip(bar)) + len(_strip(info))
            line = "\b" * self._prev_total_width + "\r" + bar + info
            if self._prev_total_width > width:
                line += " " * (self._prev_total_width - width)
            self._prev_total_width = width
            _write(line + ("\n" if finalize else ""))
        else:
            _write(bar + info + "\n")

    def _metrics_text(self) -> str:
        text = ""
        for name, (total, count) in self._values.items():
            if isinstance(total, (str, bytes)):
                text += f" - {name}: {total}"
                continue
            average = float(np.mean(total)) / max(1, count)
            text += f" - {name}: {average:.4f}" if abs(average) > 1e-3 else \
                f" - {name}: {average:.4e}"
        return text

    def _step_duration(self, current: int, now: float) -> float:
        # the first step (tracing, warm-up) is left out of the estimate once there are others
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_step = (now - self._time_after_first_step) / (current - 1)
        else:
            per_step = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_step


def _strip(text: str) -> str:
    for code in (_BOLD, _GREEN, _GREY, _RESET):
        text = text.replace(code, "")
    return text


def _format_eta(seconds: float) -> str:
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


def _format_time(per_step: float, unit: str) -> str:
    if per_step >= 1 or per_step == 0:
        return f" {per_step:.0f}s/{unit}"
    if per_step >= 1e-3:
        return f" {per_step * 1e3:.0f}ms/{unit}"
    return f" {per_step * 1e6:.0f}us/{unit}"


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
