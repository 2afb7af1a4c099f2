"""The shape of the package: every module has a place in the house, imports point down, no
circles (type-only imports included), and the core needs nothing but attrs and cattrs (it may
use orjson, an optional accelerator, where installed).

The house is written out below, lowest first; docs/architecture.md draws the same picture.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = "artist_dashboard"
SOURCE = Path(__file__).parents[2] / "src" / PACKAGE

#: Each family, its tiers lowest first. A module imports only modules of a lower tier of its own
#: family, or of a family it is allowed to build on (`BUILDS_ON`).
HOUSE: dict[str, list[list[str]]] = {
    "core": [
        ["_core"],
        ["_core.errors", "_core.values", "_core.numbers"],
        ["_core.records"],
        ["_core.rules", "_core.clock"],
        ["_core.analytics"],
        ["_core.ports", "_core.response", "_core.whole"],
        ["_core.build"],
        ["_core.wire", "_core.observe"],
    ],
    "core faces": [["", "rules", "typing", "wire"]],
    "embedded": [
        ["memory"],
        ["dataset._fields"],
        ["dataset._documents", "dataset._rows"],
        ["dataset._folder"],
        ["dataset"],
        ["demo"],
    ],
    "sql": [
        ["sql._schema"],
        ["sql._catalog", "sql._mapping"],
        ["sql._audience"],
        ["sql._triggers", "sql._analytics", "sql._queries"],
        ["sql._whole"],
        ["sql._store", "sql._load", "sql._aggregates", "sql._rollup"],
        ["sql"],
    ],
    "http": [
        ["_http", "_http.contract"],
        ["_http.auth", "_http.openapi", "_http.metrics"],
        ["_http.service"],
        ["_http.serving"],
        ["auth", "asgi", "flask", "metrics"],
        ["fastapi"],
    ],
    "kit": [["testing._strategies"], ["testing._kit"], ["testing"]],
    "command line": [["cli._database"], ["cli"], ["__main__"]],
}
BUILDS_ON: dict[str, set[str]] = {
    "core": set(),
    "core faces": {"core"},
    "embedded": {"core"},
    "sql": {"core", "embedded"},  # the loader reads dataset files
    "http": {"core"},
    "kit": {"core", "embedded"},
    "command line": {"core", "core faces", "embedded", "sql", "http"},
}
#: What the core may import from outside the standard library.
CORE_THIRD_PARTY = {"attrs", "cattrs"}
#: What the core may use where installed, each import guarded: it runs the same without them.
CORE_OPTIONAL = {"orjson"}


def _name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_name(p): p for p in sorted(SOURCE.rglob("*.py"))}
PLACES = {
    module: (family, tier)
    for family, tiers in HOUSE.items()
    for tier, modules in enumerate(tiers)
    for module in modules
}


def _imports(module: str) -> set[str]:
    """Every module `module` imports — at the top, inside functions and under TYPE_CHECKING —
    as names relative to the package ("" is the package itself), or absolute for others."""
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    package = [p for p in package if p]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                base = node.module or ""
                if base != PACKAGE and not base.startswith(f"{PACKAGE}."):
                    found.add(base)
                    continue
                inside = base.split(".")[1:]
            else:
                inside = package[: len(package) - (node.level - 1)] + (
                    node.module.split(".") if node.module else []
                )
            target = ".".join(inside)
            # `from . import rules` imports a module; `from .x import name` imports x.
            for alias in node.names:
                submodule = f"{target}.{alias.name}" if target else alias.name
                found.add(f"@{submodule if submodule in MODULES else target}")
    return found


INTERNAL = {m: {i[1:] for i in _imports(m) if i.startswith("@")} for m in MODULES}


def test_every_module_has_a_place_in_the_house() -> None:
    """A new module is placed in `HOUSE` (and in docs/architecture.md) before it is used."""
    assert set(MODULES) - set(PLACES) == set()
    assert set(PLACES) - set(MODULES) == set()


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_the_house(module: str) -> None:
    """A module imports only lower tiers of its family, or families it builds on."""
    family, tier = PLACES[module]
    for target in INTERNAL[module] - {module}:
        target_family, target_tier = PLACES[target]
        if target_family == family:
            assert target_tier < tier, f"{module!r} imports {target!r}, which is not below it"
        else:
            assert target_family in BUILDS_ON[family], (
                f"{module!r} ({family}) imports {target!r} ({target_family})"
            )


def test_no_import_circles() -> None:
    """No module reaches itself by following imports (Tarjan's strongly connected parts)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in INTERNAL[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            part = []
            while True:
                member = stack.pop()
                part.append(member)
                if member == module:
                    break
            if len(part) > 1 or module in INTERNAL[module]:
                circles.append(sorted(part))

    for module in sorted(MODULES):
        if module not in index:
            visit(module)
    assert circles == []


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if PLACES.get(m, ("?", 0))[0] == "core")
)
def test_the_core_imports_only_the_standard_library_attrs_and_cattrs(module: str) -> None:
    """The core never imports an adapter, a web framework or a database driver."""
    outside = {i.split(".")[0] for i in _imports(module) if not i.startswith("@")}
    allowed = CORE_THIRD_PARTY | CORE_OPTIONAL
    assert outside - set(sys.stdlib_module_names) - {"__future__"} <= allowed


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if PLACES.get(m, ("?", 0))[0] == "core")
)
def test_the_core_imports_its_optional_accelerators_only_where_installed(module: str) -> None:
    """An optional import in the core sits in a ``try`` that handles its ImportError."""
    tree = ast.parse(MODULES[module].read_text())
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id == "ImportError" for h in node.handlers
        ):
            guarded |= {id(n) for statement in node.body for n in ast.walk(statement)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if {n.split(".")[0] for n in names} & CORE_OPTIONAL:
                assert id(node) in guarded, f"{module} imports {names} unguarded"


def test_the_walk_sees_every_kind_of_import() -> None:
    """The walker finds imports inside functions and under TYPE_CHECKING (checked on modules
    known to have them), so a circle cannot hide there."""
    assert "sql" in INTERNAL["cli"]  # imported inside a command's function
    assert {"_core.build", "_core.records"} <= INTERNAL["sql._store"]


def test_the_map_in_the_docs_names_every_module() -> None:
    """docs/architecture.md draws every module of the house, so the map stays true."""
    drawing = (SOURCE.parents[1] / "docs" / "architecture.md").read_text()
    missing = [
        str(path.relative_to(SOURCE))
        for path in MODULES.values()
        if path.name != "__init__.py" and path.name not in drawing
    ]
    assert missing == []
