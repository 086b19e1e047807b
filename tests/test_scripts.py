import importlib.util
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_first_run_writes_env_with_a_fresh_secret_and_private_mode(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    ensure_env = load_script("ensure_env").ensure_env

    generated = ensure_env(tmp_path)

    assert {"SECRET_KEY", "JWT_SIGNING_KEY", "ORDER_CLIENT_SECRET"} <= set(generated)
    written = (tmp_path / ".env").read_text()
    for name in generated:
        (line,) = [line for line in written.splitlines() if line.startswith(f"{name}=")]
        assert len(line) > len(name) + 40
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0


def test_a_later_run_keeps_every_value_and_adds_only_missing_secrets(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    (tmp_path / ".env").write_text("SECRET_KEY=mine\nDEBUG=True\n")
    ensure_env = load_script("ensure_env").ensure_env

    added = ensure_env(tmp_path)
    after_first = (tmp_path / ".env").read_text()

    assert "SECRET_KEY" not in added
    assert "JWT_SIGNING_KEY" in added
    assert after_first.startswith("SECRET_KEY=mine\nDEBUG=True\n")
    assert ensure_env(tmp_path) == []
    assert (tmp_path / ".env").read_text() == after_first


def test_two_first_runs_get_different_secrets(tmp_path):
    ensure_env = load_script("ensure_env").ensure_env
    secrets = set()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(ROOT / ".env.example", tmp_path / name / ".env.example")
        ensure_env(tmp_path / name)
        secrets.add((tmp_path / name / ".env").read_text())
    assert len(secrets) == 2
