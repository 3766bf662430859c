# Multi-stage build: a static binary (no cgo: modernc SQLite is pure Go) in a
# minimal image, run as a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/crmleads ./cmd/crmleads \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/crmleads /crmleads
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /
USER 65532:65532
ENV CRM_ADDR=:8000 DATABASE_URL=sqlite:/data/crm-leads.db
EXPOSE 8000
VOLUME /data
ENTRYPOINT ["/crmleads"]
CMD ["serve"]
