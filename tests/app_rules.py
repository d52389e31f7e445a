"""The app's field checks (pwa/src/rules.js) run in node from the tests, with the rules the server
exports: what the app refuses can be compared with what the server refuses."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from records.rules import export_rules

RULES_JS = Path(__file__).resolve().parents[1] / "pwa" / "src" / "rules.js"

# `input` is the payload; `problems` is rules.js's, over the server's rules.
PRELUDE = """
import { pathToFileURL } from 'node:url';
let text = '';
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
globalThis.RULES = input.rules;
const { problems } = await import(pathToFileURL(input.module).href);
"""


def run_rules_in_node(body: str, payload: dict[str, Any]) -> Any:
    """What `body` writes (JSON) to stdout, run after the prelude above."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("The app's rules are checked in node: install Node.js 18+ (make pwa needs it too).")
    done = subprocess.run(
        [node, "--input-type=module", "-e", PRELUDE + body],
        input=json.dumps({**payload, "rules": export_rules(), "module": str(RULES_JS)}),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "TZ": settings.TIME_ZONE},  # a clinic's devices keep its time: "today" is its day
    )
    return json.loads(done.stdout)
