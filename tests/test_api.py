"""The Python API as the README shows it, and the package's lazy exports."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_python_example_runs(tmp_path: Path):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Python API.*?```python\n(.*?)```", readme, re.S)
    assert block, "README has a Python API example"
    code = block.group(1).replace('Path("_posts")', f"Path({str(REPO / 'examples')!r})")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "国资委力推组建创新联合体" in result.stdout


def test_package_exports_are_lazy():
    code = (
        "import sys, newsarc; assert 'newsarc.store' not in sys.modules;"
        "from newsarc import Store, Importer, Filters, parse_post;"
        "assert Store.__name__ == 'Store' and Importer.__name__ == 'Importer'"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
