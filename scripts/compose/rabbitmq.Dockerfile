# RabbitMQ from Debian's rabbitmq-server on the stack's base image: the offline equivalent of the
# public rabbitmq image (compose.offline.yaml selects it). Same configuration as the shipped one:
# scripts/compose/rabbitmq.conf (24 h consumer timeout) plus credentials from the environment.
ARG BASE=debian:bookworm-slim
FROM ${BASE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
    && apt-get install -y --no-install-recommends rabbitmq-server \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
    && mkdir -p /var/lib/rabbitmq /etc/rabbitmq/latentmesh && chown -R rabbitmq:rabbitmq /var/lib/rabbitmq /etc/rabbitmq
COPY scripts/compose/rabbitmq.conf /etc/rabbitmq/latentmesh/rabbitmq.conf
COPY scripts/compose/rabbitmq-entrypoint /usr/local/bin/rabbitmq-entrypoint
USER rabbitmq
ENV HOME=/var/lib/rabbitmq
VOLUME /var/lib/rabbitmq
EXPOSE 5672
CMD ["rabbitmq-entrypoint"]
