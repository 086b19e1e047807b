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

    assert ensure_env(tmp_path) is True

    written = (tmp_path / ".env").read_text()
    (secret,) = [line for line in written.splitlines() if line.startswith("SECRET_KEY=")]
    assert len(secret) > len("SECRET_KEY=") + 40
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0


def test_second_run_keeps_the_existing_env(tmp_path):
    shutil.copy(ROOT / ".env.example", tmp_path / ".env.example")
    (tmp_path / ".env").write_text("SECRET_KEY=mine\n")

    assert load_script("ensure_env").ensure_env(tmp_path) is False
    assert (tmp_path / ".env").read_text() == "SECRET_KEY=mine\n"


def test_two_first_runs_get_different_secrets(tmp_path):
    ensure_env = load_script("ensure_env").ensure_env
    secrets = set()
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        shutil.copy(ROOT / ".env.example", tmp_path / name / ".env.example")
        ensure_env(tmp_path / name)
        secrets.add((tmp_path / name / ".env").read_text())
    assert len(secrets) == 2
