"""The reference tools' own virtual environment, `bench/.venv-ref` (created once, stamped).

openbadges-bakery 2.0.0 and badgecheck 1.2.0 pin old libraries, so they never enter the app's
`.venv`: they live in `bench/.venv-ref` (Python 3.11) and only ever run in subprocesses of
`bench/.venv-ref/bin/python` (see `bench/refworker.py`).

Install recipe (badgecheck's own pins do not install on Python 3.11):
    python3.11 -m venv bench/.venv-ref
    bench/.venv-ref/bin/python -m pip install -r bench/requirements-reference.txt
    bench/.venv-ref/bin/python -m pip install --no-deps badgecheck==1.2.0
The stamp file records a hash of the requirements, the badgecheck pin and the interpreter version;
any change rebuilds the environment from scratch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
VENV = BENCH_DIR / ".venv-ref"
REQUIREMENTS = BENCH_DIR / "requirements-reference.txt"
BADGECHECK = "badgecheck==1.2.0"
STAMP = VENV / ".bench-stamp"


def ref_python() -> Path:
    return VENV / "bin" / "python"


def _find_python311() -> str:
    if sys.version_info[:2] == (3, 11):
        return sys.executable
    found = shutil.which("python3.11")
    if found:
        return found
    raise SystemExit("bench: Python 3.11 is needed for the reference tools (python3.11 not found)")


def _stamp_text(python: str) -> str:
    version = subprocess.run([python, "-c", "import sys; print(sys.version)"], check=True,
                             capture_output=True, text=True).stdout.strip()
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return f"{digest} {BADGECHECK} {version}\n"


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"bench: failed to set up bench/.venv-ref: {' '.join(command)}")


def ensure_reference_env(log=print) -> Path:
    """Create (or re-create when stale) bench/.venv-ref and return its python."""
    python = _find_python311()
    wanted = _stamp_text(python)
    if STAMP.exists() and STAMP.read_text() == wanted and ref_python().exists():
        return ref_python()
    log("bench: setting up the reference tools in bench/.venv-ref (once) …")
    if VENV.exists():
        shutil.rmtree(VENV)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([python, "-m", "venv", str(VENV)], check=True)
    pip = [str(ref_python()), "-m", "pip", "install", "--quiet"]
    _run(pip + ["-r", str(REQUIREMENTS)], env)
    _run(pip + ["--no-deps", BADGECHECK], env)
    # Smoke test: both tools import.
    _run([str(ref_python()), "-c", "import openbadges_bakery, openbadges.verifier"], env)
    STAMP.write_text(wanted)
    log("bench: reference tools ready")
    return ref_python()


if __name__ == "__main__":
    print(ensure_reference_env())
