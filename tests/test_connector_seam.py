"""The seam: connectors and the core never reach into the application or storage."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from connectors import CONNECTORS

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("connectors", {"monitor", "storage"}), ("core", {"monitor", "storage", "connectors"})],
)
def test_packages_import_only_downward(package: str, forbidden: set[str]) -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(_imports(path) & forbidden)
        for path in (ROOT / package).rglob("*.py")
        if _imports(path) & forbidden
    }
    assert offenders == {}


def test_storage_does_not_import_connectors() -> None:
    assert all("connectors" not in _imports(p) for p in (ROOT / "storage").rglob("*.py"))


def test_every_registered_connector_owns_a_config_model_of_its_type() -> None:
    for key, cls in CONNECTORS.items():
        assert cls.config_model.model_fields["type"].annotation.__args__ == (key,)
