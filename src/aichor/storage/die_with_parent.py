"""Exec a command that dies with the process that started it: `die_with_parent.py PID -- argv…`.

Run by path (`python -S -I …`) by `s3_server.py` for each embedded S3 endpoint, so it imports
only os, sys, signal and ctypes. It asks the kernel to SIGKILL it when its parent thread ends
(`PR_SET_PDEATHSIG`, kept across exec), checks the parent is still `PID` (it may have died
before the request), then execs argv: an `rclone serve s3` never outlives a killed server.
Chosen over `preexec_fn`, which is unsafe in a threaded server.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(args: list[str]) -> None:
    parent, separator, *argv = args
    if separator != "--" or not argv:
        sys.exit("usage: die_with_parent.py PID -- COMMAND...")
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != int(parent):
        sys.exit(1)  # the server is already gone
    os.execvp(argv[0], argv)  # noqa: S606 - a fixed argv list, never a shell string


if __name__ == "__main__":
    main(sys.argv[1:])
