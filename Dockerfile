# One image for the five LatentMesh services and meshctl.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
      libopenblas-dev liblapacke-dev librabbitmq-dev libpq-dev libpng-dev libsqlite3-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Shared Shared
COPY Services Services
COPY Benchmarks Benchmarks
COPY Tests Tests
COPY Protos Protos
RUN swift build -c release --static-swift-stdlib \
    && mkdir /out && cp .build/release/*-svc .build/release/meshctl /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libopenblas0-pthread liblapacke librabbitmq4 libpq5 libpng16-16 libsqlite3-0 curl ca-certificates \
      libcurl4 libxml2 tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
ARG GIT_COMMIT=unknown
ENV MESH_GIT_COMMIT=${GIT_COMMIT} MESH_ARTIFACTS_DIR=/artifacts
VOLUME /artifacts
EXPOSE 9100
STOPSIGNAL SIGTERM
