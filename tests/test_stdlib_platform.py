"""`platform/` must never shadow the standard library's `platform` module (see DESIGN.md)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_stdlib_platform_in_the_test_process():
    import platform
    import uuid

    assert platform.system()
    assert Path(platform.__file__).name == "platform.py"
    assert uuid.uuid4()


def test_stdlib_platform_inside_the_django_app():
    code = (
        "import django; django.setup(); import platform, uuid; "
        "from django.urls import reverse; print(platform.system(), uuid.uuid4().version)"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT / "platform")}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "4"


def test_manage_py_runs_with_stdlib_platform():
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "import platform; print(platform.system())"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "Linux"
