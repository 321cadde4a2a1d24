"""The house rules of the code, checked: layers point one way, and no module imports itself back.

Modelled on python-zeroconf's test of circular imports: every module is imported in a fresh
interpreter (an import-time cycle fails there), then a static graph of every import, including
those inside functions, must have no cycle at all.
"""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("kiosk", "sms", "hardware", "hub")
# What hub/ may take from sms/: the pure codec, no I/O (never the gateway, outbox or modem).
SMS_PURE = {"sms", "sms.errors", "sms.gsm7", "sms.segments", "sms.pdu", "sms.vietnamese"}


def module_names() -> list[str]:
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__main__" or "migrations" in parts:
                continue
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = module_names()


def imports_of(module: str) -> set[str]:
    """Every project module `module` imports, anywhere in its body."""
    path = ROOT / (module.replace(".", "/") + ".py")
    is_package = not path.exists()
    if is_package:
        path = ROOT / module.replace(".", "/") / "__init__.py"
    package = module if is_package else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != module)
    return found


def test_every_module_imports_in_a_fresh_interpreter():
    script = ("import importlib, json, sys\nfailed = {}\nfor name in json.loads(sys.argv[1]):\n"
              "    try:\n        importlib.import_module(name)\n"
              "    except Exception as exc:\n        failed[name] = repr(exc)\nprint(json.dumps(failed))")
    result = subprocess.run([sys.executable, "-c", script, json.dumps(MODULES)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300, env={"KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1",
                                                         "PATH": "/usr/bin:/bin", "HOME": "/tmp",
                                                         "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {}


@pytest.mark.parametrize("package", ["sms", "hardware", "hub"])
def test_lower_layers_never_import_kiosk(package):
    members = [m for m in MODULES if m.split(".")[0] == package]
    script = (f"import importlib, sys\nfor name in {members!r}: importlib.import_module(name)\n"
              "print(sorted(m for m in sys.modules if m == 'kiosk' or m.startswith('kiosk.')))")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
    for name in members:
        assert not [t for t in imports_of(name) if t.startswith("kiosk")], name


def test_hub_takes_only_the_pure_codec_from_sms():
    for name in (m for m in MODULES if m.startswith("hub")):
        impure = sorted(t for t in imports_of(name) if t.split(".")[0] == "sms" and t not in SMS_PURE)
        assert not impure, f"{name} imports {impure}"


def test_domain_never_imports_the_ui():
    for name in (m for m in MODULES if m.startswith("kiosk") and not m.startswith(("kiosk.ui", "kiosk.commands"))):
        ui = sorted(t for t in imports_of(name) if t.startswith("kiosk.ui"))
        assert not ui, f"{name} imports {ui}"


def test_no_import_cycle_between_modules():
    graph = {name: imports_of(name) for name in MODULES}
    # a package's __init__ importing its own modules is its table of contents, not a dependency back
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in graph:
        if node not in index:
            visit(node)
    assert cycles == []
