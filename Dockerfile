# Bookend application image: web (gunicorn), Celery worker and beat share it.
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BOOKEND_VAR_DIR=/app/var

WORKDIR /app
RUN useradd --create-home --uid 1000 bookend

COPY pyproject.toml README.md ./
RUN pip install --upgrade pip && pip install .

COPY . .
# collectstatic needs settings that load; the real secret comes at run time.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R bookend:bookend /app/var

USER bookend
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
