# Multi-stage build: compile in the Rust image, run on a slim Debian.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY benches ./benches
COPY fixtures ./fixtures
COPY desk ./desk
COPY vendor ./vendor
RUN cargo build --release --locked --bin storyline

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 storyline
COPY --from=build /src/target/release/storyline /usr/local/bin/storyline
USER storyline
ENV STORYLINE_LISTEN=0.0.0.0:8080 \
    STORYLINE_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["storyline"]
CMD ["serve"]
