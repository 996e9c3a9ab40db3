# Combine: build wheels in one stage, run gunicorn as a non-root user in the next.
FROM python:3.11-slim AS build
WORKDIR /src
COPY setup.cfg pyproject.toml README.md ./
COPY combine_app ./combine_app
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    COMBINE_ENV=production \
    COMBINE_CONFIG_DIR=/app/combine-config \
    COMBINE_MIGRATIONS_DIR=/app/migrations \
    PORT=8000
RUN useradd --system --create-home --uid 10001 combine
WORKDIR /app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
COPY wsgi.py gunicorn.conf.py ./
COPY migrations ./migrations
COPY combine-config ./combine-config
USER combine
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/healthz', timeout=4)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
