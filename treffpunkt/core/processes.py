"""Background processes the workspace starts (Label Studio, the ML backend): are they alive, stop them."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path


def alive(pid: int, *, command_contains: tuple[bytes, ...] = ()) -> bool:
    """Whether ``pid`` runs (not a zombie) and, given ``command_contains``, its command line has one of them
    (a guard against a recycled pid)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # a dead child not yet reaped by its parent is a zombie: gone
        if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
            return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if command_contains and cmdline.exists():
        try:
            command = cmdline.read_bytes()
        except OSError:
            return False
        return any(marker in command for marker in command_contains)
    return True


def terminate(pid: int, *, timeout: float, group: bool, command_contains: tuple[bytes, ...] = ()) -> None:
    """SIGTERM (to the process group when ``group``: started with start_new_session), SIGKILL after ``timeout``."""

    def send(sig: signal.Signals) -> None:
        try:
            os.killpg(pid, sig) if group else os.kill(pid, sig)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, sig)

    def reap() -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    send(signal.SIGTERM)
    began = time.monotonic()
    while alive(pid, command_contains=command_contains) and time.monotonic() - began < timeout:
        reap()
        time.sleep(0.2)
    if alive(pid, command_contains=command_contains):
        send(signal.SIGKILL)
        reap()
