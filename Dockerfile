# preflight in a container: `docker build -t preflight .`, then
# `docker run --rm -v "$PWD:/data" -w /data preflight validate new.csv -s schema.yaml`.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The dist profile (Cargo.toml): no debug info, symbols stripped.
RUN cargo build --profile dist --locked --bin preflight

FROM debian:bookworm-slim
COPY --from=build /src/target/dist/preflight /usr/local/bin/preflight
USER 65534:65534
ENTRYPOINT ["preflight"]
