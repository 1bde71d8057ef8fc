"""The process's own memory as Linux reports it in /proc.

Standard library only: besides our side (bench/probe.py, bench/cases_sync.py), the reference worker
imports it under bench/.venv-ref as the top-level module `procmem` (bench/refworker.py runs as a
script, so this folder is on its path); nothing of the app comes with it.
"""

from __future__ import annotations


def status(field: str) -> int:
    """A size field of /proc/self/status (VmRSS, VmHWM…) in bytes; 0 where there is none."""
    with open("/proc/self/status") as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss() -> int:
    return status("VmRSS")


def peak() -> int:
    """The resident set's high-water mark (VmHWM)."""
    return status("VmHWM")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux `clear_refs` 5) so the peak covers only what follows;
    False where the kernel does not allow it (the peak may then predate what is measured)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False
