import Collective
import Dispatch
import NN

/// Where one training step's time goes: each layer's forward and backward (and the GEMM time
/// inside it), the loss, the allreduce and the optimizer; and each GEMM shape's rate in the step
/// against the same shape multiplied alone on the same backend and against the machine's
/// multiply-add peak.
public final class StepProfile: LayerClock, StepClock {
    public struct Part {
        var name: String
        var nanoseconds: UInt64 = 0
        var gemmNanoseconds: UInt64 = 0
    }
    /// A direct-loop layer's rates (GB/s) against a plain copy of as many bytes, and for a depthwise
    /// convolution against oneDNN's own on its shape (nil: not one, or oneDNN refused it), in the same run.
    /// The ceilings are the rates its multiply-adds allow at one thread's peak: no kernel moves its bytes faster.
    public struct StreamingRow {
        var name: String, forwardGBs: Double, backwardGBs: Double, copyGBs: Double, coldCopyGBs: Double, share: Double
        var forwardCeilingGBs: Double, backwardCeilingGBs: Double
        var oneDNN: OneDNNDepthwiseRates?
    }
    public struct GEMMRow {
        var name: String, shape: GEMMShape, implementation: String
        var callsPerStep: Double, millisecondsPerStep: Double, gflopsInStep: Double, gflopsAlone: Double
    }

    public let title: String
    public let peak: MultiplyAddPeak
    private let threads: Int
    public private(set) var parts: [Part] = []
    public private(set) var gemmRows: [GEMMRow] = []
    public private(set) var streamingRows: [StreamingRow] = []
    public private(set) var steps = 0
    private let timed: TimedGEMM
    private var layerParts: [[String]] = []    // [layer][forward, backward] -> the part's name
    private var gemmMark: UInt64 = 0

    /// Profiles `steps` real training steps (after `warmup`) of `role`'s model on `batch` samples per rank,
    /// as a classifier (`distill` false) or as a student distilling from cached teacher logits.
    /// `threads` per rank, and one thread's `peak`, scale the GEMMs' share of the peak.
    public init(model description: ModelDescription, role: ModelRole, distill: Bool, batch: Int, globalBatch: Int, steps: Int, warmup: Int,
         backend: GEMMBackend, threads: Int, peak: MultiplyAddPeak, communicator: Communicator) throws {
        timed = TimedGEMM(backend)
        (self.threads, self.peak) = (threads, peak)
        let model = try description.build(gemm: timed)
        var rng = SeededGenerator(seed: 2)
        model.parameters.initialize(using: &rng)
        title = "\(role.rawValue) \(distill ? "distillation" : "training") step, \(batch) samples per rank, gemm \(backend.name)"
        // A layer that runs a fused activation is timed with it, under both names.
        layerParts = model.layerNames.indices.map { index in
            let name = model.fusedActivation(ofLayer: index).map { "\(model.layerNames[index]) + \(model.layerNames[$0])" } ?? model.layerNames[index]
            return ["\(name) forward", "\(name) backward"]
        }
        model.layerClock = self

        // Random images, labels and teacher logits (time does not depend on their values).
        let classes = model.outputSize
        let images = FloatBuffer(count: batch * model.inputSize), labels = IndexBuffer(count: batch)
        for i in 0..<images.count { images.pointer[i] = rng.nextFloat(in: 0, 1) }
        for i in 0..<batch { labels.pointer[i] = Int32(rng.next() % UInt64(classes)) }
        let table = FloatBuffer(count: batch * classes)
        for i in 0..<table.count { table.pointer[i] = rng.nextFloat(in: -5, 5) }
        let step: LocalGradientStep
        if distill {
            let distiller = Distiller(student: model, teacherLogits: CachedTeacherLogits(table: table, classes: classes), communicator: communicator)
            try distiller.compile(optimizer: Adam(), alpha: 0.1, temperature: 10)
            step = distiller
        } else {
            step = Classifier(model: model, optimizer: Adam(), communicator: communicator)
        }
        // The step `fit` takes: a training forward (Dropout draws, BatchNormalization reduces across ranks).
        step.prepare(batchSizes: [batch])
        let ids = Array(0..<batch)
        func localBatch(_ number: Int) -> LocalBatch {
            LocalBatch(images: images.pointer, labels: labels.pointer, sampleIDs: ids[...], globalCount: globalBatch, seed: 1, step: number)
        }
        step.profileSteps(warmup, clock: self, batch: localBatch)
        reset()
        step.profileSteps(steps, clock: self) { localBatch(warmup + $0) }
        self.steps = steps
        model.layerClock = nil

        streamingRows = model.layers.indices.compactMap { index in
            (model.layers[index] as? StreamingLayer).map { streamingRow(index, $0, batch: batch, names: model.layerNames) }
        }
        // Each shape of the step alone, on the backend itself, against its in-step rate.
        for index in model.layers.indices {
            for (name, shape) in model.gemmShapes(ofLayer: index, batch: batch) {
                guard let calls = timed.calls[shape], let ns = timed.nanoseconds[shape] else { continue }
                let inStep = Double(ns) / Double(calls)
                gemmRows.append(GEMMRow(
                    name: "\(model.layerNames[index]) \(name)", shape: shape, implementation: backend.implementation(of: shape),
                    callsPerStep: Double(calls) / Double(steps), millisecondsPerStep: Double(ns) / 1e6 / Double(steps),
                    gflopsInStep: Double(shape.flops) / inStep, gflopsAlone: Self.gflopsAlone(shape, backend)))
            }
        }
    }

    public func record(layer: Int, backward: Bool, nanoseconds: UInt64) {
        add(layerParts[layer][backward ? 1 : 0], nanoseconds)
    }

    public func time(_ part: String, _ body: () -> Void) {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        add(part, DispatchTime.now().uptimeNanoseconds - start)
    }

    /// Adds to `name` (a new part on first sight: the parts keep the step's order) its time and the GEMM time since the last part.
    private func add(_ name: String, _ nanoseconds: UInt64) {
        let index = parts.firstIndex { $0.name == name } ?? { parts.append(Part(name: name)); return parts.count - 1 }()
        parts[index].nanoseconds += nanoseconds
        parts[index].gemmNanoseconds += timed.total - gemmMark
        gemmMark = timed.total
    }

    private func reset() {
        for i in parts.indices { (parts[i].nanoseconds, parts[i].gemmNanoseconds) = (0, 0) }
        timed.reset()
        gemmMark = 0
    }

    private func streamingRow(_ index: Int, _ layer: StreamingLayer, batch: Int, names: [String]) -> StreamingRow {
        let bytes = layer.bytesMoved(batch: batch), multiplyAdds = layer.multiplyAdds(batch: batch)
        // bytes / (multiply-adds / peak multiply-adds per second), in GB/s.
        let ceiling = { (bytes: Int, multiplyAdds: Int) in Double(bytes) * self.peak.gflopsPerThread / 2 / Double(max(multiplyAdds, 1)) }
        let seconds = layerParts[index].map { name in Double(parts.first { $0.name == name }?.nanoseconds ?? 0) / 1e9 / Double(max(steps, 1)) }
        let total = Double(max(parts.reduce(0) { $0 + $1.nanoseconds }, 1)) / 1e9 / Double(max(steps, 1))
        let copied = max(bytes.forward, bytes.backward)   // the copies move as many bytes as the larger pass
        return StreamingRow(name: names[index], forwardGBs: Double(bytes.forward) / seconds[0] / 1e9,
                            backwardGBs: Double(bytes.backward) / seconds[1] / 1e9,
                            copyGBs: Self.copyGBs(bytes: copied), coldCopyGBs: Self.coldCopyGBs(bytes: copied), share: (seconds[0] + seconds[1]) / total,
                            forwardCeilingGBs: ceiling(bytes.forward, multiplyAdds.forward),
                            backwardCeilingGBs: ceiling(bytes.backward, multiplyAdds.backward),
                            oneDNN: (layer as? DepthwiseConv2D).flatMap { OneDNNDepthwiseRates($0, batch: batch) })
    }

    /// GB/s of `memcpy` moving `bytes` (half read, half written) back to back for at least 0.1 s.
    static func copyGBs(bytes: Int) -> Double {
        let count = max(bytes / 8, 1)
        let source = FloatBuffer(count: count), target = FloatBuffer(count: count)
        for i in 0..<count { source.pointer[i] = Float(i & 255) }
        target.pointer.update(from: source.pointer, count: count)
        var repeats = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            target.pointer.update(from: source.pointer, count: count)
            repeats += 1
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while elapsed < 100_000_000
        return Double(8 * count) * Double(repeats) / Double(elapsed)
    }

    /// GB/s of `memcpy` moving `bytes` (half read, half written) between buffers the cache no longer holds, as
    /// a step's layer meets its own (the step's other activations come between): 64 MB are written elsewhere
    /// before each of 20 copies, and only the copies are timed.
    static func coldCopyGBs(bytes: Int) -> Double {
        let count = max(bytes / 8, 1), eviction = CacheEviction()
        let source = FloatBuffer(count: count), target = FloatBuffer(count: count)
        for i in 0..<count { source.pointer[i] = Float(i & 255) }
        var elapsed: UInt64 = 0
        for copy in 0..<20 {
            eviction.evict(round: copy)
            let start = DispatchTime.now().uptimeNanoseconds
            target.pointer.update(from: source.pointer, count: count)
            elapsed += DispatchTime.now().uptimeNanoseconds - start
        }
        return Double(8 * count) * 20 / Double(elapsed)
    }

    /// GFLOPS of `shape` multiplied back to back on random operands for at least 0.2 s.
    static func gflopsAlone(_ shape: GEMMShape, _ backend: GEMMBackend) -> Double {
        let rowsA = shape.transposeA ? shape.k : shape.m, rowsB = shape.transposeB ? shape.n : shape.k
        let a = FloatBuffer(count: rowsA * shape.lda), b = FloatBuffer(count: rowsB * shape.ldb)
        let c = FloatBuffer(count: shape.m * shape.ldc)
        var rng = SeededGenerator(seed: 5)
        for i in 0..<a.count { a.pointer[i] = rng.nextFloat(in: -1, 1) }
        for i in 0..<b.count { b.pointer[i] = rng.nextFloat(in: -1, 1) }
        backend.prepare(shape)
        backend.multiply(shape, a.pointer, b.pointer, c.pointer)
        var repeats = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed: UInt64 = 0
        repeat {
            backend.multiply(shape, a.pointer, b.pointer, c.pointer)
            repeats += 1
            elapsed = DispatchTime.now().uptimeNanoseconds - start
        } while elapsed < 200_000_000
        return Double(shape.flops) * Double(repeats) / Double(elapsed)
    }

    public var stepMilliseconds: Double { Double(parts.reduce(0) { $0 + $1.nanoseconds }) / 1e6 / Double(max(steps, 1)) }
    public var gemmShare: Double {
        Double(parts.reduce(0) { $0 + $1.gemmNanoseconds }) / Double(max(parts.reduce(0) { $0 + $1.nanoseconds }, 1))
    }

    /// Markdown: the parts of the step, then the GEMM shapes.
    public func table() -> String {
        let total = Double(max(parts.reduce(0) { $0 + $1.nanoseconds }, 1))
        let perStep = { (ns: UInt64) in fixed(Double(ns) / 1e6 / Double(max(self.steps, 1)), 3) }
        var lines = ["\(title): \(fixed(stepMilliseconds, 2)) ms/step over \(steps) steps; "
                     + "GEMM \(percent(gemmShare)), everything else \(percent(1 - gemmShare))", "",
                     "| part | ms/step | of which GEMM | share of step |", "|---|---:|---:|---:|"]
        for part in parts {
            lines.append("| \(part.name) | \(perStep(part.nanoseconds)) | \(part.gemmNanoseconds > 0 ? perStep(part.gemmNanoseconds) : "") "
                + "| \(percent(Double(part.nanoseconds) / total)) |")
        }
        if !streamingRows.isEmpty {
            // oneDNN's columns: its depthwise convolution on the layer's shape, one thread, the layer's byte counts.
            // The FMA-peak columns: the GB/s at which the pass's multiply-adds would run at one thread's peak.
            // The cold copy's columns: the same copy between buffers evicted from the cache, as the step's are.
            lines += ["", "| direct loop | forward GB/s | backward GB/s | memory copy GB/s | forward vs copy | backward vs copy "
                      + "| cold memory copy GB/s | forward vs cold copy | backward vs cold copy "
                      + "| forward GB/s at FMA peak | backward GB/s at FMA peak "
                      + "| oneDNN forward GB/s | oneDNN backward GB/s | forward: ours vs oneDNN | backward: ours vs oneDNN | share of step |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for row in streamingRows {
                let oneDNN = row.oneDNN.map { [fixed($0.forwardGBs, 1), fixed($0.backwardGBs, 1), percent(row.forwardGBs / $0.forwardGBs),
                                               percent(row.backwardGBs / $0.backwardGBs)] } ?? Array(repeating: "–", count: 4)
                lines.append("| \(row.name) | \(fixed(row.forwardGBs, 1)) | \(fixed(row.backwardGBs, 1)) | \(fixed(row.copyGBs, 1)) | "
                    + "\(percent(row.forwardGBs / row.copyGBs)) | \(percent(row.backwardGBs / row.copyGBs)) | "
                    + "\(fixed(row.coldCopyGBs, 1)) | \(percent(row.forwardGBs / row.coldCopyGBs)) | \(percent(row.backwardGBs / row.coldCopyGBs)) | "
                    + "\(fixed(row.forwardCeilingGBs, 1)) | \(fixed(row.backwardCeilingGBs, 1)) | "
                    + oneDNN.joined(separator: " | ") + " | \(percent(row.share)) |")
            }
            // oneDNN again in the cache state the step leaves its passes (OneDNNDepthwiseRates.stepLikeSeconds).
            let stepLike = streamingRows.compactMap { row in
                row.oneDNN.map { "| \(row.name) | \(fixed($0.stepLikeForwardGBs, 1)) | \(fixed($0.stepLikeBackwardGBs, 1)) | "
                    + "\(percent(row.forwardGBs / $0.stepLikeForwardGBs)) | \(percent(row.backwardGBs / $0.stepLikeBackwardGBs)) |" }
            }
            if !stepLike.isEmpty {
                lines += ["", "| oneDNN in the step's cache state (the operand just produced written again, 64 MB written elsewhere first) "
                          + "| forward GB/s | backward GB/s | in step vs it, forward | in step vs it, backward |",
                          "|---|---:|---:|---:|---:|"] + stepLike
            }
            let implementations = streamingRows.compactMap { row in row.oneDNN.map { "\(row.name) \($0.implementation)" } }
            if !implementations.isEmpty {
                lines += ["", "\(OneDNNDepthwiseConvolution.version) depthwise (forward / backward data / backward weights), one thread: "
                          + implementations.joined(separator: "; ")]
            }
            lines += ["", "The direct loop on this CPU: \(DepthwiseLoop.current.name) (DepthwiseConv2D's passes without oneDNN)",
                      "", "FMA peak: \(peak.description)"]
        }
        // The peak of the rank's threads: one thread's times the threads the GEMM library runs.
        let rankPeak = peak.gflopsPerThread * Double(threads)
        lines += ["", "| GEMM | m x n x k | implementation | calls/step | ms/step | GFLOPS in step | GFLOPS alone | in step vs alone "
                  + "| alone vs FMA peak |", "|---|---|---|---:|---:|---:|---:|---:|---:|"]
        for row in gemmRows {
            lines.append("| \(row.name) | \(row.shape) | \(row.implementation) | \(fixed(row.callsPerStep, 0)) | "
                + "\(fixed(row.millisecondsPerStep, 3)) | \(fixed(row.gflopsInStep, 1)) | \(fixed(row.gflopsAlone, 1)) | "
                + "\(percent(row.gflopsInStep / row.gflopsAlone)) | \(percent(row.gflopsAlone / rankPeak)) |")
        }
        lines += ["", "FMA peak of the rank's \(threads) thread(s): \(fixed(rankPeak, 1)) GFLOPS (\(peak.source))"]
        return lines.joined(separator: "\n")
    }
}
