"""Standard streams for a process started with some of them closed.

An unattended launcher may close what it does not read (``cmd >&- 2>&-``, some job runners
and daemon wrappers). Python then leaves ``sys.stdout`` / ``sys.stderr`` None, and the
closed descriptor is taken by the next file anything opens: importing the engine's
libraries opens /dev/null and a PROJ database, and progress lines, the summary and the
solver hand-over (which flushes ``sys.stdout`` and points descriptor 1 at /dev/null for a
moment to hide HiGHS's banner) then wrote into those or failed: the run ended with exit 1
or 120 and wrote nothing. So, before anything else is imported, each closed descriptor is
pointed at /dev/null (as a daemon does for itself), and a missing ``sys`` stream is opened
on it. An open descriptor is never touched.
"""

from __future__ import annotations

import os
import sys


def open_standard_streams() -> None:
    """Point closed descriptors 0, 1 and 2 at /dev/null and give ``sys`` their streams."""
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
        except OSError:
            # os.open takes the lowest free descriptor: fd itself when the lower ones are open
            null = os.open(os.devnull, os.O_RDONLY if fd == 0 else os.O_WRONLY)
            if null != fd:
                os.dup2(null, fd)
                os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, "r" if fd == 0 else "w", closefd=False))  # noqa: SIM115
