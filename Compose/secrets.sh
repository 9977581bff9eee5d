#!/usr/bin/env bash
# Gives each container of Compose/docker-compose.yml its own certificate and key and nothing more: a folder
# per service under Compose/.secrets (ca.pem, <service>.pem, <service>-key.pem), mounted read-only at
# /mesh/certs. No container sees the CA's key or another party's key. Also, made once: the database password
# (the Compose secret `postgres_password`, for PostgreSQL and the services that use it) and the key the
# notification replicas seal webhook secrets with (`webhook_secrets_key`).
#
#   bash Compose/secrets.sh [TOPOLOGY]   (default Compose/topology.json; its "certificates" folder)
#
# The files belong to the containers' user (uid 10001), readable by it alone; the ownership is set from inside
# a container of the base image, so a user of the docker group needs no sudo.
set -euo pipefail
cd "$(dirname "$0")/.."
topology=${1:-Compose/topology.json}
mesh=${MESH:-.build/debug/mesh}
out=Compose/.secrets
# PostgreSQL's server certificate (DNS:postgres) from the same CA, beside every service's.
"$mesh" certs --topology "$topology" --add postgres:service >/dev/null
certificates=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["certificates"])' "$topology")
mkdir -p "$out"
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ]; then
  # Back to this user for the update (a run before gave them to the containers' user).
  docker run --rm -v "$PWD/$out:/secrets" --user 0 jiaxing-benefits/base:bookworm \
    sh -c "chown -R $(id -u):$(id -g) /secrets && chmod -R u+w /secrets"
fi
for name in catalog eligibility disbursement notification gateway postgres; do
  rm -rf "${out:?}/$name"
  mkdir -p "$out/$name"
  cp "$certificates/ca.pem" "$certificates/$name.pem" "$certificates/$name-key.pem" "$out/$name/"
done
[ -s "$out/postgres-password" ] || openssl rand -hex 24 > "$out/postgres-password"
# The 32-byte key the notification replicas seal webhook secrets with.
[ -s "$out/webhook-secrets-key" ] || head -c 32 /dev/urandom > "$out/webhook-secrets-key"
docker run --rm -v "$PWD/$out:/secrets" --user 0 jiaxing-benefits/base:bookworm \
  sh -c 'chown -R 10001:10001 /secrets && chmod -R u=rX,go= /secrets'
echo "secrets in $out: $(ls "$out" | tr '\n' ' ')"
