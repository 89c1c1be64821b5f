"""Every module of the package has its place in pyproject.toml's layers contract, which `lint-imports`
checks in `make test`: a module left out of every layer would escape the check, so a new module fails
here until it is placed (ARCHITECTURE.md says which layer takes what)."""
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def contract(kind: str) -> dict:
    return next(c for c in CONTRACTS if c["type"] == kind)


def layers() -> list[list[str]]:
    return [[name.strip() for name in re.split(r"[|:]", layer)] for layer in contract("layers")["layers"]]


def package_modules() -> list[str]:
    """Dotted names of the package's modules; a package's `__init__` stands for the package only where
    it holds code of its own (the root's `create_app`), not where it is a docstring."""
    names = []
    for path in sorted((ROOT / "mediaserver").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            continue
        names.append(".".join(parts))
    return names


def placed(module: str, layer_names: list[str]) -> list[str]:
    return [name for name in layer_names if module == name or module.startswith(name + ".")]


def test_every_module_is_in_exactly_one_layer():
    names = [name for layer in layers() for name in layer]
    unplaced = [m for m in package_modules() if not placed(m, names)]
    twice = [m for m in package_modules() if len(placed(m, names)) > 1]
    assert unplaced == [] and twice == []


def test_the_pure_core_layer_is_what_the_forbidden_contract_guards():
    core = next(layer for layer in layers() if "mediaserver.party.state" in layer)
    guarded = set(contract("forbidden")["source_modules"])
    assert set(core) <= guarded
    assert guarded - set(core) <= {"mediaserver.text", "mediaserver.ratios", "mediaserver.timeline"}  # pure, below the cores
