import ArgumentParser
import Collective
import Datasets
import Distill
import Foundation
import NN

/// Throughput of the training steps, with the same run's plain GEMM (same backend) as the yardstick.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training throughput and GFLOPS against a plain GEMM (same backend) of the teacher's largest shape.",
        discussion: """
            Runs on synthetic images (throughput does not depend on pixel values). Defaults to one GEMM \
            thread per rank. Under mpirun the batch is global and split across ranks, and the figures are the \
            job's; compute and allreduce time per step are reported separately.
            """)

    enum Workload: String, CaseIterable, ExpressibleByArgument {
        case gemm, teacher, distill, distillRunning = "distill-running", logits, student
    }

    @OptionGroup var runtime: RuntimeOptions

    @Option(help: "Architecture preset.")
    var preset: Architecture = .keras

    @Option(help: ArgumentHelp("The teacher as a Keras Sequential JSON file. Default: the preset's.", valueName: "file.json"))
    var teacherModel: String?

    @Option(help: ArgumentHelp("The student as a Keras Sequential JSON file. Default: the preset's.", valueName: "file.json"))
    var studentModel: String?

    @Option(help: "Global batch size.")
    var batchSize = 32

    @Option(help: "Timed steps per workload (after \(warmupSteps) warm-up steps).")
    var steps = 30

    @Option(parsing: .upToNextOption,
            help: "Workloads: \(Workload.allCases.map(\.rawValue).joined(separator: ", ")). Default: all.")
    var workloads: [Workload] = Workload.allCases

    @Flag(help: "Also profile one teacher training step and one student distillation step: each layer's forward and backward, the loss, the allreduce and Adam as shares of the step, and each GEMM shape's rate against the same shape alone.")
    var profile = false

    @Flag(help: "With --profile: profile on both GEMM backends (onednn and openblas) in this run.")
    var bothBackends = false

    @Flag(help: "Print CSV lines (workload,ranks,threads,batch,samples_per_s,compute_ms_per_step,allreduce_ms_per_step,gflops_per_rank) instead of a table.")
    var csv = false

    static let warmupSteps = 3

    func validate() throws {
        guard (1...4096).contains(batchSize) else { throw ValidationError("--batch-size must be in 1...4096, got \(batchSize)") }
        guard (1...10_000).contains(steps) else { throw ValidationError("--steps must be in 1...10000, got \(steps)") }
    }

    func run() throws {
        var options = runtime
        if options.threads == nil { options.threads = 1 }
        let session = Session.start(options, announce: !csv)
        session.run {
            let models = (teacher: try teacherModel.map(ModelDescription.init(contentsOfFile:)) ?? preset.description(.teacher),
                          student: try studentModel.map(ModelDescription.init(contentsOfFile:)) ?? preset.description(.student))
            let bench = try Benchmarks(models: models, batchSize: batchSize, steps: steps,
                                       warmup: Bench.warmupSteps, communicator: session.communicator, gemm: session.gemm)
            var results: [BenchResult] = []
            for workload in workloads {
                let result = try bench.measure(workload)
                results.append(result)
                if csv {
                    session.log([workload.rawValue, "\(session.communicator.size)", "\(session.threads)", "\(batchSize)",
                                 fixed(result.samplesPerSecond, 1), fixed(result.computeMilliseconds, 3),
                                 fixed(result.allreduceMilliseconds, 3), fixed(result.gflopsPerRank, 2)].joined(separator: ","))
                }
            }
            if !csv { session.log(benchTable(results, session: session, bench: bench)) }
            if profile { try runProfiles(session: session, localBatch: bench.localBatch, models: models) }
        }
    }

    private func runProfiles(session: Session, localBatch: Int, models: (teacher: ModelDescription, student: ModelDescription)) throws {
        let kinds = bothBackends ? GEMMBackendKind.allCases : [runtime.gemm]
        for kind in kinds {
            let backend = kind == runtime.gemm ? session.gemm : try kind.make()
            backend.setThreads(session.threads)
            for (role, distill) in [(ModelRole.teacher, false), (.student, true)] {
                let profile = try StepProfile(model: role == .teacher ? models.teacher : models.student, role: role, distill: distill, batch: localBatch, globalBatch: batchSize,
                                              steps: steps, warmup: Bench.warmupSteps, backend: backend,
                                              communicator: session.communicator)
                session.log("\n" + profile.table())
            }
            if kind != runtime.gemm { kind.setThreads(1) }
        }
    }

    private func benchTable(_ results: [BenchResult], session: Session, bench: Benchmarks) -> String {
        let gemm = results.first { $0.workload == .gemm }
        var lines = [
            "| workload | samples/s | compute ms/step | allreduce ms/step | GFLOPS per rank | vs plain GEMM | allocations/step |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results {
            let ratio = gemm.map { r.gflopsPerRank > 0 && $0.gflopsPerRank > 0 ? percent(r.gflopsPerRank / $0.gflopsPerRank) : "" } ?? ""
            lines.append("| \(r.workload.rawValue) | \(r.workload == .gemm ? "" : fixed(r.samplesPerSecond, 0)) | "
                + "\(fixed(r.computeMilliseconds, 2)) | \(fixed(r.allreduceMilliseconds, 3)) | "
                + "\(r.gflopsPerRank > 0 ? fixed(r.gflopsPerRank, 1) : "") | \(ratio) | "
                + "\(r.allocations.map(\.description) ?? (r.workload == .gemm || r.workload == .logits ? "" : "n/a")) |")
        }
        let shape = bench.gemmShape
        lines.append("")
        lines.append("\(bench.gemm.name) plain GEMM shape m=\(shape.m) n=\(shape.n) k=\(shape.k) (the teacher's largest GEMM at \(bench.localBatch) samples per rank); "
            + "\(session.communicator.size) rank(s) x \(session.threads) thread(s)")
        if AllocationCounter() == nil {
            lines.append("allocations/step: n/a (run under scripts/check-allocations.sh to count them)")
        }
        if let distill = results.first(where: { $0.workload == .distill }),
           let running = results.first(where: { $0.workload == .distillRunning }) {
            lines.append("distillation with cached teacher logits: \(fixed(distill.samplesPerSecond / running.samplesPerSecond, 1))x "
                + "the throughput of running the teacher forward each step")
        }
        return lines.joined(separator: "\n")
    }
}

struct BenchResult {
    let workload: Bench.Workload
    let samplesPerSecond: Double
    let computeMilliseconds: Double
    let allreduceMilliseconds: Double
    let gflopsPerRank: Double
    var allocations: AllocationsPerStep? = nil
}

/// Heap allocations per step over a shorter and a longer stretch of epochs: equal when the count
/// per step is constant (it does not grow over an epoch); shown as one figure then, as both otherwise.
struct AllocationsPerStep: CustomStringConvertible {
    let shorter: Double, longer: Double
    var description: String { shorter == longer ? fixed(longer, 2) : "\(fixed(shorter, 2)) then \(fixed(longer, 2))" }
}

/// The measurements behind `distill bench`.
struct Benchmarks {
    let models: (teacher: ModelDescription, student: ModelDescription)
    let batchSize: Int
    let steps: Int
    let warmup: Int
    let communicator: Communicator
    let gemm: GEMMBackend
    let teacher: Sequential
    let localBatch: Int
    let gemmShape: (m: Int, n: Int, k: Int)

    init(models: (teacher: ModelDescription, student: ModelDescription), batchSize: Int, steps: Int, warmup: Int,
         communicator: Communicator, gemm: GEMMBackend) throws {
        (self.models, self.batchSize, self.steps, self.warmup, self.communicator) = (models, batchSize, steps, warmup, communicator)
        self.gemm = gemm
        teacher = try models.teacher.build(gemm: gemm)
        let student = try models.student.build(gemm: gemm)
        guard teacher.inputShape.count == 3, teacher.inputShape == student.inputShape, teacher.outputSize == student.outputSize else {
            throw CommandError("bench needs a teacher and a student with the same image input and classes; got \(teacher.inputShape) -> "
                + "\(teacher.outputSize) and \(student.inputShape) -> \(student.outputSize)")
        }
        var rng = SeededGenerator(seed: 1)
        teacher.parameters.initialize(using: &rng)
        localBatch = max(shardRange(total: batchSize, rank: 0, size: communicator.size).count, 1)
        // The plain GEMM to compare with: the forward product of the teacher's costliest layer.
        let (model, batch) = (teacher, localBatch)   // locals: a closure may not capture self before init ends
        let largest = model.layers.indices.max { model.forwardFLOPs(ofLayer: $0) < model.forwardFLOPs(ofLayer: $1) }
        guard let shape = largest.flatMap({ model.gemmShapes(ofLayer: $0, batch: batch).first?.shape }) else {
            throw CommandError("bench needs a teacher with a Conv2D or Dense layer")
        }
        gemmShape = (shape.m, shape.n, shape.k)
    }

    /// Random images and labels: `count` samples.
    func syntheticData(_ count: Int) -> LabeledImages {
        var rng = SeededGenerator(seed: 7)
        let size = teacher.inputSize, shape = teacher.inputShape
        return LabeledImages(images: (0..<count * size).map { _ in rng.nextFloat(in: 0, 1) },
                             labels: (0..<count).map { _ in Int32(rng.next() % UInt64(teacher.outputSize)) },
                             height: shape[0], width: shape[1], channels: shape[2])
    }

    func measure(_ workload: Bench.Workload) throws -> BenchResult {
        switch workload {
        case .gemm: return measureGEMM()
        case .teacher: return try measureFit(workload, model: teacher, distillFrom: nil)
        case .student: return try measureFit(workload, model: try fresh(.student), distillFrom: nil)
        case .distill:
            // Logits for every sample any measured epoch holds (the longest: 2 * steps batches and a partial one).
            let logits = CachedTeacherLogits.compute(teacher: teacher, data: syntheticData(batchSize * (2 * steps + 1)),
                                                     communicator: communicator)
            return try measureFit(workload, model: try fresh(.student), distillFrom: logits)
        case .distillRunning:
            return try measureFit(workload, model: try fresh(.student), distillFrom: RunningTeacher(teacher))
        case .logits: return measureLogits()
        }
    }

    private func fresh(_ role: ModelRole) throws -> Sequential {
        let model = try (role == .teacher ? models.teacher : models.student).build(gemm: gemm)
        var rng = SeededGenerator(seed: 2)
        model.parameters.initialize(using: &rng)
        return model
    }

    /// Warm-up steps, then `steps` timed steps of one epoch, through the same loop `fit` uses.
    /// With the allocation counter preloaded, three more epochs of 1, `steps` and `2 * steps` full
    /// batches (counted after the timed one, so one-time set-up is done) give the heap allocations per
    /// step from their differences. Each ends in a smaller batch (the sample count is not a multiple of
    /// the batch), so a plan made for the last batch in mid-epoch would show; the two differences must
    /// agree for the count per step to be constant.
    private func measureFit(_ workload: Bench.Workload, model: Sequential, distillFrom source: TeacherLogitsSource?) throws -> BenchResult {
        let data = syntheticData(batchSize * steps)
        func fit(_ samples: LabeledImages) throws -> FitHistory {
            if let source {
                let distiller = Distiller(student: model, teacherLogits: source, communicator: communicator)
                try distiller.compile(optimizer: Adam())
                return try distiller.fit(samples, epochs: 1, batchSize: batchSize, seed: 3)
            }
            return try Classifier(model: model, optimizer: Adam(), communicator: communicator)
                .fit(samples, epochs: 1, batchSize: batchSize, seed: 3)
        }
        let partialBatch = max(batchSize / 2, 1)
        _ = try fit(syntheticData(batchSize * warmup + partialBatch))   // plans both batch sizes before anything is counted
        communicator.barrier()
        let times = try fit(data).times
        let allocations = try AllocationCounter().map { counter -> AllocationsPerStep in
            func allocations(fullBatches: Int) throws -> Int {
                let samples = syntheticData(batchSize * fullBatches + partialBatch)
                let before = counter.count
                _ = try fit(samples)
                return counter.count - before
            }
            let counts = try [1, steps, 2 * steps].map { try allocations(fullBatches: $0) }
            return AllocationsPerStep(shorter: steps > 1 ? Double(counts[1] - counts[0]) / Double(steps - 1) : 0,
                                      longer: Double(counts[2] - counts[1]) / Double(steps))
        }
        let perStep = { (seconds: Double) in 1000 * seconds / Double(times.steps) }
        let seconds = max(times.compute + times.allreduce, 1e-9)
        let samplesPerSecond = Double(times.samples) / seconds
        // GFLOPS only where the step is the model's own training (not distillation's extra teacher pass).
        let gflops = source == nil ? Double(model.trainingFLOPsPerSample) * samplesPerSecond / Double(communicator.size) / 1e9 : 0
        return BenchResult(workload: workload, samplesPerSecond: samplesPerSecond, computeMilliseconds: perStep(times.compute),
                           allreduceMilliseconds: perStep(times.allreduce), gflopsPerRank: gflops,
                           allocations: allocations)
    }

    /// Every rank runs the same plain GEMM at once; GFLOPS averaged over ranks.
    private func measureGEMM() -> BenchResult {
        let (m, n, k) = gemmShape
        let shape = GEMMShape.plain(m: m, n: n, k: k)
        gemm.prepare(shape)
        let a = FloatBuffer(count: m * k), b = FloatBuffer(count: k * n), c = FloatBuffer(count: m * n)
        var rng = SeededGenerator(seed: 5)
        for i in 0..<a.count { a.pointer[i] = rng.nextFloat(in: -1, 1) }
        for i in 0..<b.count { b.pointer[i] = rng.nextFloat(in: -1, 1) }
        for _ in 0..<warmup { gemm.multiply(shape, a.pointer, b.pointer, c.pointer) }
        communicator.barrier()
        let repeats = steps * 3
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repeats { gemm.multiply(shape, a.pointer, b.pointer, c.pointer) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var gflops = [2.0 * Double(m * n * k) * Double(repeats) / seconds / 1e9]
        communicator.allreduceSum(&gflops)
        return BenchResult(workload: .gemm, samplesPerSecond: 0, computeMilliseconds: 1000 * seconds / Double(repeats),
                           allreduceMilliseconds: 0, gflopsPerRank: gflops[0] / Double(communicator.size))
    }

    /// The teacher-logit pass over `batchSize * steps` samples, split across ranks and gathered.
    private func measureLogits() -> BenchResult {
        let data = syntheticData(batchSize * steps)
        _ = CachedTeacherLogits.compute(teacher: teacher, data: syntheticData(256), communicator: communicator)
        communicator.barrier()
        let start = DispatchTime.now().uptimeNanoseconds
        _ = CachedTeacherLogits.compute(teacher: teacher, data: data, communicator: communicator)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return BenchResult(workload: .logits, samplesPerSecond: Double(data.count) / seconds,
                           computeMilliseconds: 1000 * seconds, allreduceMilliseconds: 0, gflopsPerRank: 0)
    }
}
