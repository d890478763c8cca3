# Flywheel — `docker build -t flywheel . && docker run --env-file .env -p 3000:3000 -v flywheel-data:/data flywheel`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite:////data/flywheel.db \
    PORT=3000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
COPY prompts ./prompts
RUN pip install --no-compile . \
    && useradd --system --uid 10001 --home-dir /app flywheel \
    && mkdir -p /data && chown flywheel /data

USER flywheel
VOLUME ["/data"]
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request, sys; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4); sys.exit(0)" || exit 1

CMD ["flywheel", "serve"]
