# Dockerfile - portcullis on Debian 12 (bookworm): the web server and the
# FastCGI responders, started by the same scripts/stack.sh as `make run`.
#
# Built by docker-compose.yml (`docker compose up --build`), which points
# DATABASE_URL and REDIS_URL at its own PostgreSQL and Redis services, so
# the stack starts no private ones.  Statically checked by
# tests/integration/52_containers_static.sh; no image was built where that
# test runs (no Docker engine there): see README, "Operations: metrics and logs".

# ---- build: the same compiler and -dev packages as scripts/install-deps.sh build
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libfcgi-dev libhiredis-dev libpq-dev \
      libjwt-dev libcjson-dev libcrypt-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts/ scripts/
COPY lib/ lib/
COPY src/ src/
RUN mkdir -p cgi-bin bin && make -j"$(nproc)" all

# ---- run: the shared libraries, the web servers (lighttpd by default;
# WEB_SERVER=apache for Apache), and what scripts/stack.sh uses: the
# packages `install-deps.sh run` adds, less the PostgreSQL and Redis servers
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libfcgi0ldbl libhiredis0.14 libpq5 libjwt0 libcjson1 libssl3 libcrypt1 \
      lighttpd lighttpd-mod-openssl lighttpd-modules-lua \
      apache2 libapache2-mod-fcgid spawn-fcgi \
      openssl curl ca-certificates procps util-linux \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /src/cgi-bin/ cgi-bin/
COPY --from=build /src/bin/ bin/
COPY scripts/ scripts/
COPY sql/ sql/
COPY lighttpd/ lighttpd/
COPY apache/ apache/
# Secrets, certificate, sockets, the shared metrics file (var/run) and logs
# (var/log, the volume promtail reads) live here.
ENV VAR_DIR=/var/lib/portcullis \
    HTTPS_PORT=8443 \
    HTTP_PORT=8080
VOLUME ["/var/lib/portcullis"]
EXPOSE 8443 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD curl -fsk https://localhost:8443/api/health || exit 1
# `run` stays in the foreground; SIGTERM (docker stop) stops lighttpd and
# the responders cleanly.
STOPSIGNAL SIGTERM
CMD ["scripts/stack.sh", "run"]
