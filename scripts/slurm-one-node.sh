#!/usr/bin/env bash
# A one-node Slurm (slurmctld + slurmd + munged) on this machine, for trying scripts/distill.sbatch
# and `srun --mpi=pmix` without a cluster. Debian 12, as root, no systemd needed; idempotent.
#
#   scripts/slurm-one-node.sh          # install if needed, configure, start, return once job steps run
#   scripts/slurm-one-node.sh stop     # stop slurmctld, slurmd and munged
#   scripts/slurm-one-node.sh status
#
# State, spool and logs go to $SLURM_ONE_NODE_DIR (default /tmp/slurm-one-node). The configuration is
# written to /etc/slurm/slurm.conf; a slurm.conf this script did not write is left alone (error).
# As root, mpirun inside a job still needs OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1.
set -euo pipefail

DIR=${SLURM_ONE_NODE_DIR:-/tmp/slurm-one-node}
CONF=/etc/slurm/slurm.conf
MARKER="# written by slurm-one-node.sh"
NODE=$(hostname -s)

die() { echo "slurm-one-node: $*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

stop_slurm() {
    # scontrol shutdown stops slurmctld and slurmd cleanly; fall back to the pid files.
    if alive "$DIR/slurmctld.pid"; then scontrol shutdown >/dev/null 2>&1 || true; fi
    for name in slurmctld slurmd; do
        pidfile=$DIR/$name.pid
        for _ in $(seq 1 20); do alive "$pidfile" || break; sleep 0.5; done
        if alive "$pidfile"; then kill "$(cat "$pidfile")"; sleep 1; fi
        rm -f "$pidfile"
    done
}

stop() {
    stop_slurm
    if alive /run/munge/munged.pid; then kill "$(cat /run/munge/munged.pid)"; fi
    echo "slurm-one-node: stopped"
}

case "${1:-start}" in
  stop)   stop; exit 0 ;;
  status) sinfo; squeue; exit 0 ;;
  start)  ;;
  *)      die "usage: $0 [start|stop|status]" ;;
esac

[ "$(id -u)" -eq 0 ] || die "run as root"
getent hosts "$NODE" >/dev/null || die "hostname $NODE does not resolve; add it to /etc/hosts"

# 1. Packages (Debian 12: Slurm 22.05 with the pmix_v4 and pmi2 MPI plugins, munge).
pkgs=(slurm-wlm slurmctld slurmd slurm-client munge)
if ! dpkg -s "${pkgs[@]}" >/dev/null 2>&1; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${pkgs[@]}"
fi

for tool in slurmctld slurmd srun sinfo scontrol munge; do
    command -v "$tool" >/dev/null || die "$tool is not installed (the packages ${pkgs[*]} should provide it)"
done

# 2. munge: a key (the package normally creates one) and the daemon, run as the munge user.
[ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
install -d -o munge -g munge -m 755 /run/munge
if ! alive /run/munge/munged.pid; then
    su -s /bin/sh munge -c /usr/sbin/munged
    sleep 1
fi
munge -n | unmunge >/dev/null || die "munge does not work (see /var/log/munge/munged.log)"

# 3. slurm.conf for this one node: its CPUs and topology from slurmd -C, memory less 1 GiB.
if [ -f "$CONF" ] && ! grep -qF "$MARKER" "$CONF"; then
    die "$CONF exists and was not written by this script; move it away first"
fi
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
node_line=$(slurmd -C | sed -n '1s/ RealMemory=.*//p')   # sed reads it all: no SIGPIPE under pipefail
mem=$(( $(free -m | awk '/^Mem:/ {print $2}') - 1024 ))
[ "$mem" -ge 512 ] || mem=512
new_conf=$(cat <<EOF
$MARKER
ClusterName=onenode
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
# No cgroups needed (containers, gVisor): track processes by parent id, no task binding.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
# A loaded 2-core machine answers slowly: the default 10 s message timeout failed a first job step
# ("Socket timed out on send/recv operation") while another process kept a core busy.
MessageTimeout=60
TCPTimeout=10
SlurmdTimeout=300
$node_line RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
)
if [ "$(cat "$CONF" 2>/dev/null)" != "$new_conf" ]; then
    printf '%s\n' "$new_conf" > "$CONF"
    # A changed configuration needs fresh daemons.
    stop_slurm
fi

# 4. The daemons, in the foreground mode (-D) detached from this shell; logs in $DIR/log.
alive "$DIR/slurmctld.pid" || setsid nohup slurmctld -D >"$DIR/log/slurmctld.out" 2>&1 < /dev/null &
sleep 1
alive "$DIR/slurmd.pid" || setsid nohup slurmd -D >"$DIR/log/slurmd.out" 2>&1 < /dev/null &

# 5. Ready means a job step runs, not only that the node is listed: wait until the node is idle
#    (resuming it if an earlier run left it down or drained), then run `srun -n 2 true` and the same
#    with --mpi=pmix, retrying within READY_SECONDS with the reason of each failure printed.
READY_SECONDS=${SLURM_ONE_NODE_READY_SECONDS:-300}
deadline=$(( $(date +%s) + READY_SECONDS ))
state=""
wait_idle() {
    while [ "$(date +%s)" -lt "$deadline" ]; do
        state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
        case "$state" in
          idle) return 0 ;;
          down*|drain*) scontrol update nodename="$NODE" state=resume >/dev/null 2>&1 || true ;;
        esac
        sleep 1
    done
    return 1
}
for step in "srun -n 2 --time=1 true" "srun -n 2 --time=1 --mpi=pmix true"; do
    while :; do
        if wait_idle; then
            out=$(timeout 120 $step 2>&1) && break
            reason="\`$step\` failed: $(tr '\n' ' ' <<<"$out")"
            echo "slurm-one-node: $reason; retrying" >&2
        else
            reason="node $NODE ${state:-not listed}, not idle"
        fi
        [ "$(date +%s)" -lt "$deadline" ] || die "not ready after $READY_SECONDS s: $reason (logs in $DIR/log/)"
        sleep 2
    done
done
sinfo
echo "slurm-one-node: ready (job steps with and without --mpi=pmix ran)"
