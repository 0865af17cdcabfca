#!/usr/bin/env bash
# docker-compose.yml as Debian's docker-compose 1.29 (Compose v1) reads it:
# `docker-compose config` parses, interpolates and validates it against its
# own schema without a Docker engine.  Run with throwaway secret files and
# no .env, so what it sees is the file alone.  The Compose v2 schema check
# is 31_compose_schema_npm.sh.
source "$(dirname "$0")/lib.sh"
cd "$ROOT" || exit 1

if ! command -v docker-compose >/dev/null; then
	not_ok "docker-compose (Debian's, 1.29) is installed (scripts/install-deps.sh test)"
	exit 0
fi
ver=$(docker-compose version --short 2>/dev/null)
ok "docker-compose $ver"

# A copy of what compose reads: the file, the bind-mounted ops/ files, and
# secrets/ filled with placeholders.
mkdir -p "$TMP/p/secrets"
cp docker-compose.yml Dockerfile "$TMP/p/"
cp -r ops "$TMP/p/"
for s in $(python3 -c 'import yaml; print(" ".join(yaml.safe_load(open("docker-compose.yml"))["secrets"]))'); do
	echo placeholder >"$TMP/p/secrets/$s"
done
if out=$(cd "$TMP/p" && env -i PATH="$PATH" HOME="$TMP" docker-compose -f docker-compose.yml config 2>&1 >"$TMP/config.yml"); then
	ok "docker-compose $ver config accepts docker-compose.yml"
else
	not_ok "docker-compose $ver config: $(printf '%s' "$out" | tail -n 5)"
fi
if [ -z "$out" ]; then ok "docker-compose config prints no warning"; else
	not_ok "docker-compose config warns: $(printf '%s' "$out" | head -n 3)"; fi
if grep -q '^name:' docker-compose.yml; then
	not_ok "no top-level name: (Compose v1 rejects it)"
else
	ok "no top-level name: (Compose v1 rejects it; the project is named after the directory)"
fi
services=$(python3 -c 'import yaml,sys; print(" ".join(sorted(yaml.safe_load(open(sys.argv[1]))["services"])))' "$TMP/config.yml" 2>/dev/null)
expect_eq "$services" "alertmanager app grafana loki postgres prometheus promtail redis" \
	"docker-compose config lists the eight services"
