# Pier's image: gunicorn serves the web app (gunicorn.conf.py), and the same image runs the
# worker (`python -m jobs.worker`) and the migrations (`flask --app app db upgrade`).
# docker-compose.yml runs all three beside Lago; README.md "Production" explains the settings.

# The front-end libraries come from the npm registry at build, as `make setup` does locally.
FROM node:22-bookworm AS vendor
WORKDIR /build
COPY Makefile package.json package-lock.json ./
RUN make vendor

# Pier's dependencies (pyproject.toml, without the dev and sandbox extras) in a virtualenv.
FROM python:3.11-slim-bookworm AS dependencies
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; deps = tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps))" \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIER_ENV=production \
    PIER_BIND=0.0.0.0:8000
RUN groupadd --system --gid 10001 pier \
    && useradd --system --uid 10001 --gid pier --home-dir /app --no-create-home --shell /usr/sbin/nologin pier
WORKDIR /app
COPY --from=dependencies /opt/venv /opt/venv
COPY app.py gunicorn.conf.py ./
COPY portal ./portal
COPY jobs ./jobs
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY --from=vendor /build/static/vendor ./static/vendor
# instance/ holds the invoice PDF cache (and file mail, if chosen); a volume keeps it.
RUN mkdir -p /app/instance && chown pier:pier /app/instance
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "portal.health.probe"]
# Workers' heartbeat files in memory: /tmp on the image's overlay can stall them.
CMD ["gunicorn", "--worker-tmp-dir", "/dev/shm", "app:app"]
