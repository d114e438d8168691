"""Product code never imports the test fixtures (voice.testing) or the test suite (tests).

Walks every module under voice/ (except voice/testing/) and services/ with `ast`, so an import
hidden inside a function (the usual place for heavy optional imports) is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = ("voice.testing", "tests")


def product_modules() -> list[Path]:
    out = []
    for top in ("voice", "services"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if path.relative_to(ROOT).parts[:2] != ("voice", "testing"):
                out.append(path)
    return out


def imported_names(source: str, module: str) -> list[tuple[int, str]]:
    """Every module name `source` (the module `module`, dotted) imports, relative imports resolved,
    with its line number; `from a import b` counts as both `a` and `a.b`."""
    package = module.split(".")[:-1]  # an __init__ module is passed as "pkg.__init__"
    names: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            parts = package[: len(package) - (node.level - 1)] if node.level else []
            base = ".".join(parts + ([node.module] if node.module else []))
            names.append((node.lineno, base))
            names += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return names


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_walk_finds_the_product():
    modules = {p.relative_to(ROOT).as_posix() for p in product_modules()}
    assert {"voice/agent/loop.py", "voice/asr/ct2_reader.py", "services/__init__.py"} <= modules
    assert not any(m.startswith("voice/testing/") for m in modules)


def test_product_code_never_imports_test_code():
    bad = []
    for path in product_modules():
        rel = path.relative_to(ROOT)
        module = ".".join(rel.with_suffix("").parts)
        for line, name in imported_names(path.read_text(encoding="utf-8"), module):
            if forbidden(name):
                bad.append(f"{rel}:{line}: imports {name}")
    assert not bad, "product code imports test code:\n" + "\n".join(bad)


def test_the_check_sees_hidden_and_relative_imports():
    source = (
        "import json\n"
        "from ..testing import llama_server\n"
        "from . import tiny\n"
        "def build():\n"
        "    from voice.testing.agent_models import build_fixture\n"
        "    import tests.conftest\n"
    )
    names = [name for _, name in imported_names(source, "voice.agent.loop") if forbidden(name)]
    assert names == [
        "voice.testing",
        "voice.testing.llama_server",
        "voice.testing.agent_models",
        "voice.testing.agent_models.build_fixture",
        "tests.conftest",
    ]
    assert [n for _, n in imported_names("from .agent_models import x", "voice.testing.__init__")] == [
        "voice.testing.agent_models",
        "voice.testing.agent_models.x",
    ]
