#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL on another port, for read replicas (docs/scaling.md):
#
#   sudo scripts/pg-replica.sh            # replica of 127.0.0.1:5432 on 127.0.0.1:5433
#   PRIMARY_PORT=5432 REPLICA_PORT=5433 sudo scripts/pg-replica.sh
#
# On Debian or Ubuntu's PostgreSQL packages (pg_createcluster, pg_ctlcluster), run as root. It
# allows replication connections from 127.0.0.1 on the primary (with the method its other local
# connections use), makes a cluster named "replica" from `pg_basebackup -R` (hot standby,
# streaming through the physical slot causeway_replica, so a stopped replica catches up when it
# starts again) and starts it. Run again, it only starts a replica that is stopped; a replica that
# does not answer as a standby is made again.
set -euo pipefail

primary_port=${PRIMARY_PORT:-5432}
replica_port=${REPLICA_PORT:-5433}
version=${PG_VERSION:-$(ls /etc/postgresql | sort -V | tail -1)}
cluster=${REPLICA_CLUSTER:-replica}
slot=causeway_replica
primary_hba=$(psql -h 127.0.0.1 -p "$primary_port" -U postgres -Atc 'SHOW hba_file')

say() { printf '[pg-replica] %s\n' "$*"; }
as_postgres() { runuser -u postgres -- "$@"; }
on_primary() { psql -h 127.0.0.1 -p "$primary_port" -U postgres -Atc "$1"; }
is_standby() { [ "$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -Atc 'SELECT pg_is_in_recovery()' 2>/dev/null)" = t ]; }

wait_for_standby() {
  for _ in $(seq "${1:-60}"); do
    if is_standby; then return 0; fi
    sleep 1
  done
  say "ERROR: the replica on port $replica_port did not answer as a standby within ${1:-60} s; see /var/log/postgresql/postgresql-$version-$cluster.log" >&2
  return 1
}

# A hot standby needs at least its primary's value of each: fewer, and it refuses to start, or
# pauses its replay for good when the primary raises one.
standby_settings="max_connections max_wal_senders max_replication_slots max_worker_processes max_prepared_transactions max_locks_per_transaction"

# Raises in an existing replica's configuration every setting its primary has more of; true if any.
raise_short_settings() {
  local raised=1 setting wanted have
  for setting in $standby_settings; do
    wanted=$(on_primary "SHOW $setting")
    have=$(psql -h 127.0.0.1 -p "$replica_port" -U postgres -Atc "SHOW $setting" 2>/dev/null ||
      sed -n "s/^$setting = //p" "/etc/postgresql/$version/$cluster/postgresql.conf" | tail -1)
    if [ -z "$have" ] || [ "$have" -lt "$wanted" ]; then
      say "the replica's $setting (${have:-unset}) is below the primary's ($wanted): raising it"
      echo "$setting = $wanted" >>"/etc/postgresql/$version/$cluster/postgresql.conf"
      raised=0
    fi
  done
  return $raised
}

if pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c' | grep -q .; then
  if raise_short_settings; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" restart 2>/dev/null || true
  elif ! is_standby; then
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start 2>/dev/null || true
  fi
  if wait_for_standby 20 2>/dev/null; then
    say "the replica of 127.0.0.1:$primary_port streams on 127.0.0.1:$replica_port"
    exit 0
  fi
  say "the $cluster cluster does not answer as a standby: making it again"
  pg_dropcluster --stop "$version" "$cluster"
fi

# pg_hba takes the first line that matches: ours goes first unless the first one for 127.0.0.1
# already takes replication the way the primary takes other local connections (Debian's default
# asks for a password the base backup would not have).
method=$(awk '$1 == "host" && $2 == "all" && $3 == "all" && $4 == "127.0.0.1/32" { print $5; exit }' "$primary_hba")
method=${method:-scram-sha-256}
current=$(awk '$1 == "host" && $2 == "replication" && $3 == "all" && $4 == "127.0.0.1/32" { print $5; exit }' "$primary_hba")
if [ "$current" != "$method" ]; then
  say "allowing replication connections from 127.0.0.1 ($method) in $primary_hba"
  sed -i "1i host replication all 127.0.0.1/32 $method" "$primary_hba"
  on_primary 'SELECT pg_reload_conf()' >/dev/null
fi

say "making the $cluster cluster ($version) on port $replica_port from a base backup of port $primary_port"
pg_createcluster "$version" "$cluster" --port "$replica_port" >/dev/null
data_dir=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $6 }')
conf_dir=/etc/postgresql/$version/$cluster
# The replica takes the clients the primary takes.
cp "$primary_hba" "$conf_dir/pg_hba.conf"
# A hot standby refuses to start with fewer of these than its primary has.
for setting in $standby_settings; do
  echo "$setting = $(on_primary "SHOW $setting")" >>"$conf_dir/postgresql.conf"
done
echo "hot_standby_feedback = on" >>"$conf_dir/postgresql.conf"
find "$data_dir" -mindepth 1 -delete
if [ "$(on_primary "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '$slot'")" = 1 ]; then
  on_primary "SELECT pg_drop_replication_slot('$slot')" >/dev/null
fi
as_postgres pg_basebackup -h 127.0.0.1 -p "$primary_port" -U postgres -D "$data_dir" \
  --write-recovery-conf --wal-method=stream --create-slot --slot="$slot" --checkpoint=fast
pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start
wait_for_standby
say "the replica of 127.0.0.1:$primary_port streams on 127.0.0.1:$replica_port (slot $slot)"
