"""The house rules, read from the imports of every module in the tree.

- The kernel (`shared/`) imports no lens, no engine and no context.
- A context never imports another context's models, nor a private (`_name`) of another context;
  it calls the other's `service` or publishes an event through the kernel.
- A context never imports the lens: the lens observes the contexts and is plugged in last. What
  a context needs to declare its access patterns and to price its reads lives in the kernel
  (`shared.access_patterns`, `shared.capacity_rules`). Nor does it import the engine.
- The lens imports no context (the composition root hands it what it shows); the engine imports
  nothing of the app but the kernel.
- Inside the lens no router (`*router.py`) imports another router: what two pages share (links,
  example values, the layout) lives in a module that is not a router.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTEXTS = {"blog", "sessions", "engagement", "activity"}
KERNEL = "shared"


def _imports(path: Path) -> Iterator[tuple[str, str, int]]:
    """(module imported, name imported or '', line) for every import in a file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, "", node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name, node.lineno


def _package_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def forbidden_edges(package: str, path: Path, root: Path = ROOT) -> Iterator[str]:
    where = path.relative_to(root)
    for module, name, line in _imports(path):
        top = module.split(".")[0]
        full = f"{module}.{name}" if name else module
        if package == KERNEL and top in CONTEXTS | {"lens", "engine"}:
            yield f"{where}:{line} the kernel imports {full}"
        elif package in CONTEXTS and top in CONTEXTS and top != package:
            if ".models" in f".{full}" or module.endswith("models") or name == "models":
                yield f"{where}:{line} {package} reaches into {top}'s models ({full})"
            elif name.startswith("_") or any(p.startswith("_") for p in module.split(".")[1:]):
                yield f"{where}:{line} {package} imports a private name of {top} ({full})"
        elif package in CONTEXTS and top == "engine":
            yield f"{where}:{line} a context imports the engine ({full})"
        elif package in CONTEXTS and top == "lens":
            yield f"{where}:{line} a context imports the lens ({full})"
        elif package == "lens" and top in CONTEXTS:
            yield f"{where}:{line} the lens imports a context ({full})"
        elif package == "engine" and top in CONTEXTS | {"lens"}:
            yield f"{where}:{line} the engine imports the app ({full})"


@pytest.mark.parametrize("package", sorted(CONTEXTS | {KERNEL, "lens", "engine"}))
def test_no_forbidden_import_edges(package: str) -> None:
    edges = [e for path in _package_files(package) for e in forbidden_edges(package, path)]
    assert edges == []


def test_the_checker_sees_a_forbidden_edge(tmp_path: Path) -> None:
    """The rule set is not vacuous: planted edges of each kind are reported."""
    planted = {
        "shared/web.py": "from lens import inspector\n",
        "blog/service.py": "from engagement.likes.models import UserLike\n",
        "activity/service.py": "from blog.service import _secret\n",
        "engagement/service.py": "from lens.inspector import current\nimport engine.launcher\n",
        "activity/feed_cost.py": "from lens.capacity import Units\n",
        "sessions/service.py": "from lens import access_patterns\n",
        "lens/design.py": "from blog import service\n",
    }
    found = []
    for relative, source in planted.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        found += list(forbidden_edges(relative.split("/")[0], path, tmp_path))
    assert len(found) == 8, found


def router_to_router_edges(path: Path, root: Path = ROOT) -> Iterator[str]:
    """A lens router importing another router (`lens.x_router`, `lens.labs.router`)."""
    if not path.name.endswith("router.py"):
        return
    for module, name, line in _imports(path):
        full = f"{module}.{name}" if name else module
        if module.split(".")[0] == "lens" and any(p.endswith("router") for p in full.split(".")):
            yield f"{path.relative_to(root)}:{line} a router imports a router ({full})"


def test_no_lens_router_imports_another_router() -> None:
    edges = [e for path in _package_files("lens") for e in router_to_router_edges(path)]
    assert edges == []


def test_the_checker_sees_a_router_importing_a_router(tmp_path: Path) -> None:
    planted = {
        "lens/tour_router.py": "from lens.design_router import current_examples\n",
        "lens/labs/router.py": "from lens import explorer_router\n",
        "lens/design_router.py": "import lens.labs.router\nfrom lens.links import runnable_url\n",
        "lens/links.py": "from lens.explorer_router import router\n",
    }
    found = []
    for relative, source in planted.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        found += list(router_to_router_edges(path, tmp_path))
    assert len(found) == 3, found


def test_every_context_that_seeds_does_it_from_its_seed_module() -> None:
    """One pattern to find demo data: `<context>/seed.py` with `seed_size` and `seed_demo`,
    registered by the context's `install`."""
    for context in sorted(CONTEXTS):
        if "register_seeder" not in (ROOT / context / "__init__.py").read_text():
            continue
        seed = ast.parse((ROOT / context / "seed.py").read_text())
        defined = {node.name for node in seed.body if isinstance(node, ast.FunctionDef)}
        assert {"seed_size", "seed_demo"} <= defined, context


def test_no_context_module_is_over_600_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): n
        for package in CONTEXTS
        for path in _package_files(package)
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert long == {}
