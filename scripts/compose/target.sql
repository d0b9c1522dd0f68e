-- target.sql: the PostgreSQL sink's database, beside the source's in the same server.
CREATE DATABASE target;
