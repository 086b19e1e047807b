#!/usr/bin/env python
"""Writes deploy/k8s/base/ from the topology (common/shop_common/topology.py) and the Procfile's
periodic jobs: per service a Deployment, a Service, a HorizontalPodAutoscaler and a migration Job;
a CronJob per periodic command; the ConfigMap and the Secret they read. The overlays in
deploy/k8s/overlays/ are written by hand. `--check` fails when a file differs from what this
writes (tests/test_k8s_manifests.py). docs/scaling.md.

    .venv/bin/python scripts/k8s_manifests.py [--check]
"""

import argparse
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "deploy" / "k8s" / "base"
sys.path.insert(0, str(ROOT / "common"))

from shop_common.topology import SERVICES, Service  # noqa: E402

IMAGE = "shop-services:latest"
# In a pod the service must answer on the pod's address, not on the loopback.
ANY_ADDRESS = "0.0.0.0"  # noqa: S104
CONFIG = "shop-config"
SECRETS = "shop-secrets"
PART_OF = {"app.kubernetes.io/part-of": "shop"}
HEADER = (
    "# Written by scripts/k8s_manifests.py from the topology and the Procfile: edit that script.\n"
)
# kubelet's probes send the pod's IP as Host, which ALLOWED_HOSTS refuses (400): they name one it
# accepts.
PROBE_HOST = [{"name": "Host", "value": "localhost"}]


def labels(service: str, component: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/component": component, **PART_OF}


def env_from() -> list[dict]:
    return [{"configMapRef": {"name": CONFIG}}, {"secretRef": {"name": SECRETS}}]


def container(name: str, command: list[str], **extra: object) -> dict:
    return {
        "name": name,
        "image": IMAGE,
        "command": command,
        "envFrom": env_from(),
        "securityContext": {"allowPrivilegeEscalation": False},
        **extra,
    }


def probe(port: int, *, period: int, failures: int) -> dict:
    return {
        "httpGet": {"path": "/health/", "port": port, "httpHeaders": PROBE_HOST},
        "periodSeconds": period,
        "timeoutSeconds": 3,
        "failureThreshold": failures,
    }


def deployment(service: Service) -> dict:
    web = labels(service.name, "web")
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service.name, "labels": web},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": web},
            "strategy": {"rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}},
            "template": {
                "metadata": {
                    "labels": web,
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(service.port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "containers": [
                        container(
                            "web",
                            ["python", "scripts/serve.py", service.name, "--host", ANY_ADDRESS],
                            ports=[{"name": "http", "containerPort": service.port}],
                            env=[
                                # The workers' metric files (shop_common.server).
                                {"name": "PROMETHEUS_MULTIPROC_DIR", "value": "/metrics-data"}
                            ],
                            volumeMounts=[{"name": "metrics-data", "mountPath": "/metrics-data"}],
                            # Not ready while its database does not answer; restarted only after
                            # three minutes of that (a restart cannot bring a database back).
                            readinessProbe=probe(service.port, period=10, failures=3),
                            livenessProbe=probe(service.port, period=30, failures=6),
                            startupProbe=probe(service.port, period=5, failures=24),
                            resources={
                                "requests": {"cpu": "250m", "memory": "256Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                        )
                    ],
                    "volumes": [{"name": "metrics-data", "emptyDir": {"medium": "Memory"}}],
                },
            },
        },
    }


def kube_service(service: Service) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "labels": labels(service.name, "web")},
        "spec": {
            "selector": {
                "app.kubernetes.io/name": service.name,
                "app.kubernetes.io/component": "web",
                **PART_OF,
            },
            "ports": [{"name": "http", "port": service.port, "targetPort": "http"}],
        },
    }


def autoscaler(service: Service) -> dict:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": service.name, "labels": labels(service.name, "web")},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": service.name},
            "minReplicas": 2,
            "maxReplicas": 6,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70},
                    },
                }
            ],
        },
    }


def migration_job(service: Service) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": f"{service.name}-migrate",
            "labels": labels(service.name, "migration"),
        },
        "spec": {
            "backoffLimit": 3,
            "ttlSecondsAfterFinished": 86400,
            "template": {
                "metadata": {"labels": labels(service.name, "migration")},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        container(
                            "migrate",
                            ["python", "manage.py", "prepare_service"],
                            workingDir=f"/app/{service.folder}",
                            resources={"requests": {"cpu": "100m", "memory": "192Mi"}},
                        )
                    ],
                },
            },
        },
    }


def periodic_jobs(procfile: Path) -> list[tuple[str, int, str, str]]:
    """(name, every seconds, service, command) of each `scripts/periodic.py` line of the Procfile."""
    pattern = re.compile(r"^([\w-]+): python scripts/periodic.py --every (\d+) (\w+) (\w+)$")
    return [
        (m[1], int(m[2]), m[3], m[4])
        for line in procfile.read_text().splitlines()
        if (m := pattern.match(line))
    ]


def cron_schedule(seconds: int) -> str:
    minutes = max(1, seconds // 60)
    return "* * * * *" if minutes == 1 else f"*/{minutes} * * * *"


def cronjob(name: str, every: int, service: Service, command: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "labels": labels(service.name, "periodic")},
        "spec": {
            "schedule": cron_schedule(every),
            # A run still going when the next is due: the next waits (each job is idempotent, but
            # two at once would only fight over the same rows).
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": every,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": max(every * 5, 300),
                    "template": {
                        "metadata": {"labels": labels(service.name, "periodic")},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                container(
                                    "run",
                                    ["python", "manage.py", command],
                                    workingDir=f"/app/{service.folder}",
                                    resources={"requests": {"cpu": "50m", "memory": "192Mi"}},
                                )
                            ],
                        },
                    },
                }
            },
        },
    }


def config_map() -> dict:
    data = {
        "DEBUG": "False",
        "DB_ENGINE": "mysql",
        "DB_HOST": "mysql",
        "DB_PORT": "3306",
        "DB_USER": "shop",
        "REDIS_URL": "redis://redis:6379/0",
        # The Service names are the Host headers of the calls between services; add the public
        # host name in an overlay.
        "ALLOWED_HOSTS": ",".join(["localhost", *(s.name for s in SERVICES)]),
        "HTTPS_ONLY": "False",
        "TRUSTED_PROXIES": "0",
        "WEB_CONCURRENCY": "2",
        "BIND_HOST": ANY_ADDRESS,
        # As docker-compose.yml: Stripe only until Razorpay's keys and webhook secret are added
        # (then PAYMENT_GATEWAYS=stripe,razorpay here and the three RAZORPAY_* in the Secret).
        "PAYMENT_GATEWAYS": "stripe",
        **{s.url_variable: f"http://{s.name}:{s.port}" for s in SERVICES},
    }
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": CONFIG, "labels": PART_OF},
        "data": data,
    }


SECRET_NAMES = (
    "SECRET_KEY",
    "JWT_SIGNING_KEY",
    "SERVICE_TOKEN_SIGNING_KEY",
    "DB_PASSWORD",
    "STRIPE_SECRET_KEY",
    "STRIPE_WEBHOOK_SECRET",
    "METRICS_TOKEN",
    *(s.client_secret_variable for s in SERVICES),
)


def secret() -> dict:
    """Names only: every value is a placeholder the overlays replace (dev generates its own; prod
    takes them from outside the repository)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SECRETS, "labels": PART_OF},
        "type": "Opaque",
        "stringData": {name: "replace-me" for name in SECRET_NAMES},
    }


def documents() -> dict[str, list[dict]]:
    """File name → its documents."""
    by_name = {s.name: s for s in SERVICES}
    files = {
        f"{service.name}.yaml": [
            deployment(service),
            kube_service(service),
            autoscaler(service),
            migration_job(service),
        ]
        for service in SERVICES
    }
    files["cronjobs.yaml"] = [
        cronjob(name, every, by_name[service], command)
        for name, every, service, command in periodic_jobs(ROOT / "Procfile")
    ]
    files["config.yaml"] = [config_map(), secret()]
    files["kustomization.yaml"] = [
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["config.yaml", *(f"{s.name}.yaml" for s in SERVICES), "cronjobs.yaml"],
        }
    ]
    return files


def render(docs: list[dict]) -> str:
    return HEADER + "---\n".join(yaml.safe_dump(doc, sort_keys=False) for doc in docs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args()
    stale = []
    for name, docs in documents().items():
        path = BASE / name
        text = render(docs)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if stale:
        sys.exit(f"deploy/k8s/base/ is stale ({', '.join(stale)}): run scripts/k8s_manifests.py")


if __name__ == "__main__":
    main()
