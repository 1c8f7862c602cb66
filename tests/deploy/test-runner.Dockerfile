# syntax=docker/dockerfile:1
# The test runner of docker-compose.test.yml: the whole workspace with its dev group, running the
# per-service and per-package test suites against the compose stack's Kafka and PostgreSQL.
# Build context = the repository root (see docker-compose.test.yml).

FROM python:3.11.14-slim-bookworm AS builder
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app/src
COPY pyproject.toml uv.lock ./
COPY packages/ packages/
COPY services/ services/
RUN uv sync --frozen --all-packages --no-editable

FROM python:3.11.14-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 streamflow \
    && useradd --system --uid 10001 --gid streamflow --create-home --home-dir /home/streamflow \
       --shell /usr/sbin/nologin streamflow
COPY --from=builder /app/.venv /app/.venv
WORKDIR /app/src
COPY pyproject.toml conftest.py ./
COPY packages/ packages/
COPY services/ services/
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
ENTRYPOINT ["python", "-m", "pytest"]
CMD ["-p", "no:cacheprovider", "packages", "services"]
