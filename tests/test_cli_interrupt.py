"""Ctrl-C while `remise` is still importing its command line: exit 130, no traceback."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from api import launch


class _CtrlCDuringImport(importlib.abc.MetaPathFinder):
    """Interrupts the import of the command line, as a Ctrl-C in its first second does."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname == "api.cli":
            raise KeyboardInterrupt
        return None


def test_ctrl_c_while_the_command_line_imports_exits_130_quietly(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the command line not imported yet, and a Ctrl-C arriving during its import
    monkeypatch.delitem(sys.modules, "api.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_CtrlCDuringImport(), *sys.meta_path])

    # when the console script starts
    with pytest.raises(SystemExit) as ended:
        launch.main()

    # then it ends as an interrupted command does: 130, and nothing printed
    assert ended.value.code == 130
    assert capsys.readouterr().err == ""


def test_the_console_script_runs_the_command_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given `remise --version`, when the console script runs it
    monkeypatch.setattr(sys, "argv", ["remise", "--version"])
    with pytest.raises(SystemExit) as ended:
        launch.main()

    # then the command line answered
    assert ended.value.code in (0, None)
    assert capsys.readouterr().out.startswith("remise ")


def test_python_dash_m_api_launch_runs_the_command_line() -> None:
    # given the command line run as a module, as a checkout without the console script does
    ran = subprocess.run([sys.executable, "-m", "api.launch", "--version"],
                         capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[1])

    # then it answers as `remise --version` does, rather than exiting 0 having done nothing
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.startswith("remise ")
