"""The layer picture of docs/architecture.md, checked on the source with `ast`: which layer
may import which, and no module name shared by two layers."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hotpapers"

# Modules at the package root: plain data and shared basics, used by every layer.
BASICS = {"hotpapers", "models", "arxiv_ids", "resolve", "errors", "config", "config_checks",
          "config_paths", "http", "secrets", "person_value", "gc_pause"}
LAYERS = {"sources", "store", "rank", "render", "site", "jobs", "publish", "web", "cli"}

# What each layer may import besides itself. Everything not listed is forbidden.
ALLOWED: dict[str, set[str]] = {
    "basics": BASICS,
    "rank": {"models", "errors", "person_value", "gc_pause"},  # pure: attention in, ranked rows out
    "render": {"models", "errors", "arxiv_ids"},  # pure: plain data in, text out
    "sources": BASICS,  # each API's answers into papers and mentions; never the store
    "store": {"hotpapers", "models", "errors", "secrets", "arxiv_ids", "person_value"},
    "site": {"hotpapers", "models", "errors", "render"},  # builds pages from data it is given
    "publish": BASICS,  # receives a finished digest: never ranks, renders or reads the store
    "jobs": BASICS | {"sources", "store", "rank", "render", "site", "publish"},
    "web": BASICS | {"jobs", "store", "site"},
    "cli": BASICS | LAYERS,  # web: `hotpapers serve` starts the web app
    "__main__": {"cli"},
}
# Names that mean the same role in each layer (a layer's base types, its registry ...).
GENERIC = {"__init__", "__main__", "base", "common", "registry"}


def layer_of(module: str) -> str:
    """`hotpapers.store.db` -> store; `hotpapers.models` -> models; `hotpapers` -> hotpapers."""
    parts = module.split(".")
    if len(parts) == 1:
        return "hotpapers"
    return parts[1]


def group_of(layer: str) -> str:
    return "basics" if layer in BASICS else layer


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
    return ".".join(parts)


def imports_of(path: Path, module: str) -> set[str]:
    """Every hotpapers module `path` imports, wherever the import sits (in functions and
    TYPE_CHECKING blocks too)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "hotpapers"}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "hotpapers":
                continue
            if target == "hotpapers":  # from hotpapers import arxiv_ids, __version__
                found |= {f"hotpapers.{a.name}" if a.name in BASICS else "hotpapers"
                          for a in node.names}
            else:
                found.add(target)
    return found


def violations(root: Path) -> list[str]:
    """One line per import that crosses the layer rules."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        module = module_name(path, root)
        mine = group_of(layer_of(module))
        allowed = ALLOWED.get(mine, set())
        for target in sorted(imports_of(path, module)):
            theirs = layer_of(target)
            if group_of(theirs) == mine or theirs in allowed:
                continue
            found.append(f"{module} imports {target}: {mine} may not import {theirs}")
    return found


def twins(root: Path) -> list[str]:
    """Module names found in two layers (a `fetch.py` job beside `cli/fetch.py`)."""
    where: dict[str, set[str]] = defaultdict(set)
    for path in root.rglob("*.py"):
        if "migrations" in path.parts or path.stem in GENERIC:
            continue
        layer = "root" if path.parent == root else layer_of(module_name(path, root))
        where[path.stem].add(layer)
    return sorted(f"{name}: {', '.join(sorted(layers))}" for name, layers in where.items()
                  if len(layers) > 1)


def transactions_outside_jobs(root: Path) -> list[str]:
    """Calls that open a transaction or a read on an engine (any `.begin()`;
    `engine.connect()`, `connect(url).connect()`), found outside jobs/ and store/."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        if layer_of(module) in ("jobs", "store"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = ast.unparse(node.func.value)
            if node.func.attr == "begin" or (
                    node.func.attr in ("connect", "raw_connection")
                    and ("engine" in receiver.lower() or receiver.startswith("connect("))):
                found.append(f"{module}:{node.lineno}: {ast.unparse(node.func)}()")
    return found


def test_only_jobs_open_transactions() -> None:
    """The CLI (and the web app) call a job; the job opens the transaction."""
    assert transactions_outside_jobs(PACKAGE) == []


def test_a_transaction_opened_by_the_cli_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"cli/main.py": "def post(engine):\n"
                            "    with engine.begin() as conn:\n        pass\n",
                            "cli/rank.py": "def rank(url):\n    connect(url).connect()\n"
                            "    db.begin()\n    socket.connect()\n",
                            "jobs/post.py": "def post(engine):\n    engine.connect()\n"})
    assert transactions_outside_jobs(root) == ["hotpapers.cli.main:2: engine.begin()",
                                               "hotpapers.cli.rank:2: connect(url).connect()",
                                               "hotpapers.cli.rank:3: db.begin()"]


def test_every_import_follows_the_layer_rules() -> None:
    assert violations(PACKAGE) == []


def test_no_module_name_is_used_by_two_layers() -> None:
    assert twins(PACKAGE) == []


def test_every_module_lives_in_a_known_layer() -> None:
    """A new top-level module or package is a decision: add it to the picture first."""
    known = BASICS | LAYERS | {"__main__", "data", "py"}
    strays = sorted(p.name for p in PACKAGE.iterdir()
                    if (p.suffix == ".py" or (p.is_dir() and (p / "__init__.py").exists()))
                    and p.name.removesuffix(".py") not in known | {"__init__"})
    assert strays == []


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "hotpapers"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in root.rglob("*.py")}:
        (folder / "__init__.py").touch()
    return root


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("publish/git.py", "from hotpapers.rank.hot import rank_hot\n",
     "hotpapers.publish.git imports hotpapers.rank.hot: publish may not import rank"),
    ("publish/git.py", "def f():\n    from hotpapers.jobs import digest\n",
     "hotpapers.publish.git imports hotpapers.jobs: publish may not import jobs"),
    ("rank/hot.py", "from hotpapers.store.db import connect\n",
     "hotpapers.rank.hot imports hotpapers.store.db: rank may not import store"),
    ("sources/hn.py", "from ..store import db\n",
     "hotpapers.sources.hn imports hotpapers.store: sources may not import store"),
    ("store/db.py", "import hotpapers.jobs.daily\n",
     "hotpapers.store.db imports hotpapers.jobs.daily: store may not import jobs"),
    ("models.py", "from hotpapers.render.lumen import render_lumen\n",
     "hotpapers.models imports hotpapers.render.lumen: basics may not import render"),
])
def test_the_rules_catch_an_import_across_them(tmp_path: Path, name: str, text: str,
                                               expected: str) -> None:
    assert violations(_tree(tmp_path, {name: text})) == [expected]


def test_the_rules_let_a_job_wire_the_layers(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"jobs/daily.py": "from hotpapers.store import db\n"
                            "from hotpapers.rank.hot import rank_hot\n"
                            "from hotpapers.render.lumen import render_lumen\n"
                            "from hotpapers import config\n"})
    assert violations(root) == []


def test_twins_are_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"fetch.py": "", "cli/fetch.py": "", "cli/base.py": "",
                            "publish/base.py": ""})
    assert twins(root) == ["fetch: cli, root"]


def unexplained_lazy_imports(root: Path) -> list[str]:
    """Imports inside functions, outside cli/, without a `# lazy: why` comment on their line
    or the line above (start-up time is the usual reason; the CLI imports lazily by design)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        if layer_of(module) == "cli" or "migrations" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for function in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    first = node.lineno - 1  # up over the imports just above it
                    while first > 0 and lines[first - 1].lstrip().startswith(("import ", "from ")):
                        first -= 1
                    if "# lazy:" not in " ".join(lines[max(first - 1, 0):node.lineno]):
                        found.append(f"{module}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_imports_sit_at_module_level_unless_a_comment_says_why() -> None:
    assert unexplained_lazy_imports(PACKAGE) == []


def test_an_unexplained_import_in_a_function_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"store/db.py": "def a():\n    import json\n\n\n"
                            "def b():\n    # lazy: slow to import\n    import alembic\n"
                            "    import alembic.config\n",
                            "cli/main.py": "def c():\n    import json\n"})
    assert unexplained_lazy_imports(root) == ["hotpapers.store.db:2: import json"]
