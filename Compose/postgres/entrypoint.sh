#!/bin/sh
# Starts PostgreSQL as the mesh's Compose deployment runs it. As root: the server's certificate and key (from
# the mesh CA, or the operator's) copied where only postgres reads them, and on first start a cluster whose
# only role is `mesh`, its password from the Compose secret. Then the server itself, as postgres, with every
# connection over TLS 1.3 and scram-sha-256 (pg_hba.conf has no line for an unencrypted one).
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
tls=${MESH_POSTGRES_TLS:-/mesh/certs}
password_file=${MESH_POSTGRES_PASSWORD_FILE:-/run/secrets/postgres_password}
install -d -o postgres -g postgres -m 0700 "$PGDATA" /var/lib/postgresql/tls
install -d -o postgres -g postgres -m 2775 /var/run/postgresql
install -o postgres -g postgres -m 0644 "$tls/postgres.pem" /var/lib/postgresql/tls/server.crt
install -o postgres -g postgres -m 0600 "$tls/postgres-key.pem" /var/lib/postgresql/tls/server.key
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  password=$(mktemp)
  cat "$password_file" > "$password"
  chown postgres "$password"
  as_postgres initdb -D "$PGDATA" -U mesh --pwfile="$password" --auth-local=peer --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f "$password"
  printf 'local all all peer map=operators\nhostssl all all all scram-sha-256\n' > "$PGDATA/pg_hba.conf"
  printf 'operators postgres mesh\noperators root mesh\n' > "$PGDATA/pg_ident.conf"
  echo "CREATE DATABASE mesh OWNER mesh" | as_postgres postgres --single -D "$PGDATA" -j postgres >/dev/null
fi
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" \
  -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql -c max_connections=200 \
  -c ssl=on -c ssl_cert_file=/var/lib/postgresql/tls/server.crt -c ssl_key_file=/var/lib/postgresql/tls/server.key \
  -c ssl_min_protocol_version=TLSv1.3
