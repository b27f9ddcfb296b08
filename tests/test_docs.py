"""The README documents every command and setting, and CI runs the README's test command."""

from __future__ import annotations

import re

from conftest import ROOT
from hotpapers.cli import app
from hotpapers.config import Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.strip().splitlines()]


def command_names(typer_app, prefix: str = "hotpapers") -> list[str]:
    names = [f"{prefix} {c.name or c.callback.__name__}" for c in typer_app.registered_commands]
    for group in typer_app.registered_groups:
        names += command_names(group.typer_instance, f"{prefix} {group.name}")
    return names


def test_quick_start_has_exactly_two_commands_demo_and_tests():
    first, second = quick_start_commands()
    assert first.endswith("hotpapers demo") and "pip install ." in first
    assert "'.[test]'" in second and second.endswith("python -m pytest")


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci


def test_every_command_is_in_the_readme():
    names = command_names(app)
    assert "hotpapers legacy verify" in names and "hotpapers demo" in names
    missing = [n for n in names if f"`{n}" not in README]
    assert missing == []


def test_every_setting_is_in_the_readme():
    missing = [n for n in Settings.model_fields if f"| `{n}` |" not in README]
    assert missing == []
