"""Writing a file so that readers see the old one or the complete new one, never a part: the
data goes to a temporary file beside the target, which replaces it in one `os.replace`."""
from __future__ import annotations

import contextlib
import os
import tempfile


def current_umask() -> int:
    """The process umask, read without changing it where /proc allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(filepath):
    """Yields a temporary path beside `filepath`; when the block ends without error the temporary
    file replaces `filepath` in one step (keeping its permissions), otherwise it is removed and
    `filepath` is untouched."""
    filepath = os.fspath(filepath)
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(filepath)}.tmp-", suffix=".tmp",
                               dir=directory)
    os.close(fd)
    try:
        yield tmp
        try:
            mode = os.stat(filepath).st_mode & 0o777
        except OSError:
            mode = 0o666 & ~current_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, filepath)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
