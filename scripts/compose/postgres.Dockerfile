# PostgreSQL from Debian's postgresql package on the stack's base image: the offline equivalent
# of the public postgres image (compose.offline.yaml selects it). Same contract: POSTGRES_USER,
# POSTGRES_PASSWORD, POSTGRES_DB; password (scram-sha-256) authentication for every TCP client.
# Build context: scripts/compose.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# Lets scripts/compose-test remove the images its builds leave dangling (and only those).
LABEL org.latentmesh.image=1
ENV DEBIAN_FRONTEND=noninteractive
# dpkg without fsync: the image layer is written once (several times faster on overlayfs).
RUN echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/latentmesh-unsafe-io \
    && apt-get update \
    && apt-get install -y --no-install-recommends postgresql \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY postgres-entrypoint /usr/local/bin/postgres-entrypoint
USER postgres
ENV PGDATA=/var/lib/postgresql/data
VOLUME /var/lib/postgresql/data
EXPOSE 5432
STOPSIGNAL SIGINT
CMD ["postgres-entrypoint"]
