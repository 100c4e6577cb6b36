# Ponte: build in one stage, run as a non-root user in a small one.
FROM rust:1.95-bookworm AS build
WORKDIR /src

# The dependencies, in a layer of their own: built against empty targets, so
# a change to Ponte's sources rebuilds Ponte only.
COPY Cargo.toml Cargo.lock ./
# sled 0.34.7 with a deadlock fix (vendor/sled/PONTE-PATCH.md).
COPY vendor ./vendor
RUN mkdir -p src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && for bench in store domain scale; do echo 'fn main() {}' > "benches/$bench.rs"; done \
 && cargo build --release --locked --bin ponte \
 && rm -rf src benches

# Ponte itself (the files it includes at compile time too).
COPY rustfmt.toml ./
COPY src ./src
COPY benches ./benches
COPY commands ./commands
COPY config ./config
# COPY keeps the files' times, which may be older than the empty targets.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked --bin ponte

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/ponte --create-home ponte \
 && mkdir -p /var/lib/ponte/data /etc/ponte \
 && chown -R ponte:ponte /var/lib/ponte \
 && chmod 0700 /var/lib/ponte
# Stripped by the release profile ([profile.release] strip).
COPY --from=build /src/target/release/ponte /usr/local/bin/ponte
# The example as the default configuration: mount your own over it.
COPY config/ponte.example.toml /etc/ponte/ponte.toml
USER ponte
WORKDIR /var/lib/ponte
# The data (the sled store), owned by the ponte user. Mount a volume here.
VOLUME ["/var/lib/ponte"]
# PONTE_DATA_DIR is the data directory of every command, `run` included,
# whatever the configuration's data_dir says.
ENV PONTE_CONFIG=/etc/ponte/ponte.toml \
    PONTE_DATA_DIR=/var/lib/ponte/data
# DISCORD_TOKEN (and PONTE_BACKUP_SECRET, for `ponte backup` while it runs)
# come from the environment, never from the file.
# /healthz and /metrics at the configuration's health_addr (the example's is
# 127.0.0.1:9464; use "0.0.0.0:9464" to scrape /metrics from outside the
# container: it has no authentication).
EXPOSE 9464
# Alerts and heartbeats from monitoring systems, at [inbound].addr (e.g.
# "0.0.0.0:9465", as the example suggests; each integration has its secret).
EXPOSE 9465
HEALTHCHECK --interval=30s --timeout=15s --start-period=60s --retries=3 \
  CMD ["ponte", "healthcheck"]
# Ponte handles SIGTERM itself (also as PID 1): a clean stop within 10 s.
STOPSIGNAL SIGTERM
ENTRYPOINT ["ponte"]
CMD ["run"]
