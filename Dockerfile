# syntax=docker/dockerfile:1
# instancehub: a static binary on a distroless base, running as a non-root
# user, with its database (and the emulator's cloud) in the /data volume.

FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM golang:1.27-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0 GOTOOLCHAIN=go1.27.3
COPY go.mod go.sum ./
RUN go mod download
COPY . .
COPY --from=assets /src/node_modules/htmx.org/dist/htmx.min.js static/vendor/htmx.min.js
COPY --from=assets /src/node_modules/xterm/dist/xterm.js static/vendor/xterm/xterm.js
COPY --from=assets /src/node_modules/xterm/dist/addons/fit/fit.js static/vendor/xterm/fit.js
RUN go tool templ generate -path views && \
    go build -trimpath -ldflags="-s -w" -o /out/instancehub ./cmd/instancehub && \
    mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/instancehub /usr/local/bin/instancehub
# The volume's mount point belongs to the user the portal runs as.
COPY --from=build --chown=65532:65532 /out/data /data
VOLUME /data
ENV INSTANCEHUB_DATA=/data \
    INSTANCEHUB_ADDR=0.0.0.0:8080
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/instancehub"]
CMD ["serve"]
