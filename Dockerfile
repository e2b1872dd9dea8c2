# One image for the production processes: `socialrx api` (the default), `socialrx worker` and
# `socialrx codec-server`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Named, not `COPY . .`: whatever else lies in the build context (an .env, a venv, var/ with
# a SQLite database) can never end up in a layer, whatever .dockerignore says.
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY core ./core
COPY catalogue ./catalogue
COPY accounts ./accounts
COPY reports ./reports
COPY activities ./activities
COPY workflows ./workflows
COPY api ./api
COPY socialrx ./socialrx
RUN pip install . \
    && useradd --system --no-create-home socialrx
# Nothing in the image needs root at run time.
USER socialrx

ENV SOCIALRX_API_HOST=0.0.0.0 \
    SOCIALRX_API_PORT=8000 \
    SOCIALRX_ENV=production
EXPOSE 8000
CMD ["socialrx", "api"]
