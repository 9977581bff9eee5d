# The bases of Compose/images.sh for a machine that reaches an image registry (MESH_IMAGE_SOURCE=registry):
# Debian bookworm and the packages named, as debootstrap makes them where no registry is reachable.
FROM debian:bookworm-slim
ARG PACKAGES
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PACKAGES \
    && rm -rf /var/lib/apt/lists/* /var/lib/postgresql/15 /etc/postgresql/15
