"""The wheel a user installs: it imports, registers every component and carries the configs.

The wheel is installed (``--no-deps --no-index``) into a fresh venv that sees this environment's
packages (the stack) through a ``.pth`` line but not the checkout or its editable install. A
subprocess there compares what ``import rtmo_plugin`` registers with what the checkout registers
once every one of its modules is imported (so a config's ``custom_imports=['rtmo_plugin']`` reaches
every component), loads a config from ``rtmo_plugin/.mim/configs`` and finds the package the way
``mim train rtmo_plugin <config>`` does.
"""
import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from .conftest import pip

PROBE = textwrap.dedent('''
    import importlib, json, pkgutil, sys
    from pathlib import Path
    import mmpose.registry as registries
    from mmengine.config import Config
    from mmengine.registry import Registry
    import rtmo_plugin

    if "--import-all" in sys.argv:
        for module in pkgutil.walk_packages(rtmo_plugin.__path__, "rtmo_plugin."):
            importlib.import_module(module.name)

    def registered():
        found = {}
        for name in dir(registries):
            registry = getattr(registries, name)
            if isinstance(registry, Registry):
                own = sorted(key for key, obj in registry.module_dict.items()
                             if getattr(obj, "__module__", "").startswith("rtmo_plugin"))
                if own:
                    found[name] = own
        return found

    configs = Path(rtmo_plugin.__file__).parent / ".mim" / "configs"
    names = sorted(str(p.relative_to(configs)) for p in configs.rglob("*.py"))
    cfg = Config.fromfile(str(configs / "rtmo-t_8xb32-600e_coco.py")) if names else None
    from mim.utils import get_installed_path
    print(json.dumps(dict(
        file=rtmo_plugin.__file__, registered=registered(), configs=names,
        custom_imports=list(cfg.custom_imports.imports) if cfg else None,
        head=cfg.model.head.type if cfg else None, mim_root=get_installed_path("rtmo_plugin"))))
''')


def _clean_env(pythonpath: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONWARNINGS"] = "ignore"
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    return env


def _probe(python: Path, cwd: Path, *args: str, pythonpath: str = "") -> dict:
    proc = subprocess.run([str(python), "-c", PROBE, *args], capture_output=True, text=True,
                          cwd=cwd, env=_clean_env(pythonpath), timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def user_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the wheel installed and this environment's packages visible (no checkout)."""
    venv = tmp_path_factory.mktemp("venv") / "user"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    code = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()
    # the stack: this environment's site-packages as a plain path (its editable hooks stay off)
    (Path(site) / "stack.pth").write_text(sysconfig.get_path("purelib") + "\n")
    proc = pip("install", "--no-deps", "--no-index", "--target", site, str(wheel))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return venv


def test_wheel_carries_configs_and_registers_everything(user_venv: Path, repo_root: Path,
                                                          tmp_path: Path) -> None:
    got = _probe(user_venv / "bin" / "python", tmp_path)
    checkout = _probe(Path(sys.executable), tmp_path, "--import-all", pythonpath=str(repo_root))
    assert checkout["file"].startswith(str(repo_root)), checkout["file"]
    assert got["file"].startswith(str(user_venv)), got["file"]
    assert got["registered"] == checkout["registered"]
    assert sum(len(v) for v in got["registered"].values()) > 20
    configs = repo_root / "configs"
    assert got["configs"] == sorted(str(p.relative_to(configs)) for p in configs.rglob("*.py"))
    assert got["custom_imports"] == ["rtmo_plugin"] and got["head"] == "RTMODCCHead"
    assert Path(got["mim_root"], ".mim", "tools", "train.py").is_file()
    assert Path(got["mim_root"], ".mim", "configs", "rtmo-t_8xb32-600e_coco.py").is_file()


def test_mim_tool_scripts_run_mmpose_tools(user_venv: Path, tmp_path: Path) -> None:
    """``rtmo_plugin/.mim/tools/{train,test}.py`` are MMPose's scripts (``--help`` answers)."""
    site = next((user_venv / "lib").glob("python3*/site-packages"))
    for tool in ("train", "test"):
        script = site / "rtmo_plugin" / ".mim" / "tools" / f"{tool}.py"
        proc = subprocess.run([str(user_venv / "bin" / "python"), str(script), "--help"],
                              capture_output=True, text=True, cwd=tmp_path, env=_clean_env(),
                              timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert "config" in proc.stdout and "--cfg-options" in proc.stdout
