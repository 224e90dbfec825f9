"""Ctrl-C during a HiGHS solve in this process.

Why. highspy swallows a SIGINT that arrives while ``Highs.run()`` is under way: Python's
handler runs inside one of highspy's callbacks, the KeyboardInterrupt it raises dies there,
and the solve goes on to its end (an LP that took 69 s went on for all of it, and the
process then carried on as if nothing had happened). A planner who presses Ctrl-C, or a
script that sends SIGINT, would wait for the whole solve and then get a plan written. Found
by the CI test that interrupts ``plan --force``: it passed only when the signal happened to
land between solves.

How. For the length of a solve SIGINT gets a handler of our own, which only remembers that
it was asked (it raises nothing: raised inside a callback it would die there too), and HiGHS
gets one small callback on its interrupt checks (simplex, interior point, MIP) that tells it
to stop once asked. Once ``run()`` is back the old handler returns and KeyboardInterrupt is
raised, so the caller unwinds as from any Ctrl-C: nothing is written. The callback is
highspy's raw one, not its event layer (``HandleUserInterrupt``): that layer made every LP
of the engine 1.7 times slower (the 10,000 x 50 giant family's LP solves: 5.2, 4.4 and 4.8 s
against 2.9, 2.6 and 2.8 s). Outside the main thread (a Dask worker's thread) signal handlers
cannot be set, and where SIGINT is ignored (a run started in the background) it stays
ignored: the solve runs as before.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

#: the checks at which HiGHS asks whether to stop
CHECKS = ("kCallbackSimplexInterrupt", "kCallbackIpmInterrupt", "kCallbackMipInterrupt")


def _stop_when_asked(callback_type, message, data_out, data_in, asked: list) -> None:
    """HiGHS's callback at an interrupt check: stop once SIGINT came."""
    if asked and data_in is not None:
        data_in.user_interrupt = True


@contextmanager
def interruptible(highs):
    """Run the body (a ``highs.run()``) so that SIGINT stops the solve and then raises
    KeyboardInterrupt (module docstring)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:
        yield
        return
    from highspy import cb
    from highspy._core import _Highs

    checks = [getattr(cb.HighsCallbackType, name) for name in CHECKS]
    asked: list[int] = []
    _Highs.setCallback(highs, _stop_when_asked, asked)  # the raw callback, not the events
    for check in checks:
        highs.startCallback(check)
    signal.signal(signal.SIGINT, lambda signum, frame: asked.append(signum))
    try:
        yield
    finally:
        restored = previous if previous is not None else signal.default_int_handler
        signal.signal(signal.SIGINT, restored)
        for check in checks:
            highs.stopCallback(check)
        highs.enableCallbacks()  # highspy's own dispatcher back, for its event layer
    if asked:
        raise KeyboardInterrupt
