# dni-edge: the call-tracking edge proxy.
#
#   docker build -t dni-edge .
#   docker run -p 8080:8080 \
#     -e DNI_UPSTREAM=http://my-site:80 -e DNI_OPTICO_API_KEY=... \
#     -v $PWD/config.toml:/etc/dni-edge/config.toml:ro dni-edge
#
# Config: the file at $DNI_CONFIG (a mounted config.toml; the repository's example is
# baked in), overridden by DNI_* environment variables and then by `run` flags. Secrets
# come from the environment or from mounted files named by the config, never the image.

# --- build: install the package and its wheels into a virtualenv --------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A compiler for the scanner's C extensions (optional, but several times faster).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libc6-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
RUN python -m venv /venv
COPY pyproject.toml README.md ./
COPY proxy ./proxy
COPY rules ./rules
COPY sandbox ./sandbox
RUN /venv/bin/pip install . \
    && /venv/bin/python -c "from proxy.server import require_c_parser; require_c_parser()" \
    && /venv/bin/python -c "import rules._html5"

# --- runtime: the virtualenv and the config, run as an unprivileged user ---------------
FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DNI_CONFIG=/etc/dni-edge/config.toml \
    DNI_LISTEN=0.0.0.0:8080
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin dni
COPY --from=build /venv /venv
COPY config.toml /etc/dni-edge/config.toml
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
    CMD ["dni-edge", "healthcheck"]
# Exec form: the proxy is PID 1 and gets SIGTERM itself (it drains, then exits 0).
ENTRYPOINT ["dni-edge", "run"]
