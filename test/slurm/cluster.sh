#!/usr/bin/env bash
# A real one-node Slurm cluster (slurmctld + slurmd + munge, Debian's packages) on this machine, for
# tests. Runs as root without systemd (facts in the project's SLURM notes).
#
#   test/slurm/cluster.sh up     start it; the last line printed is the path of its slurm.conf
#                                (point clients at it: export SLURM_CONF=<that path>)
#   test/slurm/cluster.sh down   stop exactly the daemons `up` started and remove its folder
#
# Everything lives in $SQSNN_SLURM_DIR (default /tmp/sqsnn-slurm). `up` records which daemons it
# started there (munged only if none was running), so `down` never touches anything else.
set -euo pipefail
DIR=${SQSNN_SLURM_DIR:-/tmp/sqsnn-slurm}
CONF=$DIR/slurm.conf

die() { echo "cluster.sh: $*" >&2; exit 2; }

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# Stop the daemon whose pid is in file $1: SIGTERM, then SIGKILL after a grace period.
stop_pidfile() {
  local file=$1 pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do pid_alive "$pid" || break; sleep 0.1; done
    pid_alive "$pid" && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  [ -d "$DIR" ] || { echo "cluster.sh: nothing to stop ($DIR does not exist)" >&2; return 0; }
  stop_pidfile "$DIR/slurmd.pid"
  stop_pidfile "$DIR/slurmctld.pid"
  if [ -f "$DIR/started-munged" ]; then
    stop_pidfile "$(cat "$DIR/started-munged")"
    [ -f "$DIR/created-run-munge" ] && rm -rf /run/munge
  fi
  rm -rf "$DIR"
  echo "cluster.sh: stopped" >&2
}

up() {
  [ "$(id -u)" = 0 ] || die "must run as root (slurmd and munged need it)"
  for b in slurmctld slurmd munged sinfo sbatch; do
    command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || die "$b not found: apt-get install --no-install-recommends slurmctld slurmd slurm-client munge"
  done
  if [ -f "$DIR/slurmctld.pid" ] && pid_alive "$(cat "$DIR/slurmctld.pid")"; then
    die "a cluster from $DIR is already running; run 'cluster.sh down' first"
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR/state" "$DIR/spool"

  # munge: reuse a running daemon, otherwise start one and remember that we did.
  if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -f /etc/munge/munge.key ] || mungekey --create >/dev/null
    chown munge:munge /etc/munge/munge.key && chmod 0400 /etc/munge/munge.key
    if [ ! -d /run/munge ]; then
      mkdir -p /run/munge && touch "$DIR/created-run-munge"
    fi
    chown munge:munge /run/munge && chmod 0755 /run/munge
    runuser -u munge -- /usr/sbin/munged
    local pidfile=/run/munge/munged.pid
    for _ in $(seq 1 50); do [ -s "$pidfile" ] && break; sleep 0.1; done
    [ -s "$pidfile" ] || die "munged did not start"
    cp "$pidfile" "$DIR/munged.pid"
    echo "$DIR/munged.pid" > "$DIR/started-munged"
    munge -n | unmunge >/dev/null || die "munge does not work (munge -n | unmunge failed)"
  fi

  local host cpus mem
  host=$(hostname -s)
  cpus=$(nproc)
  # A RealMemory below what slurmd reports, or the node is drained as having too little.
  mem=$(slurmd -C | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p')
  mem=$(( mem * 9 / 10 ))
  cat > "$CONF" <<EOF
ClusterName=sqsnn-test
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=5
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
SlurmctldPort=${SQSNN_SLURMCTLD_PORT:-6917}
SlurmdPort=${SQSNN_SLURMD_PORT:-6918}
NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF=$CONF
  /usr/sbin/slurmctld -f "$CONF" || { down; die "slurmctld did not start (see $DIR/slurmctld.log)"; }
  /usr/sbin/slurmd -f "$CONF" || { down; die "slurmd did not start (see $DIR/slurmd.log)"; }
  local state=""
  for _ in $(seq 1 300); do
    state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 0.1
  done
  [ "$state" = idle ] || { down; die "the node did not become idle (state '$state'; logs in $DIR)"; }
  echo "$CONF"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) die "usage: cluster.sh up|down" ;;
esac
