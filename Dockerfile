FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PROJECT_ENVIRONMENT=/opt/venv PATH=/opt/venv/bin:$PATH
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY . .
RUN DJANGO_SETTINGS_MODULE=symbiosis.settings SECRET_KEY=build python manage.py collectstatic --no-input -v0
RUN useradd --system --uid 1000 symbiosis && chown -R symbiosis /app
USER symbiosis
EXPOSE 8000
# gunicorn reads its number of worker processes from WEB_CONCURRENCY: 2 x CPU cores + 1 (gunicorn's
# advice), one request per process (no threads sharing a GIL). 5 suits the 2-core reference machine
# (benchmarks/api_load.py); set it for yours.
ENV WEB_CONCURRENCY=5
CMD ["gunicorn", "symbiosis.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
