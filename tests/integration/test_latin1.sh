#!/usr/bin/env bash
# test_latin1.sh: a database in LATIN1 (not UTF-8): walcast asks the server for UTF-8 on its
# connections, so text reaches Kafka as valid UTF-8 JSON ('café' is not a raw 0xE9 byte), in keys,
# values and the schema's column names alike.
. "$(dirname "$0")/lib.sh"
it_init
export PGCLIENTENCODING=UTF8   # this script is UTF-8 whatever the locale
pg_start
psql_q -c "CREATE DATABASE lat ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
PGDATABASE=lat psql_q -c 'CREATE TABLE "cafés" (nom text PRIMARY KEY, prix numeric(6,2), "région" text)'
kafka_start --topic srv.public.caf_s     # (topic names keep [A-Za-z0-9._-] only, as Debezium's)
walcast_start "$(connector_file lat "database.dbname=lat" "key.converter.schemas.enable=false")"
PGDATABASE=lat psql_q -c "INSERT INTO \"cafés\" VALUES ('café crème', 2.50, 'Île-de-France'), ('naïve ÿ', 1, 'Zürich')"
PGDATABASE=lat wait_published
walcast_stop
kcat -C -b "$BS" -t srv.public.caf_s -e -q -J >"$IT_DIR/raw.jsonl"
$PY - "$IT_DIR/raw.jsonl" <<'PYEOF'
import json, sys
rows = []
for line in open(sys.argv[1], "rb"):
    r = json.loads(line.decode("utf-8"))           # kcat -J escapes raw bytes; check the record itself
    for part in ("key", "payload"):
        raw = r[part].encode("utf-8", "surrogateescape")
        raw.decode("utf-8")                          # strict: raises on a raw LATIN1 byte
    v = json.loads(r["payload"])
    names = [f["field"] for f in v["schema"]["fields"][1]["fields"]]
    rows.append((json.loads(r["key"])["nom"], v["payload"]["after"]["région"], names))
assert [r[:2] for r in rows] == [("café crème", "Île-de-France"), ("naïve ÿ", "Zürich")], rows
assert rows[0][2] == ["nom", "prix", "région"], rows[0][2]
print("LATIN1 database: keys, values and column names arrive as UTF-8:", [r[0] for r in rows])
PYEOF
