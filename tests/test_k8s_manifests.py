"""deploy/k8s/: the base written from the topology, valid against the Kubernetes schemas of a pinned
version (kubernetes-validate), and the overlays rendered by `kubectl kustomize` when kubectl is
there. docs/scaling.md."""

import copy
import functools
import importlib.util
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from shop_common.topology import SERVICES

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
# The oldest Kubernetes the manifests must run on (autoscaling/v2, batch/v1 CronJob are older).
KUBERNETES_VERSION = "1.32.0"
KUBECTL = shutil.which("kubectl")


@pytest.fixture(autouse=True)
def schemas_read_once(monkeypatch):
    """kubernetes-validate reads its JSON schemas (a 2 MB file of definitions) again for every
    document, which made this file the slowest of its suite. Read once, they are the same
    schemas."""
    monkeypatch.setattr(kubernetes_validate.utils, "schema_contents", _cached_schema_contents)


_cached_schema_contents = functools.lru_cache(maxsize=None)(
    kubernetes_validate.utils.schema_contents
)


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "k8s_manifests", ROOT / "scripts" / "k8s_manifests.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def base_documents() -> list[dict]:
    return [
        doc
        for path in sorted((K8S / "base").glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in yaml.safe_load_all(path.read_text())
    ]


def of_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_the_base_is_what_the_generator_writes():
    generator = load_generator()

    stale = [
        name
        for name, docs in generator.documents().items()
        if (K8S / "base" / name).read_text() != generator.render(docs)
    ]

    assert stale == [], "run scripts/k8s_manifests.py and commit deploy/k8s/base/"


def test_every_base_document_is_valid_for_the_pinned_kubernetes():
    for doc in base_documents():
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validation_refuses_a_misspelt_field():
    deployment = copy.deepcopy(of_kind(base_documents(), "Deployment")["product"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}

    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_service_has_a_deployment_probed_on_health_a_service_an_autoscaler_and_a_migration(
    service,
):
    docs = base_documents()
    deployment = of_kind(docs, "Deployment")[service.name]
    web = deployment["spec"]["template"]["spec"]["containers"][0]

    assert web["ports"] == [{"name": "http", "containerPort": service.port}]
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        assert web[probe]["httpGet"]["path"] == "/health/"
        assert web[probe]["httpGet"]["httpHeaders"] == [{"name": "Host", "value": "localhost"}]
    assert set(web["resources"]["requests"]) == {"cpu", "memory"}
    assert of_kind(docs, "Service")[service.name]["spec"]["ports"][0]["port"] == service.port
    hpa = of_kind(docs, "HorizontalPodAutoscaler")[service.name]
    assert hpa["spec"]["scaleTargetRef"]["name"] == service.name
    job = of_kind(docs, "Job")[f"{service.name}-migrate"]
    migrate = job["spec"]["template"]["spec"]["containers"][0]
    assert (migrate["workingDir"], migrate["command"]) == (
        f"/app/{service.folder}",
        ["python", "manage.py", "prepare_service"],
    )
    # The Deployment's pods, and no Job's, are what its selector and the Service pick.
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    assert not selector.items() <= job["spec"]["template"]["metadata"]["labels"].items()


def test_every_periodic_job_of_the_procfile_is_a_cronjob():
    procfile = (ROOT / "Procfile").read_text()
    cronjobs = of_kind(base_documents(), "CronJob")

    expected = {line.split(":")[0] for line in procfile.splitlines() if "periodic.py" in line}
    assert set(cronjobs) == expected
    assert len(expected) >= 4
    for cronjob in cronjobs.values():
        container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
        assert container["command"][:2] == ["python", "manage.py"]


def test_the_config_points_each_service_at_the_others_by_their_service_names():
    docs = base_documents()
    config = of_kind(docs, "ConfigMap")["shop-config"]["data"]
    secret = of_kind(docs, "Secret")["shop-secrets"]["stringData"]

    for service in SERVICES:
        assert config[service.url_variable] == f"http://{service.name}:{service.port}"
        assert service.name in config["ALLOWED_HOSTS"].split(",")
        assert service.client_secret_variable in secret
    assert {"SECRET_KEY", "JWT_SIGNING_KEY", "DB_PASSWORD", "METRICS_TOKEN"} <= set(secret)
    assert config["DEBUG"] == "False"


def kustomize(overlay: str) -> list[dict]:
    if KUBECTL is None:
        pytest.skip("No kubectl: the overlays are not rendered (the base is validated above).")
    result = subprocess.run(  # noqa: S603 (kubectl, fixed arguments)
        [KUBECTL, "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_overlay_renders_to_valid_manifests(overlay):
    docs = kustomize(overlay)

    for doc in docs:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert len(of_kind(docs, "Deployment")) == len(SERVICES)
    assert {doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"} == {
        "shop-dev" if overlay == "dev" else "shop"
    }


def test_prod_carries_no_secret_value_and_the_registry_image():
    docs = kustomize("prod")

    assert of_kind(docs, "Secret") == {}
    assert "replace-me" not in yaml.safe_dump_all(docs)
    images = {
        container["image"]
        for doc in docs
        if doc["kind"] == "Deployment"
        for container in doc["spec"]["template"]["spec"]["containers"]
    }
    assert images == {"registry.example.com/shop/services:0.1.0"}
    assert of_kind(docs, "ConfigMap")["shop-config"]["data"]["HTTPS_ONLY"] == "True"


def test_dev_generates_its_secrets_and_runs_one_replica():
    docs = kustomize("dev")

    secret = of_kind(docs, "Secret")["shop-secrets"]
    assert set(secret["data"]) >= {"SECRET_KEY", "METRICS_TOKEN"}
    assert {doc["spec"]["replicas"] for doc in of_kind(docs, "Deployment").values()} == {1}
