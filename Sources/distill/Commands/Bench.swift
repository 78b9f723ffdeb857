import ArgumentParser
import Distill
import Foundation
import NN   // ModelDescription (--teacher-model, --student-model) and GEMMBackendKind (--both-backends)

/// Throughput of the training steps, with the same run's plain GEMM (same backend) as the yardstick.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training throughput and GFLOPS against a plain GEMM (same backend) of the teacher's largest shape and the machine's multiply-add peak.",
        discussion: """
            Runs on synthetic images (throughput does not depend on pixel values). Defaults to one GEMM \
            thread per rank. Under mpirun the batch is global and split across ranks, and the figures are the \
            job's; compute and allreduce time per step are reported separately.
            """)

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Architecture preset.")
    var preset: Architecture = .keras

    @Option(help: ArgumentHelp("The teacher as a Keras model JSON file (Sequential or functional). Default: the preset's.", valueName: "file.json"))
    var teacherModel: String?

    @Option(help: ArgumentHelp("The student as a Keras model JSON file (Sequential or functional). Default: the preset's.", valueName: "file.json"))
    var studentModel: String?

    @Option(help: "Global batch size.")
    var batchSize = 32

    @Option(help: "Timed steps per workload (after \(warmupSteps) warm-up steps).")
    var steps = 30

    @Option(parsing: .upToNextOption,
            help: "Workloads: \(BenchWorkload.allCases.map(\.rawValue).joined(separator: ", ")). Default: all (distill-hinted with --hint only).")
    var workloads: [BenchWorkload] = BenchWorkload.allCases.filter { $0 != .distillHinted }

    @Option(name: .customLong("hint"),
            help: ArgumentHelp("A feature hint for the distill-hinted workload, as distill-student's --hint (which adds that workload). Repeatable.",
                               valueName: "TEACHER_LAYER:STUDENT_LAYER[:WEIGHT]"))
    var hints: [String] = []

    @Flag(help: "Also profile one teacher training step and one student distillation step: each layer's forward and backward, the loss, the allreduce and the optimizer update as shares of the step, each GEMM shape's rate against the same shape alone and the machine's multiply-add (FMA) peak, and each direct-loop layer's (DepthwiseConv2D) bytes per second against a memory copy (on warm buffers and on buffers the cache no longer holds), against oneDNN's own kernel (warm, and in the cache state a step leaves it) and against the rate its multiply-adds allow at the FMA peak.")
    var profile = false

    @Flag(help: "With --profile: profile on both GEMM backends (onednn and openblas) in this run.")
    var bothBackends = false

    @Flag(help: "Print CSV lines (workload,ranks,threads,batch,samples_per_s,compute_ms_per_step,allreduce_ms_per_step,gflops_per_rank) instead of a table.")
    var csv = false

    static let warmupSteps = 3

    func validate() throws {
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...4096, got \(batchSize)") }
        guard (1...10_000).contains(steps) else { throw ValidationError("--steps must be in 1...10000, got \(steps)") }
        do { _ = try hints.map(HintSpecification.init(parsing:)) } catch let error as TrainingError { throw ValidationError(error.description) }
    }

    func run() throws {
        var options = runtime
        if options.threads == nil { options.threads = 1 }
        Session.run(options, announce: !csv) { session in
            let models = (teacher: try teacherModel.map(ModelDescription.init(contentsOfFile:)) ?? preset.description(.teacher),
                          student: try studentModel.map(ModelDescription.init(contentsOfFile:)) ?? preset.description(.student))
            var bench = try Benchmarks(models: models, batchSize: batchSize, steps: steps,
                                       warmup: Bench.warmupSteps, communicator: session.communicator, gemm: session.gemm)
            bench.hints = try hints.map(HintSpecification.init(parsing:))
            var results: [BenchResult] = []
            for workload in workloads + (hints.isEmpty || workloads.contains(.distillHinted) ? [] : [.distillHinted]) {
                let result = try bench.measure(workload)
                results.append(result)
                if csv { session.log(bench.csvLine(result, ranks: session.communicator.size, threads: session.threads, batchSize: batchSize)) }
            }
            // The yardstick's loop after the workloads, on every rank at once, as they ran.
            let peak = csv && !profile ? nil : MultiplyAddPeak.measure(communicator: session.communicator)
            if let peak, !csv { session.log(bench.table(results, ranks: session.communicator.size, threads: session.threads, peak: peak)) }
            if let peak, profile { try runProfiles(session: session, localBatch: bench.localBatch, models: models, peak: peak) }
        }
    }

    private func runProfiles(session: Session, localBatch: Int, models: (teacher: ModelDescription, student: ModelDescription),
                             peak: MultiplyAddPeak) throws {
        let kinds = bothBackends ? GEMMBackendKind.allCases : [runtime.gemm]
        for kind in kinds {
            let backend = kind == runtime.gemm ? session.gemm : try kind.make()
            backend.setThreads(session.threads)
            for (role, distill) in [(ModelRole.teacher, false), (.student, true)] {
                let profile = try StepProfile(model: role == .teacher ? models.teacher : models.student, role: role, distill: distill, batch: localBatch, globalBatch: batchSize,
                                              steps: steps, warmup: Bench.warmupSteps, backend: backend, threads: session.threads,
                                              peak: peak, communicator: session.communicator)
                session.log("\n" + profile.table())
            }
            if kind != runtime.gemm { kind.setThreads(1) }
        }
    }
}

extension BenchWorkload: ExpressibleByArgument {}
