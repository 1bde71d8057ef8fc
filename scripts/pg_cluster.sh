#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on 127.0.0.1, for the PostgreSQL pass of the tests.
#
#   scripts/pg_cluster.sh start [DIR]   create and start a cluster in DIR (default: a new temp dir);
#                                       prints the SQLAlchemy URL on stdout, e.g.
#                                       postgresql+psycopg://postgres@127.0.0.1:41234/wallet_test
#   scripts/pg_cluster.sh url DIR       prints the URL of the cluster in DIR again
#   scripts/pg_cluster.sh stop DIR      stops the cluster and deletes DIR
#
# For a developer:
#   dir=$(mktemp -d) && export WALLET_TEST_DATABASE_URL=$(scripts/pg_cluster.sh start "$dir")
#   .venv/bin/pytest -m postgres
#   scripts/pg_cluster.sh stop "$dir"
#
# Uses the newest /usr/lib/postgresql/*/bin (as root, installs Debian's `postgresql` when there is
# none). The server runs with fsync off: the data is thrown away anyway. initdb refuses to run as
# root, so as root the cluster belongs to the OS user `postgres`. Messages go to stderr.
# PG_CLUSTER_OPTIONS adds server settings, e.g. PG_CLUSTER_OPTIONS="-c shared_buffers=4GB" (the
# region bench sizes its cluster as a production server would be).
set -euo pipefail

DB_NAME=${PG_CLUSTER_DB:-wallet_test}

say() { echo "pg_cluster: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

find_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] && [ "$(id -u)" = 0 ]; then
    say "no PostgreSQL server binaries in /usr/lib/postgresql: installing Debian's postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >&2
    apt-get install -y -q postgresql >&2
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  [ -n "$dir" ] && [ -x "$dir/initdb" ] || die "no PostgreSQL server found (apt-get install postgresql)"
  echo "$dir"
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves. The working
# directory is the cluster's (PostgreSQL's tools fail when they cannot read the current directory).
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then
      (cd "$CLUSTER_DIR" && runuser -u postgres -- "$@")
    else
      (cd "$CLUSTER_DIR" && su postgres -s /bin/sh -c "$(printf '%q ' "$@")")
    fi
  else
    (cd "$CLUSTER_DIR" && "$@")
  fi
}

free_port() {
  python3 - <<'PY'
import socket
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
}

url_of() { echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$CLUSTER_DIR/port")/$DB_NAME"; }

start() {
  local bindir port attempt
  bindir=$(find_bindir)
  if [ -n "${1:-}" ]; then
    CLUSTER_DIR=$1
    mkdir -p "$CLUSTER_DIR"
  else
    CLUSTER_DIR=$(mktemp -d "${TMPDIR:-/tmp}/wallet-pg.XXXXXX")
  fi
  CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
  [ ! -e "$CLUSTER_DIR/data" ] || die "$CLUSTER_DIR/data already exists: stop that cluster first"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --user-group --no-create-home postgres
    chown postgres: "$CLUSTER_DIR"
    chmod 700 "$CLUSTER_DIR"
  fi
  echo "$bindir" >"$CLUSTER_DIR/bindir"
  as_owner "$bindir/initdb" -D "$CLUSTER_DIR/data" -A trust -U postgres -E UTF8 --no-locale --no-sync \
    >"$CLUSTER_DIR/initdb.log" 2>&1 || { cat "$CLUSTER_DIR/initdb.log" >&2; die "initdb failed"; }
  # The free port is found before the server binds it: retry on the rare race.
  for attempt in 1 2 3; do
    port=$(free_port)
    echo "$port" >"$CLUSTER_DIR/port"
    if as_owner "$bindir/pg_ctl" -D "$CLUSTER_DIR/data" -l "$CLUSTER_DIR/server.log" -w -t 60 \
        -o "-h 127.0.0.1 -p $port -k $CLUSTER_DIR -F -c fsync=off -c full_page_writes=off -c synchronous_commit=off ${PG_CLUSTER_OPTIONS:-}" \
        start >/dev/null; then
      break
    fi
    [ "$attempt" -lt 3 ] || { cat "$CLUSTER_DIR/server.log" >&2; die "the server did not start"; }
    say "start on port $port failed, retrying"
  done
  as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB_NAME" \
    || { cat "$CLUSTER_DIR/server.log" >&2; die "createdb $DB_NAME failed"; }
  say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $CLUSTER_DIR"
  say "stop it with: $0 stop $CLUSTER_DIR"
  url_of
}

stop() {
  CLUSTER_DIR=${1:?usage: $0 stop DIR}
  [ -d "$CLUSTER_DIR" ] || { say "$CLUSTER_DIR does not exist: nothing to stop"; return 0; }
  CLUSTER_DIR=$(cd "$CLUSTER_DIR" && pwd)
  [ -f "$CLUSTER_DIR/bindir" ] || die "$CLUSTER_DIR is not a cluster made by this script: not deleting it"
  if [ -f "$CLUSTER_DIR/data/postmaster.pid" ]; then
    as_owner "$(cat "$CLUSTER_DIR/bindir")/pg_ctl" -D "$CLUSTER_DIR/data" -m immediate -w stop >/dev/null \
      || say "pg_ctl stop failed (already stopped?)"
  fi
  rm -rf "$CLUSTER_DIR"
  say "stopped and deleted $CLUSTER_DIR"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  url) CLUSTER_DIR=${2:?usage: $0 url DIR}; url_of ;;
  *) echo "usage: $0 start [DIR] | url DIR | stop DIR" >&2; exit 2 ;;
esac
