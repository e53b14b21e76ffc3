#!/usr/bin/env bash
# Sourced by scripts/test.sh: makes sure the real PostgreSQL and Redis that the scale-out tests use
# answer on 127.0.0.1 (TEST_POSTGRES_URL, TEST_REDIS_URL). Starts them when they are installed but
# stopped; installs them from Debian's packages under CI=true when missing. Elsewhere, a missing
# service only makes its tests skip, loudly (and under CI=true the tests themselves fail).
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if [ "$(id -u)" = 0 ]; then SUDO=""; AS_POSTGRES="runuser -u postgres --"; else SUDO="sudo"; AS_POSTGRES="sudo -u postgres"; fi

if ! up 6379 || ! up 5432 || ! command -v redis-server >/dev/null; then
  if [ "${CI:-}" = true ] && command -v apt-get >/dev/null &&
    { ! command -v redis-server >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; }; then
    echo "[converge] installing Redis and PostgreSQL from Debian's packages for the scale-out tests"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server postgresql >/dev/null
  fi
fi

if ! up 6379 && command -v redis-server >/dev/null; then
  echo "[converge] starting Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 50); do up 6379 && break; sleep 0.1; done
fi

if ! up 5432 && command -v pg_ctlcluster >/dev/null; then
  cluster=$(ls /etc/postgresql 2>/dev/null | head -n 1)
  if [ -n "$cluster" ]; then
    echo "[converge] starting PostgreSQL $cluster"
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$cluster" main start || true
    for _ in $(seq 50); do up 5432 && break; sleep 0.1; done
  fi
fi

# a PostgreSQL we installed ourselves asks for a password over TCP and has no `test` database yet
if up 5432 && [ -z "${TEST_POSTGRES_URL:-}" ] && command -v psql >/dev/null &&
  ! psql "postgres://postgres@127.0.0.1:5432/test" -c 'select 1' >/dev/null 2>&1; then
  if $AS_POSTGRES psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null 2>&1; then
    $AS_POSTGRES createdb test 2>/dev/null || true
    export TEST_POSTGRES_URL="postgres://postgres:postgres@127.0.0.1:5432/test"
  fi
fi

up 6379 || echo "[converge] WARNING: no Redis on 127.0.0.1:6379 — the scale-out tests will be skipped (CI=true: they fail)"
up 5432 || echo "[converge] WARNING: no PostgreSQL on 127.0.0.1:5432 — the scale-out tests will be skipped (CI=true: they fail)"
