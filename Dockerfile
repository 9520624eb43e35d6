FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CROSSLINE_VAR_DIR=/app/var
WORKDIR /app
COPY pyproject.toml README.md ./
COPY . .
RUN pip install --no-cache-dir . && useradd --create-home crossline && mkdir -p /app/var && chown crossline /app/var
USER crossline
EXPOSE 8000
CMD ["gunicorn", "tracker.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3"]
