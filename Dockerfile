# syntax=docker/dockerfile:1
#
# feedsync as a container: a static binary on distroless, running as a
# non-root user, with the state file on a volume.
#
#   docker build -t feedsync --build-arg VERSION=$(git describe --tags --always) .
#   docker run -d --name feedsync \
#     -v feedsync-state:/var/lib/feedsync \
#     -v $PWD/feedsync.yaml:/etc/feedsync/feedsync.yaml:ro \
#     -e USERCOM_API_TOKEN \
#     -p 127.0.0.1:9464:9464 \
#     feedsync run --now
#
# In the config: state: /var/lib/feedsync/feedsync.db (an absolute path on the
# volume; relative paths resolve against the config's read-only directory) and
# metrics.listen: "0.0.0.0:9464" (127.0.0.1 is unreachable from outside the
# container). Logs go to stderr (docker logs shows them); `docker stop` sends SIGTERM and waits 10 s
# by default, so pass --stop-timeout 45 when run.grace is the default 30s.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
WORKDIR /src
ARG TARGETOS
ARG TARGETARCH
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/feedsync ./cmd/feedsync \
 && mkdir -p /out/state

# distroless/static: no shell, no package manager; CA certificates (for https
# feeds and User.com) and tzdata (for CRON_TZ= schedules) included.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/feedsync /usr/local/bin/feedsync
# The state directory belongs to the nonroot user (65532) so that a new named
# volume mounted here is writable.
COPY --from=build --chown=65532:65532 /out/state /var/lib/feedsync
USER 65532:65532
WORKDIR /var/lib/feedsync
VOLUME ["/var/lib/feedsync"]
ENV FEEDSYNC_CONFIG=/etc/feedsync/feedsync.yaml
EXPOSE 9464
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/feedsync"]
CMD ["run"]
