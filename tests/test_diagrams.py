"""The model diagrams in docs/diagrams/ are the models as they are (`make diagrams` redraws them)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_model_diagrams_are_not_stale():
    check = subprocess.run(  # noqa: S603 (this interpreter, our script)
        [sys.executable, str(ROOT / "scripts" / "diagrams.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert check.returncode == 0, check.stderr
