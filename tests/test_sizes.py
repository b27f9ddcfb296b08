"""The size limits, checked on the source with `ast`: no module over 400 lines and no function
over 60 (database migrations aside), each offender named, so that a module or function that
grows past them is split when it does, not in a clean-up later."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hotpapers"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def oversized(root: Path) -> list[str]:
    """One line per module over MAX_MODULE_LINES and per function (methods and nested
    functions too, from `def` to its last line) over MAX_FUNCTION_LINES."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        lines = len(text.splitlines())
        if lines > MAX_MODULE_LINES:
            found.append(f"{relative}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{relative}:{node.lineno} {node.name}: {length} lines")
    return found


def test_no_module_or_function_is_over_the_limits() -> None:
    assert oversized(PACKAGE) == []


def _function(name: str, body_lines: int, indent: str = "") -> str:
    return f"{indent}def {name}():\n" + f"{indent}    x = 1\n" * body_lines


def test_the_check_names_each_offender(tmp_path: Path) -> None:
    root = tmp_path / "hotpapers"
    (root / "jobs").mkdir(parents=True)
    (root / "store" / "migrations").mkdir(parents=True)
    (root / "jobs" / "long.py").write_text(
        _function("fits", MAX_FUNCTION_LINES - 1) + _function("too_long", MAX_FUNCTION_LINES)
        + "class Job:\n" + _function("method", MAX_FUNCTION_LINES + 5, "    "))
    (root / "big.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    (root / "fine.py").write_text("x = 1\n" * MAX_MODULE_LINES)
    (root / "store" / "migrations" / "0001.py").write_text(
        _function("upgrade", 500) + "x = 1\n" * 500)
    too_long_at = MAX_FUNCTION_LINES + 1
    assert oversized(root) == [
        f"big.py: {MAX_MODULE_LINES + 1} lines",
        f"jobs/long.py:{too_long_at} too_long: {MAX_FUNCTION_LINES + 1} lines",
        f"jobs/long.py:{too_long_at + MAX_FUNCTION_LINES + 2} method: "
        f"{MAX_FUNCTION_LINES + 6} lines",
    ]
