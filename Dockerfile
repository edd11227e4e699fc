# syntax=docker/dockerfile:1
#
# Seintje as a container image: a static Go binary (no libc, time zones
# embedded) on an empty base ("scratch") with only the CA certificates it
# needs to reach Twilio, Telegram and the OpenID provider, running as the
# non-root user 65532, happy with a read-only root filesystem. (Scratch
# rather than distroless "static": the binary is 38 MB, and the issue's
# image budget is 40 MB.) Flows are baked in at /flows; mount your own over it (or set
# SEINTJE_FLOWS_DIR). The inbound spool needs a writable volume at
# /var/lib/seintje/spool, one per instance.
#
#   docker build -t seintje --build-arg VERSION=$(git describe --tags --always) .
#   docker run --read-only -p 8080:8080 -v seintje-spool:/var/lib/seintje/spool \
#     -e REDIS_URL=redis://redis:6379/0 ... seintje
#
# CI cannot reach an image registry; it checks what it can instead
# (cmd/seintje/static_test.go): the static binary builds and runs without
# libc, and every COPY source below exists and holds every package the
# binary needs.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY bot ./bot
COPY cmd ./cmd
COPY internal ./internal
COPY docs ./docs
COPY flows ./flows
ARG VERSION=devel
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go build -tags nomsgpack -ldflags "-s -w -X main.version=${VERSION}" -o /out/seintje ./cmd/seintje \
 && /out/seintje version \
 && /out/seintje flows check /src/flows \
 && mkdir -p /out/spool \
 && mkdir -m 1777 /out/tmp

FROM scratch
ARG VERSION=devel
LABEL org.opencontainers.image.title="Seintje" \
      org.opencontainers.image.description="Friendly nudges for benefit recipients, with replies and human follow-up" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tmp /tmp
COPY --from=build /out/seintje /seintje
COPY --from=build --chown=65532:65532 /src/flows /flows
COPY --from=build --chown=65532:65532 /out/spool /var/lib/seintje/spool
ENV SEINTJE_ADDR=:8080 \
    SEINTJE_FLOWS_DIR=/flows \
    SEINTJE_SPOOL_DIR=/var/lib/seintje/spool
USER 65532:65532
EXPOSE 8080
VOLUME ["/var/lib/seintje/spool"]
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["/seintje", "healthcheck"]
ENTRYPOINT ["/seintje"]
CMD ["serve"]
