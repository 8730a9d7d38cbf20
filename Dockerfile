# One image for all five services, built from the repository root:
#   docker build -t carethread .
# The command picks the service: `python -m referrals`, `python -m care_plans`, ...
# (docker-compose.yml runs each of them).
FROM python:3.11-slim

ARG UV_VERSION=0.13.9

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never

RUN pip install "uv==${UV_VERSION}"

WORKDIR /app

# The workspace: its root (settings and the lock), the shared library and the services.
COPY pyproject.toml uv.lock ./
COPY shared/ shared/
COPY services/ services/

# Exactly the locked versions, production dependencies only (no dev group), every
# workspace member installed into /app/.venv.
RUN uv sync --all-packages --locked --no-dev

# Run as an unprivileged user; the code and the virtual environment stay owned by root.
# data/ is the one place a service may write (the dev signing key outside production).
RUN groupadd --system --gid 10001 carethread \
    && useradd --system --uid 10001 --gid carethread --home-dir /app --no-create-home carethread \
    && mkdir -p /app/data \
    && chown carethread:carethread /app/data
USER carethread

ENV PATH=/app/.venv/bin:$PATH

EXPOSE 8001 8002 8003 8004 8005

# No service by default: run the image with the one you want, e.g. `python -m referrals`.
CMD ["carethread", "--help"]
