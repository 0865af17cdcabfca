# Dockerfile - portcullis on Debian 12 (bookworm): the web server and the
# FastCGI responders, started by the same scripts/stack.sh as `make run`.
#
# Built by docker-compose.yml (`docker compose up --build`), which points
# the app at its own PostgreSQL and Redis services (URL files built from
# the compose secrets by ops/docker-entrypoint.sh), so the stack starts no
# private ones.  Statically checked by `make check` (tests/static/); no
# image was built where those checks run (no Docker engine there): see
# docs/deployment.md, "Docker compose".
#
#   docker build --build-arg COMMIT="$(git rev-parse --short=12 HEAD)" -t portcullis .
#
# Processes: the entrypoint runs as root only to hand the mounted secrets to
# the user `portcullis` (uid 10001), then everything (the web server, the
# responders, the log filter) runs as that user: the ports inside the
# container (8080, 8443) need no privilege.

# ---- build: the same compiler and -dev packages as scripts/install-deps.sh build
FROM debian:bookworm-slim AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc make pkg-config libc6-dev libfcgi-dev libhiredis-dev libpq-dev \
      libjwt-dev libcjson-dev libcrypt-dev libssl-dev \
      libpasswdqc-dev passwdqc python3-zxcvbn apache2-dev \
 && rm -rf /var/lib/apt/lists/*
# The commit portcullis_build_info reports (.git is not in the build context).
ARG COMMIT=unknown
WORKDIR /src
COPY Makefile ./
COPY scripts/ scripts/
COPY lib/ lib/
COPY src/ src/
# apache/mod_portcullis_conncap.c: Apache's per-address connection cap (apxs).
COPY apache/ apache/
RUN mkdir -p cgi-bin bin && make -j"$(nproc)" COMMIT="$COMMIT" all

# ---- run: the shared libraries, the web servers (lighttpd by default;
# WEB_SERVER=apache for Apache), and what scripts/stack.sh uses: the
# packages `install-deps.sh run` adds, less the PostgreSQL and Redis servers
FROM debian:bookworm-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libfcgi0ldbl libhiredis0.14 libpq5 libjwt0 libcjson1 libssl3 libcrypt1 \
      libpasswdqc1 passwdqc \
      lighttpd lighttpd-mod-openssl lighttpd-modules-lua \
      apache2 libapache2-mod-fcgid spawn-fcgi \
      openssl curl ca-certificates procps util-linux \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/portcullis \
      --shell /usr/sbin/nologin portcullis \
 && install -d -m 0700 -o portcullis -g portcullis /var/lib/portcullis
WORKDIR /app
COPY --from=build /src/cgi-bin/ cgi-bin/
COPY --from=build /src/bin/ bin/
COPY --from=build /src/share/ share/
COPY --from=build /src/build/apache/ build/apache/
COPY scripts/ scripts/
COPY sql/ sql/
COPY lighttpd/ lighttpd/
COPY apache/ apache/
COPY ops/docker-entrypoint.sh ops/
COPY openapi.yaml ./
# Secrets, certificate, sockets, the shared metrics file (var/run) and logs
# (var/log, the volume promtail reads) live here.  LOG_FILE=-: the JSON
# lines go to standard error (docker logs); see docs/deployment.md.
ENV VAR_DIR=/var/lib/portcullis \
    HTTPS_PORT=8443 \
    HTTP_PORT=8080 \
    LOG_FILE=- \
    API_DOCS=off
VOLUME ["/var/lib/portcullis"]
EXPOSE 8443 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s \
  CMD curl -fsk https://localhost:8443/api/health || exit 1
# `run` stays in the foreground; SIGTERM (docker stop) stops the web server
# and the responders cleanly.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ops/docker-entrypoint.sh"]
CMD ["scripts/stack.sh", "run"]
