# Dockerfile: builds walcast on Debian 12; by default runs an empty Kafka Connect worker from
# /etc/walcast/worker.properties (connectors come through its REST API, or name files after it).
FROM debian:12 AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential pkg-config libpq-dev \
    librdkafka-dev libjansson-dev libzstd-dev libssl-dev libcurl4-openssl-dev libmariadb-dev libmongoc-dev \
    libmicrohttpd-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make WERROR=1

FROM debian:12-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 librdkafka1 libjansson4 libzstd1 \
    libssl3 libcurl4 libmariadb3 libmongoc-1.0-0 libbson-1.0-0 libmicrohttpd12 ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/walcast /usr/local/bin/walcast
USER nobody
ENTRYPOINT ["/usr/local/bin/walcast"]
CMD ["run", "--worker", "/etc/walcast/worker.properties"]
