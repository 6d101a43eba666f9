# One image for web, worker, beat, migrate and the demo emulator.
FROM python:3.12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends graphviz \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir uv==0.13.9 \
 && useradd --create-home --uid 1000 runboard
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project && chown -R runboard /app
ENV PATH="/app/.venv/bin:$PATH" PYTHONUNBUFFERED=1 LOG_FORMAT=json STATIC_ROOT=/app/staticfiles
COPY --chown=runboard . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v0
USER 1000
EXPOSE 8000
CMD ["gunicorn", "dashboard.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
