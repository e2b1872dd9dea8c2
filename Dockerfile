# One image for both production processes: `socialrx api` (the default) and `socialrx worker`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY . .
RUN pip install . \
    && useradd --system --no-create-home socialrx
# Nothing in the image needs root at run time.
USER socialrx

ENV SOCIALRX_API_HOST=0.0.0.0 \
    SOCIALRX_API_PORT=8000
EXPOSE 8000
CMD ["socialrx", "api"]
