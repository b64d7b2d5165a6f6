"""A watchdog that ends what a run started when the run itself is killed (even by SIGKILL).

The local pool's workers die with their parent through ``PR_SET_PDEATHSIG`` (see ``bulk.py``).
A local Ray cluster started by ``ray.init()`` cannot be armed that way: its GCS, raylet, agents
and workers are started by Ray, and some of them (the dashboard and runtime-env agents) outlive a
SIGKILLed driver. :func:`start_reaper` starts a small process in a session of its own that looks
at the run's process every half second, remembers every process descending from it (with its
start time, so a recycled pid is never touched), and when the run is gone sends SIGKILL to those
of them still alive, then exits. It kills nothing but the run's own descendants.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Final

_INTERVAL_S: Final = 0.5

_WATCH: Final = r"""
import os, signal, sys, time
driver = int(sys.argv[1]); me = os.getpid()

def stat(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), fields[19], fields[0]  # ppid, start time, state

born = stat(driver)
known = {}
while born is not None:
    now = stat(driver)
    if now is None or now[1] != born[1] or now[2] == "Z":
        break
    table = {}
    for d in os.listdir("/proc"):
        if d.isdigit() and int(d) != me:
            s = stat(int(d))
            if s is not None:
                table[int(d)] = s
    todo, seen = [driver], {driver}
    while todo:
        parent = todo.pop()
        for pid, (ppid, start, _state) in table.items():
            if ppid == parent and pid not in seen:
                seen.add(pid); todo.append(pid); known[pid] = start
    time.sleep(float(sys.argv[2]))
for pid, start in known.items():
    s = stat(pid)
    if s is not None and s[1] == start:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
"""


def start_reaper() -> subprocess.Popen[bytes] | None:
    """Watch this process; None where there is no ``/proc`` to watch it with (not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    return subprocess.Popen(
        [sys.executable, "-c", _WATCH, str(os.getpid()), str(_INTERVAL_S)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a signal to the run's process group does not reach it
        close_fds=True,
    )
