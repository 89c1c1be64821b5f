"""Child processes that die with their parent (Linux): one helper shared by the RQ work horse, the
ffmpeg it runs and the scanner's probe processes, so that no child outlives a parent killed outright.
"""
from __future__ import annotations

import ctypes
import signal

#: prctl option number, from <linux/prctl.h>.
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:  # pragma: no cover - runs in a child (between fork and exec, or first thing)
    """Ask the kernel to SIGKILL the calling process when its parent exits, even by SIGKILL
    (prctl(PR_SET_PDEATHSIG), Linux). Does nothing where prctl is missing; never raises."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
