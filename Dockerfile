# Ponte: build in one stage, run as a non-root user in a small one.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock rustfmt.toml ./
# sled 0.34.7 with a deadlock fix (vendor/sled/PONTE-PATCH.md).
COPY vendor ./vendor
COPY src ./src
COPY benches ./benches
COPY commands ./commands
COPY config ./config
COPY tests ./tests
RUN cargo build --release --locked --bin ponte

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/ponte --create-home ponte
COPY --from=build /src/target/release/ponte /usr/local/bin/ponte
COPY config/ponte.example.toml /etc/ponte/ponte.example.toml
USER ponte
# The data directory (the sled store). Mount a volume here and point
# `data_dir` in the configuration at it.
VOLUME ["/var/lib/ponte"]
ENV PONTE_CONFIG=/etc/ponte/ponte.toml \
    PONTE_DATA_DIR=/var/lib/ponte/data
# DISCORD_TOKEN comes from the environment (a secret), never from the file.
# /healthz and /metrics, when the configuration sets
# [ponte] health_addr = "127.0.0.1:9464" (use "0.0.0.0:9464" to scrape
# /metrics from outside the container; it has no authentication).
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
  CMD ["ponte", "healthcheck"]
ENTRYPOINT ["ponte"]
CMD ["run"]
