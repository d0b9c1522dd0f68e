-- outbox_schema.sql: the outbox tables of transforms_diff.sh's EventRouter pairs (sql/outbox.sql fills them).
CREATE TABLE outbox (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  payload jsonb,
  ts timestamp(6) DEFAULT localtimestamp,   -- the record timestamp (t10): older than the broker's retention, a record is deleted at once
  part int,
  ver int
);
CREATE TABLE outbox_text (
  id uuid PRIMARY KEY,
  aggregatetype varchar(255) NOT NULL,
  aggregateid varchar(255) NOT NULL,
  type varchar(255) NOT NULL,
  payload text,
  ts timestamp(6) DEFAULT localtimestamp,   -- the record timestamp (t10): older than the broker's retention, a record is deleted at once
  part int,
  ver int
);
