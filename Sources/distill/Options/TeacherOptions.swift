import ArgumentParser
import Distill

/// Where the teacher's knowledge comes from: a teacher checkpoint (its logits computed once,
/// data-parallel, or reused from their cache) or logits computed elsewhere.
struct TeacherOptions: ParsableArguments {
    @Option(help: "The teacher checkpoint (from train-teacher, run --save-directory or keras-roundtrip.py import).")
    var teacher = "teacher.safetensors"

    @Option(name: .customLong("teacher-logits"),
            help: ArgumentHelp("Use logits computed elsewhere instead of a teacher checkpoint (--teacher is then not read): a safetensors "
                               + "file with one tensor 'logits', or a NumPy .npy array (float32 or float64), of [training samples, classes], "
                               + "row i for training sample i "
                               + "(scripts/keras-roundtrip.py logits writes one from a Keras model).", valueName: "file"))
    var logitsFile: String?

    @Flag(inversion: .prefixedNo,
          help: "Keep the teacher's logits in <teacher>.logits.safetensors and reuse them while the teacher and data match.")
    var logitsCache = true

    var source: TeacherSource { logitsFile.map { .logitsFile($0) } ?? .checkpoint(teacher, cacheLogits: logitsCache) }
}
