#!/usr/bin/env bash
# Not part of the test command: the full-MNIST version of the resume tests, as reported in the README (about 15 minutes on 2 cores).
# Uninterrupted run A; run B killed (SIGKILL of one rank) once it has saved two training states; B resumed; tensors compared.
# Needs data/mnist (scripts/fetch-mnist.sh) and a release build.
set -u
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
M="mpirun --bind-to none --mca btl_vader_single_copy_mechanism none -np 2"
args="--teacher-epochs 2 --student-epochs 1 --plain --checkpoint-every 500"
rm -rf /tmp/fullA /tmp/fullB
start=$(date +%s); $M .build/release/distill $args --checkpoint-dir /tmp/fullA > /tmp/fullA.log 2>&1; echo "A exit $? in $(( $(date +%s) - start )) s"
$M .build/release/distill $args --checkpoint-dir /tmp/fullB > /tmp/fullB1.log 2>&1 & P=$!
# Waits for the files, not a fixed time (a busy machine is slower), but not past B's end or 30 minutes.
for _ in $(seq 1 1800); do
    [ "$(ls /tmp/fullB/state-teacher-* 2>/dev/null | wc -l)" -ge 2 ] && break
    kill -0 $P 2>/dev/null || { echo "B ended before saving two states (see /tmp/fullB1.log)"; exit 1; }
    sleep 1
done
rank=$(pgrep -f "distill $args --checkpoint-dir /tmp/fullB" | tail -1)
ls /tmp/fullB; t0=$(date +%s.%N); kill -9 $rank; wait $P; echo "B killed: mpirun exit $? after $(echo "$(date +%s.%N) - $t0" | bc) s"
start=$(date +%s); $M .build/release/distill $args --checkpoint-dir /tmp/fullB --resume > /tmp/fullB2.log 2>&1; echo "B resumed exit $? in $(( $(date +%s) - start )) s"
grep -E "resuming|finished in an earlier" /tmp/fullB2.log
python3 - <<'PY'
import json, struct
def tensors(path):
    data = open(path, 'rb').read(); n = struct.unpack('<Q', data[:8])[0]; h = json.loads(data[8:8+n])
    return {k: data[8+n+v['data_offsets'][0]:8+n+v['data_offsets'][1]] for k, v in h.items() if k != '__metadata__'}
for name in ['teacher', 'student-distilled', 'student-scratch']:
    a, b = tensors(f'/tmp/fullA/{name}.safetensors'), tensors(f'/tmp/fullB/{name}.safetensors')
    print(name, 'bit-for-bit equal' if a == b else 'DIFFERENT', sum(len(v) for v in a.values()) // 4, 'weights')
PY
