# One image for all six services; docker-compose.yml picks the service with the command.
FROM python:3.11-slim-bookworm

RUN apt-get update \
 && apt-get install -y --no-install-recommends libmariadb-dev pkg-config gcc \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/ requirements/
COPY common/ common/
RUN pip install --no-cache-dir -r requirements/runtime.txt -e common

COPY . .

ENV PYTHONUNBUFFERED=1 \
    BIND_HOST=0.0.0.0 \
    DB_ENGINE=mysql

# docker-compose.yml runs, per service: scripts/container-start.sh <service>
ENTRYPOINT ["scripts/container-start.sh"]
