#!/usr/bin/env bash
# pg-flush.sh: makes every WAL record written so far on the server of libpq's environment (PGHOST, PGPORT, ...)
# durable at once, and publishes nothing. Usage: scripts/pg-flush.sh [psql option...]
#
# A walsender sends only flushed WAL, and the throwaway clusters run synchronous_commit=off, so a change is
# decoded only once the WAL writer flushes it (wal_writer_delay, 200 ms by default). A synchronous commit
# flushes the WAL before it only when its transaction wrote WAL of its own (RecordTransactionCommit): one that
# only took an xid (SELECT txid_current()) commits asynchronously and flushes nothing. Creating a temporary
# table writes catalog rows, which are WAL; no publication holds a temporary table, catalog rows are never
# published, and PostgreSQL 15's pgoutput sends no empty transaction: a connector sees nothing of it.
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -c "BEGIN" -c "SET LOCAL synchronous_commit = on" \
  -c "CREATE TEMPORARY TABLE walcast_flush () ON COMMIT DROP" -c "COMMIT" "$@" >/dev/null
