# One image for the five LatentMesh services and meshctl.
#
# The Swift binaries are built on the host with the static Swift standard library and Foundation
# (Package.swift `staticStdlib`) and copied in (scripts/compose-stage puts them and the prepared
# models under .latentmesh/compose/stage), so the image carries no Swift runtime:
# the test command has already built them, so the image build adds seconds instead of a second
# full Swift build (~7+ min on two cores), and no Swift toolchain image has to be pulled.
#
# BASE: debian:bookworm-slim online, or the offline image scripts/compose-base makes with
# debootstrap (latentmesh-base:bookworm). Either way the runtime libraries below come from the
# Debian package registry; the datasets and the fortune corpus are the files of their Debian
# packages as scripts/bootstrap installed them on the host (staged by scripts/compose-stage).
ARG BASE=debian:bookworm-slim
FROM ${BASE}
# Lets scripts/compose-test remove the images its builds leave dangling (and only those).
LABEL org.latentmesh.image=1
ENV DEBIAN_FRONTEND=noninteractive
# dpkg without fsync: the image layer is written once (several times faster on overlayfs).
RUN echo force-unsafe-io > /etc/dpkg/dpkg.cfg.d/latentmesh-unsafe-io \
    && apt-get update \
    && apt-get install -y --no-install-recommends \
       libopenblas0-pthread liblapacke librabbitmq4 libpq5 libpng16-16 libsqlite3-0 \
       libstdc++6 libgcc-s1 ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY .latentmesh/compose/stage/models/ /opt/latentmesh/models/
# dataset-fashion-mnist, ruby-gemojione, openclipart-png, fortunes-min (files at their paths).
COPY .latentmesh/compose/stage/data/ /
COPY .latentmesh/compose/stage/bin/ /usr/local/bin/
RUN useradd --system --create-home --home-dir /var/lib/latentmesh latentmesh \
    && mkdir -p /artifacts && chown latentmesh:latentmesh /artifacts \
    && ! ldd /usr/local/bin/*-svc /usr/local/bin/meshctl | grep 'not found'
ARG GIT_COMMIT=unknown
ENV MESH_GIT_COMMIT=${GIT_COMMIT} MESH_ARTIFACTS_DIR=/artifacts MESH_MODELS_DIR=/opt/latentmesh/models \
    MESH_METRICS_PORT=9100
USER latentmesh
WORKDIR /var/lib/latentmesh
VOLUME /artifacts
EXPOSE 9100
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=20s --retries=5 \
    CMD curl -fsS http://127.0.0.1:9100/health || exit 1
