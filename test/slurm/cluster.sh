#!/usr/bin/env bash
# (Used by test/sweep/slurm.test.ts, which runs `start` and `stop` with SLURM_TEST_DIR and ports of its
# own; test/slurm/README.md says what the cluster is and the gotchas met setting it up.)
# single-node-slurm.sh - a real, throw-away, single-node Slurm cluster on loopback,
# for tests that need to run sbatch/squeue/scancel against a live slurmctld+slurmd.
#
# Tested on Debian 12 (bookworm), Slurm 22.05.8 (Debian package), munge 0.5.15,
# as root, without systemd, without cgroups, reaching only Debian's apt mirror.
#
# Usage:  single-node-slurm.sh [install|start|demo|status|stop|all]   (default: all)
#   install  apt-get the Debian packages if any binary is missing (needs root)
#   start    fresh state dir, write slurm.conf, start munged (optional), slurmctld,
#            slurmd in the background; wait until the node is idle; prints the
#            line `export SLURM_CONF=...` that clients (sbatch, squeue...) need
#   demo     sbatch --test-only, then a 4-task job array (--array=0-3) writing
#            /tmp/slurmtest/out_N.txt; wait for it; verify outputs and states
#   status   sinfo + squeue
#   stop     stop exactly the daemons this script started (PIDs recorded in
#            $SLURM_TEST_DIR/pids/), TERM then KILL after 10 s
#   all      install, start, demo, stop (stop also runs on error)
#
# Environment (all optional):
#   SLURM_TEST_DIR          state/spool/log/conf dir        (default /tmp/slurm-single)
#   SLURM_TEST_AUTH         munge | none                    (default munge)
#                           none = AuthType=auth/none + CredType=cred/none, no munged;
#                           exists in Slurm 22.05, removed in later Slurm releases
#   SLURM_TEST_CTLD_PORT    slurmctld TCP port              (default 6817)
#   SLURM_TEST_SLURMD_PORT  slurmd TCP port                 (default 6818)
#   SLURM_TEST_CPUS         CPUs the node advertises        (default 4; may exceed the
#                           real core count thanks to SlurmdParameters=config_overrides)
#   SLURM_TEST_NODE         node name                       (default: hostname -s)
#   SLURM_TEST_TIMEOUT      seconds to wait for readiness / for the demo job (default 60)
#   SLURM_TEST_SCHED_PARAMS SchedulerParameters    (default batch_sched_delay=0,sched_min_interval=0)
#   SLURM_TEST_ACCOUNTING   0 | 1 (default 0). 1 = also run MariaDB + slurmdbd so that
#                           sacct works (+2 Debian packages' worth of deps: ~193 MB
#                           on disk, ~20 s install, ~3 s more start-up)
#   SLURM_TEST_DB_PORT      MariaDB TCP port (127.0.0.1)    (default 13306)
#   SLURM_TEST_DBD_PORT     slurmdbd TCP port               (default 6819)
set -euo pipefail

DIR=${SLURM_TEST_DIR:-/tmp/slurm-single}
AUTH=${SLURM_TEST_AUTH:-munge}
CTLD_PORT=${SLURM_TEST_CTLD_PORT:-6817}
SLURMD_PORT=${SLURM_TEST_SLURMD_PORT:-6818}
CPUS=${SLURM_TEST_CPUS:-4}
NODE=${SLURM_TEST_NODE:-$(hostname -s)}
TIMEOUT=${SLURM_TEST_TIMEOUT:-60}
SCHED_PARAMS=${SLURM_TEST_SCHED_PARAMS-batch_sched_delay=0,sched_min_interval=0}
ACCOUNTING=${SLURM_TEST_ACCOUNTING:-0}
DB_PORT=${SLURM_TEST_DB_PORT:-13306}
DBD_PORT=${SLURM_TEST_DBD_PORT:-6819}
CONF=$DIR/slurm.conf
PIDS=$DIR/pids
OUTDIR=/tmp/slurmtest

export SLURM_CONF=$CONF

log() { printf '[slurm-single %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
STARTING=0
# On a failed start, stop whatever this run had already started.
die() { log "ERROR: $*"; if [ "$STARTING" = 1 ]; then STARTING=0; cmd_stop; fi; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

cmd_install() {
  local missing=0 b
  local pkgs="slurm-wlm munge" bins="slurmctld slurmd sbatch squeue sinfo munged mungekey"
  if [ "$ACCOUNTING" = 1 ]; then
    pkgs="$pkgs slurmdbd mariadb-server"; bins="$bins slurmdbd mariadbd mariadb-install-db"
  fi
  for b in $bins; do
    command -v "$b" >/dev/null 2>&1 || missing=1
  done
  if [ "$missing" = 0 ]; then log "packages already installed"; return 0; fi
  [ "$(id -u)" = 0 ] || die "install needs root"
  local t0; t0=$(now)
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # --no-install-recommends: 8 packages, ~3.6 MB download, ~13 MB on disk.
  # (with recommends: 35 packages: ipmi/rrd/hdf5/influxdb/rocm plugins, -dev pkgs...)
  # policy-rc.d / no systemd: postinst does not start any daemon, which is what we want.
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
  log "installed $pkgs (slurm $(slurmctld -V | awk '{print $2}')) in $(since "$t0") s"
}

# start_bg NAME CMD... : start CMD detached (own session), record its PID.
start_bg() {
  local name=$1; shift
  # In a non-interactive bash (no job control) the background child is not a
  # process-group leader, so setsid(1) calls setsid() in place without forking
  # and $! is the daemon's own PID.
  setsid "$@" >"$DIR/log/$name.out" 2>&1 </dev/null &
  echo $! >"$PIDS/$name.pid"
}

alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

write_conf() {
  local auth_lines
  if [ "$AUTH" = none ]; then
    auth_lines="AuthType=auth/none
CredType=cred/none"
  else
    auth_lines="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket"
  fi
  local acct_lines
  if [ "$ACCOUNTING" = 1 ]; then
    acct_lines="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT"
    # Gotcha: traffic to slurmdbd does not use AuthInfo's socket but the one named
    # in AccountingStoragePass (else clients look for /run/munge/munge.socket.2).
    [ "$AUTH" = munge ] && acct_lines="$acct_lines
AccountingStoragePass=$DIR/munge/munge.socket"
  else
    acct_lines="# No slurmdbd: sacct does not work (\"Slurm accounting storage is disabled\").
AccountingStorageType=accounting_storage/none"
  fi
  cat >"$CONF" <<EOF
# Generated by single-node-slurm.sh - single node, loopback only, no cgroups.
ClusterName=ci
# The name in SlurmctldHost must be this host's short hostname (slurmctld checks);
# the address in parentheses keeps everything on loopback without DNS.
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
$auth_lines
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
# No cgroups anywhere: process tracking by /proc walk, no task containment.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
# Finished jobs stay visible to squeue -t all / scontrol show job for MinJobAge s.
$acct_lines
JobCompType=jobcomp/none
MinJobAge=600
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# batch_sched_delay=0: start newly runnable batch jobs at the next scheduler pass
# (default 3 s); cuts a 2-wave 4-task array on 2 CPUs from ~5 s to ~3 s.
${SCHED_PARAMS:+SchedulerParameters=$SCHED_PARAMS}
MpiDefault=none
ReturnToService=2
# Let the node advertise CPUs=$CPUS whatever the real core count (no DRAIN on mismatch).
SlurmdParameters=config_overrides
NodeName=$NODE NodeHostname=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1024 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

cmd_start() {
  command -v slurmctld >/dev/null || die "slurm not installed (run: $0 install)"
  if alive slurmctld || alive slurmd || alive munged || alive slurmdbd || alive mariadbd; then
    die "daemons from a previous start still running (run: $0 stop)"
  fi
  # Refuse to clash with anything already listening on our ports.
  local port ports="$CTLD_PORT $SLURMD_PORT"
  [ "$ACCOUNTING" = 1 ] && ports="$ports $DB_PORT $DBD_PORT"
  if command -v ss >/dev/null; then
    for port in $ports; do
      ss -ltnH "( sport = :$port )" | grep -q . &&
        die "port $port already in use (see SLURM_TEST_*_PORT)"
    done
  fi
  case $DIR in /*) ;; *) die "SLURM_TEST_DIR must be an absolute path" ;; esac
  if [ "$AUTH" = munge ]; then
    # munged refuses a socket below any directory that is not searchable by all
    # ("Socket is inaccessible: execute permissions for all required"), e.g. a
    # mkdtemp() dir (0700). Check up front, with a clearer message.
    local d=$DIR
    while d=$(dirname "$d"); [ "$d" != / ]; do
      if [ -d "$d" ] && [ "$(( 0$(stat -c %a "$d") & 1 ))" = 0 ]; then
        die "munged needs every directory above its socket searchable by all: chmod o+x $d (or use another SLURM_TEST_DIR)"
      fi
    done
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR"/{state,spool,log,pids}
  chmod 755 "$DIR"
  write_conf
  local t0; t0=$(now)
  echo "$t0" >"$DIR/t_start"
  STARTING=1
  trap 'die "interrupted"' INT TERM

  if [ "$AUTH" = munge ]; then
    # Own key + socket under $DIR: leaves /etc/munge and /run/munge alone.
    # munged insists: key 0600 owned by its euid; socket dir 0755 (x for all).
    mkdir -p "$DIR/munge"; chmod 755 "$DIR/munge"
    mungekey --create --keyfile="$DIR/munge/munge.key"
    chmod 600 "$DIR/munge/munge.key"
    start_bg munged munged -F \
      --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
      --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/log/munged.log" \
      --seed-file="$DIR/munge/munged.seed"
    local i=0
    until munge -n -S "$DIR/munge/munge.socket" 2>/dev/null | unmunge -S "$DIR/munge/munge.socket" >/dev/null 2>&1; do
      alive munged || { cat "$DIR/log/munged.out" >&2; die "munged exited"; }
      i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "munged not ready"
      sleep 0.1
    done
    log "munged ready (pid $(cat "$PIDS/munged.pid")) after $(since "$t0") s"
  fi

  [ "$ACCOUNTING" = 1 ] && start_accounting "$t0"

  start_bg slurmctld slurmctld -D -f "$CONF"
  start_bg slurmd slurmd -D -f "$CONF" -N "$NODE"

  local state="" i=0
  # slurmctld answering RPCs (jobs can be submitted; they would pend until the node registers)
  until scontrol ping 2>/dev/null | grep -q UP; do
    alive slurmctld || { tail -20 "$DIR/log/slurmctld.out" >&2; die "slurmctld exited"; }
    i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "slurmctld not answering after ${TIMEOUT}s"
    sleep 0.1
  done
  log "slurmctld answering after $(since "$t0") s"
  i=0
  # the node registered and idle: jobs start at once
  while :; do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    alive slurmctld || { tail -20 "$DIR/log/slurmctld.out" >&2; die "slurmctld exited"; }
    alive slurmd || { tail -20 "$DIR/log/slurmd.out" >&2; die "slurmd exited"; }
    i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "node not idle after ${TIMEOUT}s (state: '$state')"
    sleep 0.1
  done
  STARTING=0
  trap - INT TERM
  local ready; ready=$(since "$t0")
  echo "$ready" >"$DIR/t_ready"
  log "cluster ready: node $NODE idle, slurmctld pid $(cat "$PIDS/slurmctld.pid"), slurmd pid $(cat "$PIDS/slurmd.pid"), $ready s after start"
  echo "export SLURM_CONF=$CONF"
}

# MariaDB (own datadir, 127.0.0.1:$DB_PORT) + slurmdbd (127.0.0.1:$DBD_PORT), for sacct.
start_accounting() {
  local t0=$1 i=0 sock=$DIR/mysql/mysqld.sock
  local dbopts=(--no-defaults --user=root --datadir="$DIR/mysql/data"
    --innodb-log-file-size=8M --innodb-buffer-pool-size=32M)
  mkdir -p "$DIR/mysql"
  mariadb-install-db "${dbopts[@]}" --auth-root-authentication-method=socket \
    --skip-test-db >"$DIR/log/mariadb-install-db.log" 2>&1 ||
    { tail -20 "$DIR/log/mariadb-install-db.log" >&2; die "mariadb-install-db failed"; }
  log "mariadb datadir created after $(since "$t0") s"
  start_bg mariadbd mariadbd "${dbopts[@]}" --socket="$sock" --pid-file="$DIR/mysql/mysqld.pid" \
    --bind-address=127.0.0.1 --port="$DB_PORT" --log-error="$DIR/log/mariadbd.log"
  until mariadb --no-defaults --socket="$sock" -u root -e 'select 1' >/dev/null 2>&1; do
    alive mariadbd || { tail -20 "$DIR/log/mariadbd.log" >&2; die "mariadbd exited"; }
    i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "mariadbd not ready"
    sleep 0.1
  done
  mariadb --no-defaults --socket="$sock" -u root -e "
    CREATE USER 'slurm'@'localhost' IDENTIFIED BY 'slurm';
    CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
  log "mariadbd ready (pid $(cat "$PIDS/mariadbd.pid")) after $(since "$t0") s"
  # slurmdbd reads slurmdbd.conf from the directory of $SLURM_CONF; it must be
  # 0600 and owned by SlurmUser. DbdHost, like SlurmctldHost, must be this host's
  # short name (or localhost).
  local auth_lines="AuthType=auth/none"
  [ "$AUTH" = munge ] && auth_lines="AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket"
  cat >"$DIR/slurmdbd.conf" <<DBDCONF
$auth_lines
DbdHost=$NODE
DbdAddr=127.0.0.1
DbdPort=$DBD_PORT
SlurmUser=root
PidFile=$DIR/slurmdbd.pid
LogFile=$DIR/log/slurmdbd.log
DebugLevel=info
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
DBDCONF
  chmod 600 "$DIR/slurmdbd.conf"
  start_bg slurmdbd slurmdbd -D
  i=0
  until timeout 5 sacctmgr -n list cluster >/dev/null 2>&1; do
    alive slurmdbd || { tail -20 "$DIR/log/slurmdbd.out" >&2; die "slurmdbd exited"; }
    i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "slurmdbd not answering"
    sleep 0.1
  done
  log "slurmdbd ready (pid $(cat "$PIDS/slurmdbd.pid")) after $(since "$t0") s"
}

cmd_demo() {
  [ -f "$CONF" ] || die "no $CONF (run: $0 start)"
  grep -q accounting_storage/slurmdbd "$CONF" && ACCOUNTING=1
  rm -rf "$OUTDIR"; mkdir -p "$OUTDIR"
  # single quotes on purpose: the batch shell expands $SLURM_ARRAY_TASK_ID per task
  # shellcheck disable=SC2016
  local wrap='echo task $SLURM_ARRAY_TASK_ID > /tmp/slurmtest/out_$SLURM_ARRAY_TASK_ID.txt'

  # --test-only: validates and estimates a start time; runs nothing. It prints
  # "sbatch: Job N to start at ..." on stderr and exits 0 (N is then skipped by
  # the next real submission).
  local tonly
  tonly=$(sbatch --test-only --array=0-3 -o "$OUTDIR/slurm-%A_%a.out" --wrap "$wrap" 2>&1) \
    || die "sbatch --test-only failed: $tonly"
  log "test-only: $tonly"

  local t0 jid; t0=$(now)
  jid=$(sbatch --parsable --array=0-3 -o "$OUTDIR/slurm-%A_%a.out" --wrap "$wrap")
  jid=${jid%%;*}   # --parsable prints "jobid[;cluster]"
  log "submitted array job $jid"
  # Wait: while any task of the array is still pending/running/completing.
  local i=0
  while [ -n "$(squeue -h -j "$jid" -t PD,CF,R,CG,S,RQ,RS -o %i 2>/dev/null)" ]; do
    i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "array job $jid not done after ${TIMEOUT}s"
    sleep 0.1
  done
  local took; took=$(since "$t0")
  echo "$took" >"$DIR/t_array"
  # Final per-task states (kept for MinJobAge seconds; no sacct without slurmdbd).
  local states; states=$(squeue -h -j "$jid" -t all -o '%i %T' | sort)
  log "array $jid finished in $took s; states: $(echo "$states" | tr '\n' ' ')"
  local n
  for n in 0 1 2 3; do
    [ "$(cat "$OUTDIR/out_$n.txt" 2>/dev/null)" = "task $n" ] || die "bad/missing $OUTDIR/out_$n.txt"
    echo "$states" | grep -qx "${jid}_$n COMPLETED" || die "task ${jid}_$n not COMPLETED"
  done
  log "verified: $OUTDIR/out_{0..3}.txt contain 'task N', all 4 tasks COMPLETED"
  if [ "$ACCOUNTING" = 1 ]; then
    # slurmctld forwards job records to slurmdbd asynchronously: poll a little.
    local acct="" t1; t1=$(now); i=0
    until [ "$(echo "$acct" | grep -c ' COMPLETED 0:0$')" = 4 ]; do
      i=$((i + 1)); [ $i -lt $((TIMEOUT * 10)) ] || die "sacct does not show 4 COMPLETED tasks: $acct"
      sleep 0.1
      acct=$(sacct -n -X -P -j "$jid" -o JobID,State,ExitCode 2>/dev/null | tr '|' ' ')
    done
    log "sacct (after $(since "$t1") s more): $(echo "$acct" | tr '\n' ' ')"
  fi
}

cmd_status() {
  sinfo || true
  squeue -t all || true
}

cmd_stop() {
  local name pid i ids
  if alive slurmctld && [ -f "$CONF" ]; then
    # Cancel what is left in this (throw-away) cluster, and let the slurmstepd
    # processes finish before slurmd goes: each running step has a unix socket
    # in SlurmdSpoolDir, removed when its slurmstepd exits.
    # (clients retry an unresponsive slurmctld for ~10 s: bound every call)
    local q
    if ids=$(timeout 5 squeue -h -o %A 2>/dev/null); then
      ids=$(echo "$ids" | sort -u | tr '\n' ' ')
      if [ -n "${ids// /}" ]; then
        log "cancelling jobs: $ids"
        # shellcheck disable=SC2086
        timeout 5 scancel $ids 2>/dev/null || true
      fi
      for i in $(seq 1 150); do
        q=$(timeout 5 squeue -h -t PD,CF,R,CG,S,RQ,RS -o %i 2>/dev/null) || break
        [ -z "$q" ] && [ -z "$(find "$DIR/spool" -maxdepth 1 -type s 2>/dev/null)" ] && break
        sleep 0.1
      done
    fi
  fi
  # TERM all daemons at once: each takes up to ~2 s to exit, in parallel that is ~2 s.
  stop_pids slurmd slurmctld slurmdbd mariadbd munged
  stop_stepds
}

# stop_pids NAME... : TERM the recorded PIDs (if still that program), wait, KILL after 10 s.
stop_pids() {
  local name pid i left sent=()
  for name in "$@"; do
    [ -f "$PIDS/$name.pid" ] || continue
    pid=$(cat "$PIDS/$name.pid")
    # Guard against PID reuse: only signal it if it is still that program.
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -o comm= -p "$pid")" = "$name" ]; then
      kill -TERM "$pid" && sent+=("$name:$pid")
    fi
    rm -f "$PIDS/$name.pid"
  done
  for i in $(seq 1 100); do
    left=0
    for name in "${sent[@]}"; do kill -0 "${name#*:}" 2>/dev/null && left=1; done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for name in "${sent[@]}"; do
    if kill -0 "${name#*:}" 2>/dev/null; then
      log "${name%%:*} (${name#*:}) ignored TERM for 10 s, sending KILL"; kill -KILL "${name#*:}" || true
    fi
    log "stopped ${name%%:*} (pid ${name#*:})"
  done
}

# slurmstepd (one per job step) is forked by slurmd into its own session. Once its
# step is over it exits at once, but it was re-parented to PID 1, so it stays a
# zombie until PID 1 reaps it (~1-1.5 s on this VM; forever in a container whose
# PID 1 does not reap: use an init such as tini / docker --init). Zombies are
# already dead; wait only for live slurmstepd processes that are ours, i.e. that
# carry our SLURM_CONF in their environment (inherited from our slurmd).
stop_stepds() {
  local p pids=() i left st
  local comm
  for p in /proc/[0-9]*; do
    { read -r comm <"$p/comm"; } 2>/dev/null || continue
    [ "$comm" = slurmstepd ] || continue
    st=$(awk '{print $3}' "$p/stat" 2>/dev/null) || continue
    [ "$st" = Z ] && continue
    { tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qxF "SLURM_CONF=$CONF" && pids+=("${p#/proc/}")
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for i in $(seq 1 100); do
    left=0
    for p in "${pids[@]}"; do
      st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
      [ "$st" = Z ] || left=1
    done
    [ $left = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do
    st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) || continue
    [ "$st" = Z ] || { log "slurmstepd $p still running after 10 s, sending KILL"; kill -KILL "$p" || true; }
  done
  log "waited for ${#pids[@]} live slurmstepd process(es)"
}

cmd_all() {
  local t0; t0=$(now)
  cmd_install
  trap cmd_stop EXIT
  cmd_start >/dev/null
  cmd_demo
  cmd_stop
  trap - EXIT
  log "all done in $(since "$t0") s (ready after $(cat "$DIR/t_ready") s, array took $(cat "$DIR/t_array") s)"
}

case "${1:-all}" in
  install) cmd_install ;;
  start) cmd_start ;;
  demo | submit | verify) cmd_demo ;;
  status) cmd_status ;;
  stop) cmd_stop ;;
  all) cmd_all ;;
  *) echo "usage: $0 [install|start|demo|status|stop|all]" >&2; exit 2 ;;
esac
