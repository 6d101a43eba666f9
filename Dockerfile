# One image for web, worker, deliverer, beat and migrate; the demo target adds the vendor
# emulator. The app's files are root's and read-only to the app, which writes only /app/var
# (a volume: beat's schedule).
FROM python:3.12-slim AS base
RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz gettext \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv==0.13.9 \
 && useradd --create-home --uid 1000 runboard
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    LOG_FORMAT=json STATIC_ROOT=/app/staticfiles RUNBOARD_VAR_DIR=/app/var
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0 \
 && SECRET_KEY=compilemessages-only python manage.py compilemessages --ignore=.venv -v0 \
 && chown runboard:runboard /app/var
EXPOSE 8000

# The vendor emulator (docker compose --profile demo): its server's packages too.
FROM base AS demo
RUN uv sync --frozen --no-dev --group emulator --no-install-project
USER 1000
CMD ["python", "manage.py", "emulate", "--host", "0.0.0.0", "--port", "9000"]

FROM base AS production
USER 1000
CMD ["gunicorn", "-c", "python:dashboard.gunicorn_conf", "dashboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
