import Collective
import Datasets
import Dispatch
import NN

/// What `distill bench` measures.
public enum BenchWorkload: String, CaseIterable, Sendable {
    case gemm, teacher, distill, distillRunning = "distill-running", logits, student
    /// `distill` with feature hints: the teacher run to its hinted layers and the regressors on every step.
    case distillHinted = "distill-hinted"
}

/// One workload's figures: per step, or per call for the plain GEMM.
public struct BenchResult {
    public let workload: BenchWorkload
    public let samplesPerSecond: Double
    public let computeMilliseconds: Double
    public let allreduceMilliseconds: Double
    public let gflopsPerRank: Double
    public var allocations: AllocationsPerStep? = nil
}

/// Heap allocations per step over a shorter and a longer stretch of epochs: equal when the count
/// per step is constant (it does not grow over an epoch); shown as one figure then, as both otherwise.
public struct AllocationsPerStep: CustomStringConvertible {
    public let shorter: Double, longer: Double
    public var description: String { shorter == longer ? fixed(longer, 2) : "\(fixed(shorter, 2)) then \(fixed(longer, 2))" }
}

/// The measurements behind `distill bench`.
public struct Benchmarks {
    public let models: (teacher: ModelDescription, student: ModelDescription)
    public let batchSize: Int
    public let steps: Int
    public let warmup: Int
    public let communicator: Communicator
    public let gemm: GEMMBackend
    public let teacher: Sequential
    public let localBatch: Int
    public let gemmShape: (m: Int, n: Int, k: Int)
    /// The hints of `distill-hinted` (none: that workload is refused).
    public var hints: [HintSpecification] = []

    public init(models: (teacher: ModelDescription, student: ModelDescription), batchSize: Int, steps: Int, warmup: Int,
         communicator: Communicator, gemm: GEMMBackend) throws {
        (self.models, self.batchSize, self.steps, self.warmup, self.communicator) = (models, batchSize, steps, warmup, communicator)
        self.gemm = gemm
        teacher = try models.teacher.build(gemm: gemm)
        let student = try models.student.build(gemm: gemm)
        guard teacher.inputShape.count == 3, teacher.inputShape == student.inputShape, teacher.outputSize == student.outputSize else {
            throw TrainingError("bench needs a teacher and a student with the same image input and classes; got \(teacher.inputShape) -> "
                + "\(teacher.outputSize) and \(student.inputShape) -> \(student.outputSize)")
        }
        var rng = SeededGenerator(seed: 1)
        teacher.parameters.initialize(using: &rng)
        localBatch = max(shardRange(total: batchSize, rank: 0, size: communicator.size).count, 1)
        // The plain GEMM to compare with: the forward product of the teacher's costliest layer.
        let (model, batch) = (teacher, localBatch)   // locals: a closure may not capture self before init ends
        let largest = model.layers.indices.max { model.forwardFLOPs(ofLayer: $0) < model.forwardFLOPs(ofLayer: $1) }
        guard let shape = largest.flatMap({ model.gemmShapes(ofLayer: $0, batch: batch).first?.shape }) else {
            throw TrainingError("bench needs a teacher with a Conv2D or Dense layer")
        }
        gemmShape = (shape.m, shape.n, shape.k)
    }

    /// Random images and labels: `count` samples.
    public func syntheticData(_ count: Int) -> LabeledImages {
        var rng = SeededGenerator(seed: 7)
        let size = teacher.inputSize, shape = teacher.inputShape
        return LabeledImages(images: (0..<count * size).map { _ in rng.nextFloat(in: 0, 1) },
                             labels: (0..<count).map { _ in Int32(rng.next() % UInt64(teacher.outputSize)) },
                             height: shape[0], width: shape[1], channels: shape[2])
    }

    public func measure(_ workload: BenchWorkload) throws -> BenchResult {
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
        case .distillHinted:
            var settings = RecipeSettings()
            (settings.teacherModel, settings.studentModel, settings.hints) = (models.teacher, models.student, hints)
            guard let plan = try settings.hintPlan(teacher: HintPlan.Side(role: "teacher", model: teacher), gemm: gemm) else {
                throw TrainingError("bench's distill-hinted workload needs at least one --hint")
            }
            let logits = CachedTeacherLogits.compute(teacher: teacher, data: syntheticData(batchSize * (2 * steps + 1)),
                                                     communicator: communicator)
            return try measureFit(workload, model: try fresh(.student, attached: plan.attached), distillFrom: logits, hints: plan)
        }
    }

    private func fresh(_ role: ModelRole, attached: [AttachedLayer] = []) throws -> Sequential {
        let model = try (role == .teacher ? models.teacher : models.student).build(gemm: gemm, attached: attached)
        var rng = SeededGenerator(seed: 2)
        model.parameters.initialize(using: &rng)
        return model
    }

    /// The process's allocation count, read while every rank waits between two barriers: with ranks as
    /// threads (`--ranks`) the count is theirs together, and no rank may allocate while it is read.
    private func countWhileAllWait(_ counter: AllocationCounter) -> Int {
        communicator.barrier()
        defer { communicator.barrier() }
        return counter.count
    }

    /// Warm-up steps, then `steps` timed steps of one epoch, through the same loop `fit` uses.
    /// With the allocation counter preloaded, three more epochs of 1, `steps` and `2 * steps` full
    /// batches (counted after the timed one, so one-time set-up is done) give the heap allocations per
    /// step from their differences. Each ends in a smaller batch (the sample count is not a multiple of
    /// the batch), so a plan made for the last batch in mid-epoch would show; the two differences must
    /// agree for the count per step to be constant.
    private func measureFit(_ workload: BenchWorkload, model: Sequential, distillFrom source: TeacherLogitsSource?,
                            hints: HintPlan? = nil) throws -> BenchResult {
        let data = syntheticData(batchSize * steps)
        func fit(_ samples: LabeledImages) throws -> FitHistory {
            if let source {
                let distiller = Distiller(student: model, teacherLogits: source, communicator: communicator)
                try distiller.compile(optimizer: Adam())
                distiller.hints = hints.map { FeatureHints(plan: $0, teacher: teacher, student: model) }
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
                let before = countWhileAllWait(counter)
                _ = try fit(samples)
                return countWhileAllWait(counter) - before
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
