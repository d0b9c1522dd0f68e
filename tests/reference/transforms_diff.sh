#!/usr/bin/env bash
# transforms_diff.sh: single message transforms and predicates, diffed against Kafka Connect's own. The
# same connector configs (transforms=, predicates=) run on Debezium 3.6.1 in Kafka Connect 4.4.0 and on
# walcast, over the differential workload (inserts, updates with and without REPLICA IDENTITY FULL,
# deletes and tombstones, key changes, TOAST, truncate, messages, heartbeats, transaction metadata, schema
# changes mid-stream); every topic is compared record by record (ref.py compare: partition, key, value
# parsed and raw, headers). Nineteen pairs, each its own topic.prefix:
#   t1  JSON with schemas; ExtractNewRecordState (delete.tombstone.handling.mode=tombstone, the default)
#       with add.fields (envelope, source.*, transaction.* paths, a rename) and add.headers; transaction
#       metadata, heartbeats and truncates (skipped.operations=none) go through the chain
#   t2  JSON without schemas; unwrap rewrite with add.fields.prefix, then RegexRouter (t2.public.X ->
#       t2.rt.X) and ReplaceField$Value (a rename, an exclusion)
#   t3  JSON with schemas; unwrap rewrite-with-tombstone only where TopicNameMatches (ident_*, toasty*);
#       InsertHeader, DropHeaders; replace.null.with.default=false
#   t4  key without schemas, value with; unwrap delete-to-tombstone, ReplaceField$Key renames, a Filter
#       dropping key-change deletes (HasHeaderKey __debezium.newkey)
#   t5  JSON with schemas; unwrap rewrite-with-tombstone, then a Filter of tombstones (RecordIsTombstone)
#       and a Filter of every topic but some (TopicNameMatches, negate=true)
#   t6  JSON with schemas; unwrap drop with add.headers (a rename)
#   t7  JSON with schemas; unwrap rewrite, InsertField$Value (topic, a required static field), then on
#       ident_* only: MaskField$Value, HeaderFrom$Value (copy), ValueToKey, ExtractField$Key, HoistField$Key,
#       SetSchemaMetadata$Value; Flatten$Value everywhere (point, variable-scale numeric, messages; with
#       Avro its delimiter is _: "c_numeric_var.scale" is no Avro name, and both sides refuse it)
#   t8  JSON without schemas; ExtractField$Value (after) on the data topics, HoistField$Value on all but
#       tombstones (RecordIsTombstone, negate), Flatten$Key
#   t9  JSON with schemas; ByLogicalTableRouter merging the ident_*, toasty* and keyed tables (key field
#       from key.field.regex; keyed has no primary key: null keys)
#   tc1 JSON with schemas, time.precision.mode=connect; unwrap, Cast$Value over types_all's and
#       ident_default's columns (Connect Decimal, Date, Time, Timestamp, bytes, floats, booleans; defaults
#       cast too, pre-1970 dates), Cast$Key id:string
#   tc2 JSON without schemas (adaptive time types); unwrap rewrite, Cast$Value with
#       replace.null.with.default=false, then on ident_* only ExtractField$Key id and a whole-key
#       Cast$Key string
#   tt1 JSON with schemas, time.precision.mode=connect; unwrap, then TimestampConverter$Value on a field
#       each: Timestamp to a SimpleDateFormat string, Date to Timestamp, Time to unix (microseconds), a
#       pre-1970 Timestamp to Date, a string parsed by a pattern to unix (seconds), an int64 to Time
#   tt2 JSON without schemas (adaptive time types); unwrap rewrite, a MicroTimestamp (int64) as unix
#       microseconds to a string (two-digit year, 12-hour clock); on types_all only, that string alone
#       (ExtractField$Value) parsed back by the same pattern by a whole-value TimestampConverter to Date
#   tp1 JSON with schemas; PartitionRouting (java hashCode) on change.id, change.c_text, change.big and
#       source.table over 3 partitions, only where the topics have 3 (TopicNameMatches)
#   tp2 JSON without schemas; PartitionRouting (murmur) on a Decimal, bytes, float32/64, boolean, int64,
#       a MicroTimestamp, an adaptive date and text of types_all and the ident tables
#   tr1 JSON with schemas, errors.tolerance=all; TimestampRouter on types_all and ident_default: Debezium's
#       change events have no record timestamp, so Connect (and walcast) skip each of them as failed
#   th1 JSON with schemas; unwrap with add.headers, then HeaderToValue (move) of three of them: one top-level
#       field, two nested into a new optional struct (hdr_q9.lsn, hdr_q9.tbl: Debezium takes every field whose
#       name ends a nested name's part, "a" in "meta.x" too, for a struct on the path, and fails when it is not)
#   th2 JSON without schemas; unwrap rewrite with add.headers, InsertHeader (an integer literal), then
#       HeaderToValue (copy) of those and of a Debezium context header (every record kind gets it), one nested
#   th3 JSON with schemas; HeaderToValue (copy) of __debezium.oldkey (a Struct header under the key schema)
#       into the envelope of the creates that follow a key change
# and five outbox EventRouter pairs over the outbox tables of sql/outbox_schema.sql (filled by sql/outbox.sql):
#   t10 JSON with schemas; payload as text, additional fields to headers and the partition, the record
#       timestamp from a column, transaction metadata passing through
#   t11 JSON with schemas; table.expand.json.payload, additional fields in the envelope (value schema
#       cached by payload schema), route.tombstone.on.empty.payload
#   t12 JSON without schemas; expansion with table.json.payload.null.behavior=optional_bytes, routing by
#       the event type through a regex with named groups
#   t13 JSON with schemas; table.field.event.schema.version (value schemas cached by version), key from
#       the event id, table.op.invalid.behavior=error
#   tr2 JSON with schemas; EventRouter (the record timestamp: the envelope's ts_ms; a timestamp column
#       would put 2024 timestamps on the records, which the brokers' 7-day retention deletes at once), then
#       on its events (TopicNameMatches: logical decoding messages pass EventRouter with no timestamp)
#       TimestampRouter (topic.format with ${topic} twice, a year pattern with an era and quoted text)
. "$(dirname "$0")/reflib.sh"
ref_init
t0=$(date +%s)
pg_start
psql_q -f "$ROOT/tests/integration/sql/schema.sql"
psql_q -f "$REF/sql/outbox_schema.sql"
psql_q -c "CREATE PUBLICATION dbz_publication FOR ALL TABLES"
ref_kafka_start KA KB
echo "kafka x2 started after $(( $(date +%s) - t0 ))s"
# REF_AVRO=1 (test_transforms_reference_avro.sh): every pair with Avro keys and values instead (reflib.sh's
# ref_avro; a pair's own JSON converter settings give way), schemas compared as registered
[ -z "${REF_AVRO:-}" ] || ref_avro

U=io.debezium.transforms.ExtractNewRecordState
ref_pair t1 t1 \
  "skipped.operations=none" \
  "provide.transaction.metadata=true" \
  "heartbeat.interval.ms=1000" \
  "transforms=unwrap" \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.add.fields=op,table,lsn,source.ts_ms,transaction.id,data_collection_order:dco,snapshot" \
  "transforms.unwrap.add.headers=op,db,source.txId,transaction.total_order:tot"
ref_pair t2 t2 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "transforms=unwrap,route,edit" \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite" \
  "transforms.unwrap.add.fields.prefix=meta_" \
  "transforms.unwrap.add.fields=op:operation,source.schema,xmin" \
  "transforms.route.type=org.apache.kafka.connect.transforms.RegexRouter" \
  'transforms.route.regex=t2\\.public\\.(.*)' \
  'transforms.route.replacement=t2.rt.$1' \
  'transforms.edit.type=org.apache.kafka.connect.transforms.ReplaceField$Value' \
  "transforms.edit.renames=__deleted:deleted,meta_operation:operation_code" \
  "transforms.edit.exclude=meta_xmin"
ref_pair t3 t3 \
  "transforms=unwrap,hdr,drop" \
  "predicates=some" \
  "predicates.some.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.some.pattern=t3\\.public\\.(ident_.*|toasty.*)' \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.predicate=some" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite-with-tombstone" \
  "transforms.unwrap.replace.null.with.default=false" \
  "transforms.unwrap.add.headers=op" \
  "transforms.hdr.type=org.apache.kafka.connect.transforms.InsertHeader" \
  "transforms.hdr.header=pipeline" \
  "transforms.hdr.value.literal=cdc-v1" \
  "transforms.drop.type=org.apache.kafka.connect.transforms.DropHeaders" \
  "transforms.drop.headers=__debezium.context.taskId,__debezium.context.connectorName"
ref_pair t4 t4 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "transforms=keychange,unwrap,key" \
  "predicates=moved" \
  "predicates.moved.type=org.apache.kafka.connect.transforms.predicates.HasHeaderKey" \
  "predicates.moved.name=__debezium.newkey" \
  "transforms.keychange.type=org.apache.kafka.connect.transforms.Filter" \
  "transforms.keychange.predicate=moved" \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=delete-to-tombstone" \
  'transforms.key.type=org.apache.kafka.connect.transforms.ReplaceField$Key' \
  "transforms.key.renames=id:pk"
ref_pair t5 t5 \
  "transforms=unwrap,notomb,onlysome" \
  "predicates=tomb,some" \
  "predicates.tomb.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone" \
  "predicates.some.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.some.pattern=t5\\.public\\.(ident_.*|sentinel|types_all|evolve)' \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite-with-tombstone" \
  "transforms.notomb.type=org.apache.kafka.connect.transforms.Filter" \
  "transforms.notomb.predicate=tomb" \
  "transforms.onlysome.type=org.apache.kafka.connect.transforms.Filter" \
  "transforms.onlysome.predicate=some" \
  "transforms.onlysome.negate=true"
ref_pair t6 t6 \
  "transforms=unwrap" \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=drop" \
  "transforms.unwrap.add.headers=op,source.lsn:lsn,table"
ref_pair t7 t7 \
  "transforms=unwrap,ins,mask,hdr,vk,xk,hk,meta,flat" \
  "predicates=idents" \
  "predicates.idents.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.idents.pattern=t7\\.public\\.ident_(default|full)' \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite" \
  'transforms.ins.type=org.apache.kafka.connect.transforms.InsertField$Value' \
  "transforms.ins.topic.field=src_topic" \
  "transforms.ins.static.field=origin!" \
  "transforms.ins.static.value=pg" \
  'transforms.mask.type=org.apache.kafka.connect.transforms.MaskField$Value' \
  "transforms.mask.fields=note,qty" \
  "transforms.mask.predicate=idents" \
  'transforms.hdr.type=org.apache.kafka.connect.transforms.HeaderFrom$Value' \
  "transforms.hdr.fields=name,id" \
  "transforms.hdr.headers=hname,hid" \
  "transforms.hdr.operation=copy" \
  "transforms.hdr.predicate=idents" \
  "transforms.vk.type=org.apache.kafka.connect.transforms.ValueToKey" \
  "transforms.vk.fields=id,name" \
  "transforms.vk.predicate=idents" \
  'transforms.xk.type=org.apache.kafka.connect.transforms.ExtractField$Key' \
  "transforms.xk.field=id" \
  "transforms.xk.predicate=idents" \
  'transforms.hk.type=org.apache.kafka.connect.transforms.HoistField$Key' \
  "transforms.hk.field=pk" \
  "transforms.hk.predicate=idents" \
  'transforms.meta.type=org.apache.kafka.connect.transforms.SetSchemaMetadata$Value' \
  "transforms.meta.schema.name=walcast.Row" \
  "transforms.meta.schema.version=7" \
  "transforms.meta.predicate=idents" \
  'transforms.flat.type=org.apache.kafka.connect.transforms.Flatten$Value' \
  "avro:transforms.flat.delimiter=_"
ref_pair t8 t8 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "message.prefix.exclude.list=audit" \
  "transforms=after,hoist,flatkey" \
  "predicates=tomb,data" \
  "predicates.tomb.type=org.apache.kafka.connect.transforms.predicates.RecordIsTombstone" \
  "predicates.data.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.data.pattern=t8\\.[^.]+\\..+' \
  'transforms.after.type=org.apache.kafka.connect.transforms.ExtractField$Value' \
  "transforms.after.field=after" \
  "transforms.after.predicate=data" \
  'transforms.hoist.type=org.apache.kafka.connect.transforms.HoistField$Value' \
  "transforms.hoist.field=row" \
  "transforms.hoist.predicate=tomb" \
  "transforms.hoist.negate=true" \
  'transforms.flatkey.type=org.apache.kafka.connect.transforms.Flatten$Key' \
  "transforms.flatkey.delimiter=__"
ref_pair t9 t9 \
  "transforms=byl" \
  "transforms.byl.type=io.debezium.transforms.ByLogicalTableRouter" \
  'transforms.byl.topic.regex=t9\\.public\\.(ident_.*|toasty.*|keyed)' \
  "transforms.byl.topic.replacement=t9.merged" \
  'transforms.byl.key.field.regex=t9\\.public\\.(.*)' \
  'transforms.byl.key.field.replacement=tbl_$1'
CAST=org.apache.kafka.connect.transforms.Cast
ref_pair tc1 tc1 \
  "time.precision.mode=connect" \
  "transforms=unwrap,cast,ckey" \
  "transforms.unwrap.type=$U" \
  "transforms.cast.type=$CAST\$Value" \
  "transforms.cast.spec=c_bool:string,c_int2:int8,c_int4:float32,c_int8:string,c_float4:float64,c_float8:string,c_numeric:string,c_money:int32,c_default_num:float64,c_default_int:boolean,c_default_bool:string,c_default_text:string,c_date:string,c_time3:int64,c_ts3:string,c_ts:string,c_bytea:string,qty:float32,note:string" \
  "transforms.ckey.type=$CAST\$Key" \
  "transforms.ckey.spec=id:string"
ref_pair tc2 tc2 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "transforms=unwrap,cast,xk,ck" \
  "predicates=idents" \
  "predicates.idents.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.idents.pattern=tc2\\.public\\.ident_(default|full)' \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite" \
  "transforms.cast.type=$CAST\$Value" \
  "transforms.cast.spec=c_date:string,c_ts:int32,c_int8:float64,c_numeric:float32,c_money:string,c_bytea:string,c_float8:int64,c_float4:int16,c_bool:float64,c_default_num:int8,c_int2:boolean,c_default_text:string,c_default_int:int8,qty:string" \
  "transforms.cast.replace.null.with.default=false" \
  "transforms.xk.type=org.apache.kafka.connect.transforms.ExtractField\$Key" \
  "transforms.xk.field=id" \
  "transforms.xk.predicate=idents" \
  "transforms.ck.type=$CAST\$Key" \
  "transforms.ck.spec=string" \
  "transforms.ck.predicate=idents"
TSC=org.apache.kafka.connect.transforms.TimestampConverter
ref_pair tt1 tt1 \
  "time.precision.mode=connect" \
  "transforms=unwrap,a,b,c,d,e,f" \
  "transforms.unwrap.type=$U" \
  "transforms.a.type=$TSC\$Value" \
  "transforms.a.field=c_ts" \
  "transforms.a.target.type=string" \
  "transforms.a.format=EEE, d MMM yyyy HH:mm:ss.SSS z G 'day' D" \
  "transforms.b.type=$TSC\$Value" \
  "transforms.b.field=c_date" \
  "transforms.b.target.type=Timestamp" \
  "transforms.c.type=$TSC\$Value" \
  "transforms.c.field=c_time3" \
  "transforms.c.target.type=unix" \
  "transforms.c.unix.precision=microseconds" \
  "transforms.d.type=$TSC\$Value" \
  "transforms.d.field=c_ts3" \
  "transforms.d.target.type=Date" \
  "transforms.e.type=$TSC\$Value" \
  "transforms.e.field=c_tstz0" \
  "transforms.e.target.type=unix" \
  "transforms.e.format=yyyy-MM-dd'T'HH:mm:ssX" \
  "transforms.e.unix.precision=seconds" \
  "transforms.f.type=$TSC\$Value" \
  "transforms.f.field=c_oid" \
  "transforms.f.target.type=Time"
ref_pair tt2 tt2 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "transforms=unwrap,a,x,w" \
  "predicates=types" \
  "predicates.types.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.types.pattern=tt2\\.public\\.types_all' \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite" \
  "transforms.a.type=$TSC\$Value" \
  "transforms.a.field=c_ts" \
  "transforms.a.target.type=string" \
  "transforms.a.unix.precision=microseconds" \
  "transforms.a.format=dd.MM.yy hh:mm:ss.SSSSSS a XXX" \
  "transforms.x.type=org.apache.kafka.connect.transforms.ExtractField\$Value" \
  "transforms.x.field=c_ts" \
  "transforms.x.predicate=types" \
  "transforms.w.type=$TSC\$Value" \
  "transforms.w.target.type=Date" \
  "transforms.w.format=dd.MM.yy hh:mm:ss.SSSSSS a XXX" \
  "transforms.w.predicate=types"
PR=io.debezium.transforms.partitions.PartitionRouting
ref_pair tp1 tp1 \
  "transforms=part" \
  "predicates=three" \
  "predicates.three.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.three.pattern=tp1\\.public\\.(types_all|ident_(default|full|index)|toasty.*|keyed|masked|evolve|edge.*)' \
  "transforms.part.type=$PR" \
  "transforms.part.predicate=three" \
  "transforms.part.partition.payload.fields=change.id,change.c_text,change.big,source.table" \
  "transforms.part.partition.topic.num=3"
ref_pair tp2 tp2 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "transforms=part" \
  "predicates=three" \
  "predicates.three.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.three.pattern=tp2\\.public\\.(types_all|ident_(default|full|index))' \
  "transforms.part.type=$PR" \
  "transforms.part.predicate=three" \
  "transforms.part.partition.payload.fields=change.c_numeric,change.c_bytea,change.c_float4,change.c_float8,change.c_bool,change.c_int8,change.c_ts,change.c_date,change.name,change.note" \
  "transforms.part.partition.topic.num=3" \
  "transforms.part.partition.hash.function=murmur"
ref_pair tr1 tr1 \
  "errors.tolerance=all" \
  "errors.log.enable=true" \
  "transforms=route" \
  "predicates=some" \
  "predicates.some.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.some.pattern=tr1\\.public\\.(types_all|ident_default)' \
  "transforms.route.type=org.apache.kafka.connect.transforms.TimestampRouter" \
  "transforms.route.predicate=some"
HTV=io.debezium.transforms.HeaderToValue
ref_pair th1 th1 \
  "transforms=unwrap,htv" \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.add.headers=op,source.lsn:lsn,table" \
  "transforms.htv.type=$HTV" \
  "transforms.htv.headers=__op,__lsn,__table" \
  "transforms.htv.fields=op_h,hdr_q9.lsn,hdr_q9.tbl" \
  "transforms.htv.operation=move"
ref_pair th2 th2 \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "transforms=unwrap,lit,htv" \
  "transforms.unwrap.type=$U" \
  "transforms.unwrap.delete.tombstone.handling.mode=rewrite" \
  "transforms.unwrap.add.headers=op,db" \
  "transforms.lit.type=org.apache.kafka.connect.transforms.InsertHeader" \
  "transforms.lit.header=answer" \
  "transforms.lit.value.literal=-40000" \
  "transforms.htv.type=$HTV" \
  "transforms.htv.headers=__op,__db,answer,__debezium.context.connectorName" \
  "transforms.htv.fields=op_copy,src_q9.db,answer,conn" \
  "transforms.htv.operation=copy"
ref_pair th3 th3 \
  "transforms=htv" \
  "transforms.htv.type=$HTV" \
  "transforms.htv.headers=__debezium.oldkey" \
  "transforms.htv.fields=oldkey" \
  "transforms.htv.operation=copy"
O=io.debezium.transforms.outbox.EventRouter
OB_TABLES="table.include.list=public.outbox,public.outbox_text"
ref_pair t10 t10 "$OB_TABLES" \
  "provide.transaction.metadata=true" \
  "transforms=outbox" \
  "transforms.outbox.type=$O" \
  'transforms.outbox.route.topic.replacement=t10.ev.${routedByValue}' \
  "transforms.outbox.table.fields.additional.placement=type:header:eventType,part:partition,aggregateid:header" \
  "transforms.outbox.table.field.event.timestamp=ts"
ref_pair t11 t11 "$OB_TABLES" \
  "transforms=outbox" \
  "transforms.outbox.type=$O" \
  'transforms.outbox.route.topic.replacement=t11.ev.${routedByValue}' \
  "transforms.outbox.table.expand.json.payload=true" \
  "transforms.outbox.table.fields.additional.placement=type:envelope:eventType,aggregateid:envelope,id:header:eventId" \
  "transforms.outbox.route.tombstone.on.empty.payload=true"
ref_pair t12 t12 "$OB_TABLES" \
  "key.converter=org.apache.kafka.connect.json.JsonConverter" \
  "key.converter.schemas.enable=false" \
  "value.converter=org.apache.kafka.connect.json.JsonConverter" \
  "value.converter.schemas.enable=false" \
  "transforms=outbox" \
  "transforms.outbox.type=$O" \
  "transforms.outbox.route.by.field=type" \
  'transforms.outbox.route.topic.regex=(?<kind>[A-Z][a-z]+)(?<what>[A-Za-z]+)' \
  'transforms.outbox.route.topic.replacement=t12.${kind}.$2' \
  "transforms.outbox.table.expand.json.payload=true" \
  "transforms.outbox.table.json.payload.null.behavior=optional_bytes" \
  "transforms.outbox.table.fields.additional.placement=aggregatetype:envelope:agg"
ref_pair t13 t13 "$OB_TABLES" \
  "transforms=outbox" \
  "transforms.outbox.type=$O" \
  'transforms.outbox.route.topic.replacement=t13.ev.${routedByValue}' \
  "transforms.outbox.table.field.event.schema.version=ver" \
  "transforms.outbox.table.field.event.key=id" \
  "transforms.outbox.table.op.invalid.behavior=error" \
  "transforms.outbox.table.fields.additional.placement=type:envelope"
ref_pair tr2 tr2 "$OB_TABLES" \
  "transforms=outbox,route" \
  "predicates=events" \
  "predicates.events.type=org.apache.kafka.connect.transforms.predicates.TopicNameMatches" \
  'predicates.events.pattern=tr2\\.ev\\..*' \
  "transforms.route.predicate=events" \
  "transforms.outbox.type=$O" \
  'transforms.outbox.route.topic.replacement=tr2.ev.${routedByValue}' \
  "transforms.route.type=org.apache.kafka.connect.transforms.TimestampRouter" \
  'transforms.route.topic.format=${topic}.${timestamp}.${topic}' \
  "transforms.route.timestamp.format=Gyyyy'_y'"
PAIRS=(${TF_PAIRS:-t1 t2 t3 t4 t5 t6 t7 t8 t9 tc1 tc2 tt1 tt2 tp1 tp2 tr1 th1 th2 th3 t10 t11 t12 t13 tr2})

multi=(t9.merged)
for t in Order Customer Shipment Sentinel; do multi+=("t10.ev.$t"); done
for t in types_all ident_default ident_full ident_index toasty toasty_full keyed masked evolve edge edge2 edge3; do
  for p in t1 t3 t4 t5 t6 t7 t8 t9 tc1 tc2 tt1 tt2 tp1 tp2 tr1; do multi+=("$p.public.$t"); done
  multi+=("t2.rt.$t")
done
$PY "$REF/ref.py" topics "$KA" 3 "${multi[@]}"
$PY "$REF/ref.py" topics "$KB" 3 "${multi[@]}"

t1=$(date +%s)
dbz=() wc=() dslots=() wslots=()
for p in "${PAIRS[@]}"; do
  dbz+=("$IT_DIR/$p.dbz.properties"); wc+=("$IT_DIR/$p.wc.properties"); dslots+=("dbz_$p"); wslots+=("wc_$p")
done
ref_connect_start "$KA" "${dbz[@]}"
ref_slot_wait "${dslots[@]}"
echo "connect + debezium streaming after $(( $(date +%s) - t1 ))s"
ref_walcast_start "$KB" connect-offsets "${wc[@]}"
ref_slot_wait "${wslots[@]}"

psql_q -f "$ROOT/tests/integration/sql/workload.sql" >/dev/null
psql_q -f "$REF/sql/changes.sql" >/dev/null
psql_q -f "$REF/sql/outbox.sql" >/dev/null
declare -A SENTINEL=([t2]=t2.rt.sentinel:3 [t10]=t10.ev.Sentinel:1 [t11]=t11.ev.Sentinel:1 [t12]=t12.End.Marker:1
                     [t13]=t13.ev.Sentinel:1 [tr2]=tr2.ev.Sentinel.AD$(date -u +%Y)_y.tr2.ev.Sentinel:1)
waits=()
for p in "${PAIRS[@]}"; do waits+=("${SENTINEL[$p]:-$p.public.sentinel:3}"); done
for bs in "$KA" "$KB"; do
  $PY "$REF/ref.py" wait "$bs" 120 "${waits[@]}"
done
$PY "$REF/ref.py" compare "$KA" "$KB" 30 "${PAIRS[@]}" 2>&1 | tee "$IT_DIR/compare.txt"
# the HeaderToValue pairs compared what they were meant to: the headers' fields are in the values (JSON)
declare -A HTV_FIELD=([th1]='"hdr_q9":{' [th2]='"answer":-40000' [th3]='"oldkey":{')
for p in "${PAIRS[@]}"; do
  if [ -z "${REF_AVRO:-}" ] && [ -n "${HTV_FIELD[$p]:-}" ]; then $PY "$REF/ref.py" count "$KB" "$p" "${HTV_FIELD[$p]}"; fi
done
walcast_stop
echo "transforms differential test took $(( $(date +%s) - t0 ))s"
