# preflight in a container: `docker build -t preflight .`, then
# `docker run --rm -v "$PWD:/data" -w /data preflight validate new.csv -s schema.yaml`.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin preflight \
 && strip target/release/preflight

FROM debian:bookworm-slim
COPY --from=build /src/target/release/preflight /usr/local/bin/preflight
USER 65534:65534
ENTRYPOINT ["preflight"]
