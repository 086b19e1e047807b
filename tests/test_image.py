"""The production image (Dockerfile, `COPY . .` through .dockerignore) and the Kubernetes manifests
carry the services, never the offline provider sandboxes, which are development tools."""

import os
import re
from pathlib import Path

from shop_common.topology import SANDBOXES

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_MODULES = ("stripe_sandbox", "razorpay_sandbox", "sandbox_kit")


def dockerignore_patterns() -> list[re.Pattern]:
    """.dockerignore's patterns as Docker reads them: relative to the context, `*` within one path
    part, `**` across parts; a pattern that names a folder leaves out all of it."""
    patterns = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("!"), "exceptions are not read by this test"
        expression = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", line.strip("/")):
            expression += {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                part, re.escape(part)
            )
        patterns.append(re.compile(expression))
    return patterns


def build_context() -> list[str]:
    """The files `COPY . .` puts in the image, relative to the repository."""
    patterns = dockerignore_patterns()

    def ignored(relative: str) -> bool:
        return any(pattern.fullmatch(relative) for pattern in patterns)

    files = []
    for folder, subfolders, names in os.walk(ROOT):
        base = Path(folder).relative_to(ROOT).as_posix()
        prefix = "" if base == "." else f"{base}/"
        subfolders[:] = [name for name in subfolders if not ignored(prefix + name)]
        files += [prefix + name for name in names if not ignored(prefix + name)]
    return files


def test_the_image_holds_the_services_but_no_sandbox():
    context = build_context()

    assert "paymentService/payments/services.py" in context or any(
        path.startswith("paymentService/payments/") for path in context
    )
    assert "scripts/serve.py" in context
    shipped_sandboxes = [
        path for path in context if set(path.split("/")) & {*SANDBOX_MODULES, "sandboxes"}
    ]
    assert shipped_sandboxes == []


def test_the_sandboxes_live_beside_the_services():
    for sandbox in SANDBOXES:
        assert sandbox.folder == "sandboxes"
    for module in SANDBOX_MODULES:
        assert (ROOT / "sandboxes" / module / "__init__.py").is_file()
        assert not (ROOT / "paymentService" / module).exists()


def test_the_payment_service_runs_no_sandbox_code():
    """Only its test suite (which runs the sandboxes in its own process) may import them."""
    importing = []
    for source in (ROOT / "paymentService").rglob("*.py"):
        relative = source.relative_to(ROOT).as_posix()
        if "/tests/" in relative or relative.endswith("conftest.py"):
            continue
        if re.search(
            rf"^\s*(from|import)\s+({'|'.join(SANDBOX_MODULES)})\b", source.read_text(), re.M
        ):
            importing.append(relative)
    assert importing == []


def test_no_kubernetes_manifest_runs_a_sandbox():
    for manifest in (ROOT / "deploy" / "k8s").rglob("*.yaml"):
        text = manifest.read_text()
        for sandbox in SANDBOXES:
            assert sandbox.name not in text, manifest
            assert str(sandbox.port) not in text, manifest
        assert "sandbox" not in text.lower(), manifest
