"""The API reference builds without a warning (what ``make docs`` runs: Sphinx autodoc with
``-W``), and documents every public name of qloom.api."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_docs_builds_without_warnings(tmp_path):
    make = (ROOT / "Makefile").read_text()
    cmd = re.search(r"\$\(BIN\)/python -m sphinx (.+) docs/api build/docs", make).group(1).split()
    assert "-W" in cmd
    r = subprocess.run([sys.executable, "-m", "sphinx", *cmd, "docs/api", str(tmp_path / "html")],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    page = (tmp_path / "html" / "api.html").read_text()
    import qloom.api

    missing = [n for n in qloom.api.__all__ if callable(getattr(qloom.api, n)) and
               f'id="qloom.api.{n}"' not in page]
    assert missing == [], missing
