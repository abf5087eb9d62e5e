# RabbitMQ from Debian's rabbitmq-server on the stack's base image: the offline equivalent of the
# public rabbitmq image (compose.offline.yaml selects it). Same configuration as the shipped one:
# scripts/compose/rabbitmq.conf (24 h consumer timeout) plus credentials from the environment.
# Build context: scripts/compose.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# Lets scripts/compose-test remove the images its builds leave dangling (and only those).
LABEL org.latentmesh.image=1
ENV DEBIAN_FRONTEND=noninteractive
# dpkg without fsync: the image layer is written once (several times faster on overlayfs).
RUN echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/latentmesh-unsafe-io \
    && apt-get update \
    && apt-get install -y --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/rabbitmq /etc/rabbitmq/conf.d && chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
# Where the public image gets it too (compose.yaml mounts it there).
COPY rabbitmq.conf /etc/rabbitmq/conf.d/90-latentmesh.conf
COPY rabbitmq-entrypoint /usr/local/bin/rabbitmq-entrypoint
USER rabbitmq
ENV HOME=/var/lib/rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672
CMD ["rabbitmq-entrypoint"]
