"""The package as a user installs it: one top-level name, every stage inside it, and imports
that follow the journey (the layers contract in pyproject.toml, checked by import-linter)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT


def _packaging() -> tuple[list[str], dict[str, str]]:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    return setup["setuptools"]["packages"], setup["setuptools"]["package-dir"]


def test_every_package_folder_is_installed() -> None:
    packages, folders = _packaging()
    on_disk = set()
    for name, folder in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            inner = [folders.get(f"{name}.{relative.parts[0]}")] if relative.parts else []
            if inner and inner[0] is not None:
                continue  # a folder of its own in package-dir
            on_disk.add(".".join([name, *relative.parts]))
    assert on_disk == set(packages), "pyproject.toml's packages and the folders differ"


def test_installed_package_has_one_top_level_name_and_keeps_the_layers(tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target),
         str(ROOT)], check=True, capture_output=True, cwd=tmp_path,
    )
    top = sorted(p.name for p in target.iterdir() if not p.name.endswith(".dist-info"))
    assert top == ["bin", "nianbao"] or top == ["nianbao"], top
    lint = Path(sys.executable).with_name("lint-imports")
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run([str(lint), str(ROOT / "pyproject.toml")], env=env, cwd=tmp_path,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 kept, 0 broken" in done.stdout
