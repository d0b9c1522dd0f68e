#!/usr/bin/env bash
# test_origin_skip.sh: transactions made by a session with a replication origin that
# walcast.skip.origins names (default walcast.*: walcast's own apply workers) are not captured, so two
# databases can replicate into each other without echo; other origins and plain sessions are. With
# transaction metadata on, a skipped transaction leaves no BEGIN/END either (pgoutput sends the Origin
# message after Begin), and the offsets still move past it: after a restart nothing comes twice.
. "$(dirname "$0")/lib.sh"
it_init
pg_start
psql_q -c "CREATE TABLE t (id int PRIMARY KEY, src text)" \
       -c "SELECT pg_replication_origin_create('walcast_sink_a'), pg_replication_origin_create('other_tool')"  >/dev/null
kafka_start --topic srv.public.t --topic srv.transaction
CF=$(connector_file it "provide.transaction.metadata=true")
walcast_start "$CF"
psql_q >/dev/null <<'SQL'
INSERT INTO t VALUES (1, 'plain');
SELECT pg_replication_origin_session_setup('walcast_sink_a');
INSERT INTO t VALUES (2, 'echo');
BEGIN; INSERT INTO t VALUES (3, 'echo'); UPDATE t SET src = 'echo again' WHERE id = 3; COMMIT;
SELECT pg_replication_origin_session_reset();
SELECT pg_replication_origin_session_setup('other_tool');
INSERT INTO t VALUES (4, 'another origin');
SELECT pg_replication_origin_session_reset();
INSERT INTO t VALUES (5, 'plain');
SQL
wait_published
walcast_stop
# restarted: the skipped transactions are not sent again, nor anything else
walcast_start "$CF"
psql_q -c "INSERT INTO t VALUES (6, 'after restart')" \
       -c "SELECT pg_replication_origin_session_setup('walcast_sink_a')" -c "DELETE FROM t WHERE id = 1" >/dev/null
wait_published
walcast_stop
grep -q "origin_skipped=2" "$IT_DIR/walcast.log" || { echo "the progress line does not count 2 skipped transactions" >&2; exit 1; }
kcat -C -b "$BS" -t srv.public.t -o beginning -X isolation.level=read_committed -e -q -f '%k|%s\n' >"$IT_DIR/t.txt"
kcat -C -b "$BS" -t srv.transaction -o beginning -X isolation.level=read_committed -e -q -f '%s\n' >"$IT_DIR/tx.txt"
"$PY" - "$IT_DIR/t.txt" "$IT_DIR/tx.txt" <<'PYEOF'
import json, sys
recs = []
for line in open(sys.argv[1]):
    k, v = line.rstrip("\n").split("|", 1)
    recs.append((json.loads(k)["payload"]["id"], json.loads(v)["payload"]["op"]))
assert recs == [(1, "c"), (4, "c"), (5, "c"), (6, "c")], recs
tx = [json.loads(l)["payload"]["status"] for l in open(sys.argv[2]) if l.strip()]
assert tx == ["BEGIN", "END"] * 4, tx
print("skipped origin walcast_sink_a: ids", [r[0] for r in recs], "captured once; 4 BEGIN/END pairs")
PYEOF
