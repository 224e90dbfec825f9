"""Output folders written whole or not at all.

Everything goes to a temporary sibling folder that is renamed into place at the end, so an
interrupted run leaves the previous folder (a plan, a comparison, a sweep) untouched; two
runs writing the same folder at once are kept apart by an exclusive lock.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from .errors import InputError, Problem


def check_output_folder(out: Path, force: bool) -> None:
    """An existing output folder is replaced only with ``force``, and never if it is a file
    (said first: --force would not help)."""
    if out.exists() and not out.is_dir():
        raise InputError(
            Problem(
                file=str(out),
                message="exists and is not a folder",
                fix="choose another --out (a file is never replaced, even with --force)",
            )
        )
    if out.exists() and not force:
        raise InputError(
            Problem(
                file=str(out),
                message="the output folder already exists",
                fix="choose another --out or pass --force to replace it",
            )
        )


def write_folder_atomically(out: Path, fill: Callable[[Path], None]) -> Path:
    """Let ``fill`` write into a temporary sibling folder, then rename it to ``out``.

    A failure or interruption anywhere in ``fill`` removes the temporary folder and leaves
    ``out`` (a previous plan, say) exactly as it was; an existing ``out`` is swapped out
    only after the new folder is complete.

    Two runs writing the same ``out`` at once: the whole write happens under an exclusive
    lock on a sibling lock file, so the second run is refused at once (InputError) instead
    of replacing the first one's folder; and an ``out`` that did not exist when this call
    began but appeared before the rename (another run finished first) is never replaced,
    since only the caller's check (:func:`check_output_folder`, with ``force``) allows
    replacing a folder that was already there.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    existed = out.exists()
    with _exclusive_writer(out):
        _refuse_if_appeared(out, existed)
        _remove_leftovers(out)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
        try:
            # mkdtemp makes the folder private (0700); an output folder is an ordinary one
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)
            fill(staging)
            _refuse_if_appeared(out, existed)
            if out.exists():
                retired = Path(
                    tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent)
                )
                os.rename(out, retired / "previous")
                os.rename(staging, out)
                shutil.rmtree(retired, ignore_errors=True)
            else:
                os.rename(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return out


def _leftover_name(out: Path) -> re.Pattern:
    """The name :func:`write_folder_atomically` gives its staging folders beside ``out``
    (``.NAME.x8k2q1zv.partial``); the random part has no dot, so another output's staging
    folders (``.NAME.v2.x8k2q1zv.partial`` for ``NAME.v2``) never match."""
    return re.compile(rf"\.{re.escape(out.name)}\.[^./]+\.partial")


def _remove_leftovers(out: Path) -> None:
    """Remove the staging folders of earlier writes to ``out`` that never finished: a run
    killed outright (SIGKILL, the machine going down, a Dask worker ended by its nanny)
    cannot clean up after itself, and its half-written folder would stay beside ``out`` for
    good. Called under ``out``'s lock, so no other run is writing them. (A retired ``.old``
    folder is left alone: a kill between the two renames leaves the previous plan there.)"""
    pattern = _leftover_name(out)
    for sibling in out.parent.iterdir():
        if pattern.fullmatch(sibling.name) and sibling.is_dir() and not sibling.is_symlink():
            shutil.rmtree(sibling, ignore_errors=True)


def _refuse_if_appeared(out: Path, existed: bool) -> None:
    if out.exists() and not existed:
        raise InputError(
            Problem(
                file=str(out),
                message="the output folder was written by another run while this one "
                "was working; it was left as that run wrote it",
                fix="choose another --out, or pass --force to replace it",
            )
        )


@contextmanager
def _exclusive_writer(out: Path):
    """Hold an exclusive ``flock`` on ``.NAME.lock`` beside ``out`` while writing it.

    The kernel drops the lock when the process ends, even killed, so a crash never leaves
    a stale lock. The file is removed on release; a run that opened it just before the
    removal sees its inode gone and opens the new one.
    """
    lock_path = out.parent / f".{out.name}.lock"
    while True:
        handle = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(handle)
            raise InputError(
                Problem(
                    file=str(out),
                    message="another run is writing this output folder right now; "
                    "nothing was written by this one",
                    fix="wait for the other run to finish, or choose another --out",
                )
            ) from None
        try:
            same = os.stat(lock_path).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(handle)
    try:
        yield
    finally:
        try:
            os.unlink(lock_path)
        except FileNotFoundError:
            pass
        os.close(handle)
