#!/bin/sh
# First start of the PostgreSQL container only: GeNS gets its own database beside the hub's
# (two apps, one contract: they share no tables).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE DATABASE ephyto_gens OWNER "$POSTGRES_USER";
SQL
