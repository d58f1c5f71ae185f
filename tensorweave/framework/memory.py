"""How the process allocates large arrays, tuned once at import (Linux with glibc only).

By default glibc serves every allocation above 128 KiB with a fresh mmap and returns it to the
system when freed, so each new array of an op (a 128x512 activation, an optimizer's update of a
784x512 weight) starts with hundreds of page faults: a training step then costs up to twice its
arithmetic, and varies by ±50% from run to run. TensorFlow and PyTorch avoid this with caching
allocators; here glibc is asked to do the same: serve arrays up to 32 MiB from its heap and keep
freed memory for reuse instead of trimming it. The price is that the process keeps its peak heap.
Set TENSORWEAVE_SYSTEM_MALLOC=1 to leave glibc's defaults alone.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest allowed value on 64-bit systems
_TRIM_THRESHOLD = 256 * 1024 * 1024
_TOP_PAD = 64 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Applies the tuning; returns whether it took effect."""
    if not sys.platform.startswith("linux") or os.environ.get("TENSORWEAVE_SYSTEM_MALLOC") == "1":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    return all(mallopt(option, value) == 1 for option, value in (
        (_M_MMAP_THRESHOLD, _MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD),
        (_M_TOP_PAD, _TOP_PAD)))


TUNED = keep_freed_memory()
