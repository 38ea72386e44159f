"""Imports run one way: the inventory at the bottom, then the lab, the deploy, the load tests and
the audit, and the ``portalops`` command on top. The exporters and the portal are distributions
of their own, installed on hosts without the toolkit, so they import nothing of it."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Each package of the toolkit (by its import name) and the packages it may import.
PACKAGES = {
    "inventory": ROOT / "inventory",
    "lab": ROOT / "lab",
    "deploy": ROOT / "deploy",
    "audit": ROOT / "audit",
    "loadtests": ROOT / "loadtests",
    "loopback_portal": ROOT / "loopback_portal",
    "portalops": ROOT / "portalops",
    "portalops_exporters": ROOT / "monitors" / "portalops_exporters",
    "dichvucong": ROOT / "portal" / "dichvucong",
}
MAY_IMPORT = {
    "inventory": set(),
    "portalops_exporters": set(),
    "dichvucong": set(),
    "lab": {"inventory"},
    # The deploy configures the exporters it installs, so it reads their constants.
    "deploy": {"inventory", "portalops_exporters"},
    # The audit and the load tests read what the deploy made: its defaults, CA and secrets.
    "audit": {"inventory", "deploy"},
    "loadtests": {"inventory", "deploy"},
    "loopback_portal": {"dichvucong"},
    "portalops": set(PACKAGES),
}


def imported_packages(path: Path) -> set[tuple[str, int]]:
    """(top-level package of the toolkit, line) of every import in a file, inside functions too."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module]
        found |= {(name.split(".")[0], node.lineno) for name in names if name.split(".")[0] in PACKAGES}
    return found


def test_every_package_imports_only_the_packages_below_it():
    wrong = []
    for package, folder in PACKAGES.items():
        for path in sorted(folder.rglob("*.py")):
            if "build" in path.relative_to(folder).parts:
                continue
            for imported, line in sorted(imported_packages(path)):
                if imported != package and imported not in MAY_IMPORT[package]:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert wrong == []


def test_the_check_sees_an_import_inside_a_function(tmp_path):
    code = tmp_path / "x.py"
    code.write_text("def f():\n    from portalops.cli import main\n")
    assert imported_packages(code) == {("portalops", 2)}
