"""The package's shape, read from its imports: data flows one way.

- no cycle between modules (lazy imports inside functions count; imports under TYPE_CHECKING
  do not, they never run);
- no two packages (`harness.<package>`, `adapters`) import each other;
- at most 12 modules at the root of `harness/` (the engine, the run record and the rest live in
  packages of their own), and no module over 300 lines.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MAX_ROOT_MODULES = 12
MAX_LINES = 300


def modules() -> dict[str, Path]:
    found = {}
    for path in [*ROOT.glob("harness/**/*.py"), *ROOT.glob("adapters/**/*.py")]:
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    return skipped


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join([*parts, *([node.module] if node.module else [])])
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph() -> dict[str, set[str]]:
    """module -> the project's modules it imports."""
    known = modules()
    graph: dict[str, set[str]] = defaultdict(set)
    for module, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skipped = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in skipped:
                continue
            for target in _imported(node, module, path.name == "__init__.py"):
                while target and target not in known:
                    target = target.rpartition(".")[0]
                if target and target != module:
                    graph[module].add(target)
    return graph


def package_of(module: str, known: dict[str, Path]) -> str | None:
    """`harness.<package>` or `adapters`; None for a module at the root of harness/."""
    parts = module.split(".")
    if parts[0] == "adapters":
        return "adapters"
    if len(parts) > 2 or known[module].name == "__init__.py" and len(parts) == 2:
        return ".".join(parts[:2])
    return None


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert cycles(import_graph()) == []


def test_no_two_packages_import_each_other() -> None:
    known = modules()
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for module, targets in import_graph().items():
        for target in targets:
            a, b = package_of(module, known), package_of(target, known)
            if a and b and a != b:
                edges[(a, b)].append(f"{module} -> {target}")
    both = sorted(f"{a} <-> {b}: {edges[(a, b)][:2]} / {edges[(b, a)][:2]}" for a, b in edges if (b, a) in edges and a < b)
    assert both == []


def test_the_root_of_harness_holds_few_modules() -> None:
    root = sorted(p.name for p in (ROOT / "harness").glob("*.py") if p.name != "__init__.py")
    assert len(root) <= MAX_ROOT_MODULES, root


def test_no_module_is_over_300_lines() -> None:
    long = {name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_the_checker_sees_a_cycle_and_a_package_pair() -> None:
    """The checks above would pass on a graph they cannot read: show they read one."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = import_graph()
    assert "harness.engine.runner" in graph["harness.engine.launch"]
    assert "harness.run.writer" in graph["harness.engine.runner"] or "harness.run" in graph["harness.engine.runner"]


def test_every_module_named_in_a_string_exists() -> None:
    """Modules named by string (warmed early, plugged in lazily) are not checked by any import:
    a name left behind by a move would silently load nothing, or an empty package."""
    import importlib.util

    from harness.cli import PLUGGED_COMMANDS
    from harness.engine.runner import FINISH_MODULES
    from harness.gateway.providers import DEFAULT_SLOTS, DIRECT_PROVIDERS, FINGERPRINTS, IN_PROCESS_PROVIDERS
    from harness.report.follower import REPORT_MODULES, STORE_MODULES

    named = [*FINISH_MODULES, *REPORT_MODULES, *STORE_MODULES, *(module for _, module in PLUGGED_COMMANDS)]
    named += [target.split(":")[0] for table in (DEFAULT_SLOTS, DIRECT_PROVIDERS, FINGERPRINTS, IN_PROCESS_PROVIDERS)
              for target in table.values()]
    for name in named:
        spec = importlib.util.find_spec(name)
        assert spec is not None, name
        if name.startswith("harness.") and spec.submodule_search_locations is not None:
            init = Path(spec.origin or "")
            assert init.read_text(encoding="utf-8").strip(), f"{name} is an empty package: name the module itself"
