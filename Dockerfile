# syntax=docker/dockerfile:1

# One image with the five binaries in /usr/local/bin; docker-compose.yml
# picks one per service with `command:`. The final stage is distroless:
# no shell, no package manager, running as the unprivileged nonroot user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always --dirty) -t escai:dev .

FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src
# Dependencies first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath \
      -ldflags "-s -w -X github.com/escai-framework/escai/internal/cli.Version=${VERSION}" \
      -o /out/ \
      ./cmd/ingest ./cmd/pii-worker ./cmd/audit-writer ./cmd/authz ./cmd/escai

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="escai" \
      org.opencontainers.image.description="ESCAI Pipeline: ingest, pii-worker, audit-writer, authz and the escai CLI" \
      org.opencontainers.image.source="https://github.com/escai-framework/escai" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/ /usr/local/bin/
USER nonroot
# The admin listener (/metrics, /livez, /readyz) when ESCAI_HTTP_ADDR=0.0.0.0:9090.
EXPOSE 9090
CMD ["escai", "--help"]
