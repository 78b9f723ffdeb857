#!/bin/bash
# The Fashion-MNIST training-recipe run of docs/training-recipes.md, from the package root: SGD + cosine + augmentation
# for the teacher, consistent teaching for the distilled student, best on validation for all three.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
exec mpirun --allow-run-as-root -np 2 .build/release/distill run --dataset fashion-mnist --threads 1 --plain \
  --teacher-epochs 8 --student-epochs 5 \
  --teacher-optimizer sgd:momentum=0.9:nesterov:weight_decay=0.0005 --teacher-schedule cosine:warmup=1 --teacher-learning-rate 0.05 \
  --augment pad-crop=2:flip --validation-fraction 0.1 --restore-best \
  --checkpoint-dir ck --metrics-dir met
