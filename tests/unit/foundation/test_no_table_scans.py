"""No code path scans a DynamoDB table (every read is a key lookup or an index Query), which is
why no role is granted dynamodb:Scan (infra/constructs/function_factory.py, tests/infra)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DEPLOYED = [REPO / "layers" / "parley" / "python", REPO / "functions"]


def _scans(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "scan":
            found.append(f"{path}:{node.lineno}: .scan(...)")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in {"scan", "Scan"}:
            found.append(f"{path}:{node.lineno}: {node.value!r} (a paginator or an action name)")
    return found


def test_no_deployed_code_scans_a_table() -> None:
    files = [p for root in DEPLOYED for p in root.rglob("*.py")]
    assert len(files) > 50  # the layer and every handler were found
    assert [hit for path in files for hit in _scans(path)] == []


def test_the_check_finds_a_scan(tmp_path: Path) -> None:
    sample = tmp_path / "repo.py"
    sample.write_text("def f(t, c):\n    t.scan(Limit=1)\n    c.get_paginator('scan')\n")
    assert len(_scans(sample)) == 2
