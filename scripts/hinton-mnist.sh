#!/usr/bin/env bash
# Hinton, Vinyals and Dean (2015), section 3, on MNIST: a dropout-and-max-norm 784-1200-1200-10
# teacher trained on inputs jittered by up to two pixels, then five 784-800-800-10 students distilled
# from its soft targets at T 20 on the plain images, each beside its scratch twin (the same initial
# weights, batch order, optimizer, schedule, epochs and best epoch on the same validation split; only
# the distillation term differs). Every stage checkpoints and resumes: rerun the same command after
# a stop. Settings are the paper's where it gives them (T 20, the two architectures, dropout 20%/50%,
# max-norm, 2-pixel jitter); the rest, marked "ours" in docs/hinton-mnist.md, are chosen here.
#
# Usage: scripts/hinton-mnist.sh [OUT]          (default OUT: hinton-mnist)
# Environment (for a short check; the defaults are the full experiment):
#   RANKS (2)  TEACHER_EPOCHS (250)  STUDENT_EPOCHS (40)  SEEDS ("1 2 3 4 5")  FLAGS (added to every distill call; default: --data-dir data/mnist)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:-hinton-mnist}
distill=${DISTILL_BIN:-$here/../.build/release/distill}
models=$here/../recipes/hinton-mnist
ranks=${RANKS:-2}
seeds=${SEEDS:-1 2 3 4 5}
read -r -a data <<<"${FLAGS:---data-dir $here/../data/mnist}"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

launch() {
    if [ "$ranks" -gt 1 ]; then mpirun --oversubscribe -np "$ranks" "$distill" "$@"; else "$distill" "$@"; fi
}

# resume_flag DIR: --resume once DIR holds a training state or a finished phase (a stage stopped part way).
resume_flag() { compgen -G "$1/*.safetensors" >/dev/null && echo --resume || true; }

# Shared by every phase: batch 100, a 10% class-balanced validation split (the same for all), each
# phase ending on its epoch of lowest validation loss.
common=(--plain --batch-size 100 --validation-fraction 0.1 --restore-best "${data[@]}")
mkdir -p "$out"

if [ ! -f "$out/teacher.safetensors" ]; then
    echo "hinton-mnist: teacher, ${TEACHER_EPOCHS:-250} epochs"
    launch train-teacher "${common[@]}" --teacher-model "$models/teacher.json" --teacher-epochs "${TEACHER_EPOCHS:-250}" \
        --teacher-optimizer sgd:momentum=0.9 --teacher-learning-rate 0.1 --teacher-schedule cosine --teacher-augment translate=2 \
        --seed 1 --checkpoint-dir "$out/teacher-states" $(resume_flag "$out/teacher-states") \
        --output "$out/teacher.safetensors" --metrics-json "$out/teacher.json" | tee -a "$out/teacher.log"
fi

# The students: for each seed, one distilled at T 20 (the un-jittered images, the teacher's logits
# computed once and cached beside it) and its scratch twin.
for seed in $seeds; do
    dir=$out/seed-$seed
    [ -f "$dir/distilled.safetensors" ] && [ -f "$dir/scratch.safetensors" ] && continue
    echo "hinton-mnist: students of seed $seed, ${STUDENT_EPOCHS:-40} epochs each"
    mkdir -p "$dir"
    launch distill-student "${common[@]}" --teacher "$out/teacher.safetensors" --student-model "$models/student.json" \
        --student-epochs "${STUDENT_EPOCHS:-40}" --optimizer sgd:momentum=0.9 --learning-rate 0.02 --schedule cosine \
        --temperature 20 --alpha 0.1 --seed "$seed" --checkpoint-dir "$dir/states" $(resume_flag "$dir/states") \
        --output "$dir/distilled.safetensors" --twin-output "$dir/scratch.safetensors" | tee -a "$dir/students.log"
done

# The table: every model evaluated again on the test set (its evaluate line kept), then test errors, paired t and the gap closed.
{
    printf 'teacher\t-\t%s\n' "$(launch evaluate "${data[@]}" --model "$out/teacher.safetensors" | grep 'test accuracy')"
    for seed in $seeds; do
        for kind in scratch distilled; do
            printf '%s\t%s\t%s\n' "$kind" "$seed" \
                "$(launch evaluate "${data[@]}" --model "$out/seed-$seed/$kind.safetensors" | grep 'test accuracy')"
        done
    done
} > "$out/accuracies.tsv"
python3 "$here/hinton-table.py" "$out/accuracies.tsv" | tee "$out/table.md"
