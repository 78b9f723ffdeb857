import Foundation
import NN
import TestSupport
import XCTest

/// The same seed and global batch give the same training with 1 rank and with 2 ranks under mpirun.
///
/// 577 samples in global batches of 64 make 9 full batches and a last batch of one sample, so
/// rank 1's slice of it is empty: that rank must still take every collective.
final class DataParallelEquivalenceTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("equivalence-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func testTeacherTrainingAndDistillationMatchAcrossRankCounts() throws {
        let common = Self.smallData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        for ranks in [1, 2] {
            try run(ranks, ["train-teacher", "--teacher-epochs", "2", "--output", path("teacher-\(ranks).safetensors"),
                            "--metrics-json", path("teacher-\(ranks).json")] + common)
        }
        try assertEquivalent("teacher")

        // Both distil from the same teacher; the logits are computed per job (split and gathered at 2 ranks).
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("teacher-1.safetensors"), "--no-logits-cache",
                            "--student-epochs", "2", "--output", path("student-\(ranks).safetensors"),
                            "--metrics-json", path("student-\(ranks).json")] + common)
        }
        try assertEquivalent("student")
    }

    /// Every logit loss distils alike on 1 and 2 ranks; DIST's intra-class term spans the global batch
    /// (its sums reduced across ranks), down to the last batch of one sample that rank 1 has none of.
    func testEveryLogitLossDistilsTheSameAcrossRankCounts() throws {
        let common = Self.smallData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try run(1, ["train-teacher", "--teacher-epochs", "1", "--output", path("loss-teacher.safetensors")] + common)
        for (name, loss) in [("dist", "dist"), ("dkd", "dkd:warmup=0.5"), ("standardized", "kd:standardize")] {
            for ranks in [1, 2] {
                try run(ranks, ["distill-student", "--teacher", path("loss-teacher.safetensors"), "--loss", loss, "--student-epochs", "2",
                                "--output", path("\(name)-\(ranks).safetensors"), "--metrics-json", path("\(name)-\(ranks).json")] + common)
            }
            try assertEquivalent(name)
        }
    }

    /// A teacher and a student that Keras wrote (scripts/keras-roundtrip.py fixtures) and that use every
    /// layer type between them train and distil alike on 1 and 2 ranks: Dropout draws the same masks
    /// for the same global batch (keyed on the sample's global id, not its row in a rank's slice), and
    /// BatchNormalization uses the global batch's statistics (reduced across ranks). The last global
    /// batch has one sample, so rank 1 takes the reductions with none of its own.
    func testModelsWithEveryLayerTypeTrainAndDistilTheSameAcrossRankCounts() throws {
        let (models, common) = (Self.roundTripModels, Self.smallData)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        for ranks in [1, 2] {
            try run(ranks, ["train-teacher", "--teacher-model", "\(models)/every-layer-teacher.json", "--teacher-epochs", "2",
                            "--output", path("every-teacher-\(ranks).safetensors"), "--metrics-json", path("every-teacher-\(ranks).json")] + common)
        }
        try assertEquivalent("every-teacher")
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("every-teacher-1.safetensors"), "--no-logits-cache",
                            "--student-model", "\(models)/every-layer-student.json", "--student-epochs", "2",
                            "--output", path("every-student-\(ranks).safetensors"), "--metrics-json", path("every-student-\(ranks).json")] + common)
        }
        try assertEquivalent("every-student")
    }

    /// The training recipes: the every-layer teacher (Dropout, BatchNormalization) trained on jittered,
    /// flipped images by SGD with Nesterov momentum, weight decay and a warm-up into a cosine decay,
    /// then a student distilled on padded crops and flips (its teacher run on each view) by AdamW on a
    /// piecewise schedule whose boundary falls between its two epochs, alike on 1 and 2 ranks.
    func testSGDAndSchedulesWithDropoutTrainTheSameAcrossRankCounts() throws {
        let (models, common) = (Self.roundTripModels, Self.smallData)
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        for ranks in [1, 2] {
            try run(ranks, ["train-teacher", "--teacher-model", "\(models)/every-layer-teacher.json", "--teacher-epochs", "2",
                            "--optimizer", "sgd:momentum=0.9:nesterov:weight_decay=0.0005", "--schedule", "cosine:warmup=0.5:alpha=0.1",
                            "--learning-rate", "0.05", "--augment", "translate=2:flip",
                            "--output", path("sgd-teacher-\(ranks).safetensors"), "--metrics-json", path("sgd-teacher-\(ranks).json")] + common)
        }
        try assertEquivalent("sgd-teacher")
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("sgd-teacher-1.safetensors"), "--no-logits-cache",
                            "--student-model", "\(models)/every-layer-student.json", "--student-epochs", "2",
                            "--optimizer", "adamw", "--schedule", "piecewise:boundaries=1:values=0.002/0.0005", "--augment", "pad-crop=2:flip",
                            "--output", path("sgd-student-\(ranks).safetensors"), "--metrics-json", path("sgd-student-\(ranks).json")] + common)
        }
        try assertEquivalent("sgd-student")
    }

    /// A student whose model starts with RandomFlip and RandomTranslation (a leading chain), with Dropout, by SGD with
    /// momentum on a cosine schedule: its teacher runs on each step's view, and 1 and 2 ranks distil alike.
    func testAStudentsLeadingAugmentationDistilsTheSameAcrossRankCounts() throws {
        let common = Self.smallData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try run(1, ["train-teacher", "--teacher-epochs", "1", "--output", path("chain-teacher.safetensors")] + common)
        let layers = [#"{"class_name": "InputLayer", "config": {"batch_shape": [null, 28, 28, 1], "name": "in"}}"#,
                      #"{"class_name": "RandomFlip", "config": {"name": "flip", "mode": "horizontal"}}"#,
                      #"{"class_name": "RandomTranslation", "config": {"name": "shift", "height_factor": 0.1, "width_factor": 0.1, "fill_mode": "constant"}}"#,
                      #"{"class_name": "Flatten", "config": {"name": "flat"}}"#,
                      #"{"class_name": "Dense", "config": {"name": "hidden", "units": 32, "activation": "relu"}}"#,
                      #"{"class_name": "Dropout", "config": {"name": "drop", "rate": 0.2}}"#,
                      #"{"class_name": "Dense", "config": {"name": "out", "units": 10}}"#]
        try (#"{"class_name": "Sequential", "config": {"name": "chain", "layers": ["# + layers.joined(separator: ", ") + "]}}")
            .write(toFile: path("chain.json"), atomically: true, encoding: .utf8)
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("chain-teacher.safetensors"), "--student-model", path("chain.json"),
                            "--student-epochs", "2", "--optimizer", "sgd:momentum=0.9", "--schedule", "cosine", "--learning-rate", "0.05",
                            "--output", path("chain-\(ranks).safetensors"), "--metrics-json", path("chain-\(ranks).json")] + common)
        }
        try assertEquivalent("chain")
    }

    /// `--view-cache`: the teacher's logits of each epoch's views, computed data-parallel (each rank its share of the
    /// samples, then gathered) give the same student on 1 and 2 ranks.
    func testViewCacheDistilsTheSameAcrossRankCounts() throws {
        let common = Self.smallData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try run(1, ["train-teacher", "--teacher-epochs", "1", "--output", path("views-teacher.safetensors")] + common)
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("views-teacher.safetensors"), "--student-epochs", "2",
                            "--augment", "pad-crop=2:flip:mixup=0.4", "--view-cache", path("views-\(ranks)"),
                            "--output", path("views-\(ranks).safetensors"), "--metrics-json", path("views-\(ranks).json")] + common)
        }
        try assertEquivalent("views")
    }

    /// MixUp (`mixup=0.4`, after translations): a teacher trained on mixed views and their mixed labels' cross-entropy,
    /// then a student distilled by DIST (its CE part mixed, its intra term over the global batch) with its teacher run
    /// on each mixed batch, alike on 1 and 2 ranks: partners are drawn from the training set by sample, not from the
    /// rank's slice, down to the last batch of one sample that rank 1 has none of.
    func testMixupTrainsAndDistilsTheSameAcrossRankCounts() throws {
        let common = Self.smallData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        for ranks in [1, 2] {
            try run(ranks, ["train-teacher", "--teacher-epochs", "1", "--augment", "translate=1:mixup=0.4",
                            "--output", path("mixup-teacher-\(ranks).safetensors"), "--metrics-json", path("mixup-teacher-\(ranks).json")] + common)
        }
        try assertEquivalent("mixup-teacher")
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("mixup-teacher-1.safetensors"), "--loss", "dist", "--student-epochs", "2",
                            "--augment", "translate=1:mixup=0.4",
                            "--output", path("mixup-student-\(ranks).safetensors"), "--metrics-json", path("mixup-student-\(ranks).json")] + common)
        }
        try assertEquivalent("mixup-student")
    }

    private static let roundTripModels = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-roundtrip").path
    /// 577 samples in global batches of 64: the last batch has one sample, so rank 1 gets none of it.
    private static let smallSamples = (train: 577, test: 300)
    private static let smallData = ["--data-dir", ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path,
                                    "--train-limit", "\(smallSamples.train)", "--test-limit", "\(smallSamples.test)", "--batch-size", "64",
                                    "--threads", "1", "--plain"]
    /// The functional models' runs: 301 samples in batches of 32.
    private static let graphSamples = (train: 301, test: 100)
    private static let graphData = ["--data-dir", ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/mnist-small").path,
                                    "--train-limit", "\(graphSamples.train)", "--test-limit", "\(graphSamples.test)", "--batch-size", "32",
                                    "--plain"]

    /// `distill` with `arguments` as one process or under `mpirun -np ranks`, which must succeed on that layout.
    private func run(_ ranks: Int, _ arguments: [String]) throws {
        let mpirun = try Requirement.mpirun()
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self), "build the distill product first")
        let launch = ranks == 1 ? (distill, arguments) : (mpirun, ProcessRun.mpirunFlags(ranks: ranks) + [distill.path] + arguments)
        let result = try ProcessRun.run(launch.0, launch.1, timeout: 300)
        XCTAssertFalse(result.timedOut, result.output)
        XCTAssertEqual(result.status, 0, result.output)
        // A job that silently ran as one process would make the comparison vacuous.
        XCTAssertTrue(result.output.contains("layout: \(ranks) rank\(ranks == 1 ? "" : "s")"), result.output)
    }

    /// Functional models from Keras (Tests/Fixtures/keras-graph): a residual teacher with
    /// BatchNormalization, Dropout and Add trains, and distils a MobileNet-like student (depthwise and
    /// separable convolutions, ZeroPadding2D, ReLU6, inverted residuals), alike on 1 and 2 ranks.
    func testGraphModelsTrainAndDistilTheSameAcrossRankCounts() throws {
        let mpirun = try Requirement.mpirun()
        let distill = try XCTUnwrap(ProcessRun.product("distill", besideBundleOf: Self.self), "build the distill product first")
        let models = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-graph").path
        let common = Self.graphData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        func run(_ ranks: Int, threads: Int = 1, gemm: String, _ given: [String]) throws {
            let arguments = given + ["--threads", "\(threads)", "--gemm", gemm]
            let launch = ranks == 1 ? (distill, arguments) : (mpirun, ProcessRun.mpirunFlags(ranks: ranks) + [distill.path] + arguments)
            let result = try ProcessRun.run(launch.0, launch.1, timeout: 300)
            XCTAssertEqual(result.status, 0, result.output)
        }
        for (ranks, threads, gemm, label) in Self.graphRuns {
            try run(ranks, threads: threads, gemm: gemm, ["train-teacher", "--teacher-model", "\(models)/residual.json", "--teacher-epochs", "1",
                            "--output", path("graph-teacher-\(label).safetensors"), "--metrics-json", path("graph-teacher-\(label).json")] + common)
        }
        // A bias read only by a BatchNormalization has a gradient of exactly zero in exact arithmetic (the
        // normalisation subtracts it again), so Adam's m / sqrt(v) turns float noise into steps of about
        // the learning rate either way: two runs differ there by at most 2 lr per step (10 steps). The
        // moving means take the batch means of the conv outputs, whose float noise BatchNormalization
        // passes on: two ranks moved one by 1.3e-4 on a Zen 4, so the bound is the reordering's too.
        try assertEquivalent("graph-teacher", noiseOnly: try Self.biasesBeforeNormalisation("\(models)/residual.json"), bound: 2 * 10 * 1e-3,
                             reordered: Self.reorderedLabels.map { "graph-teacher-\($0)" }, samples: Self.graphSamples)
        for (ranks, threads, gemm, label) in Self.graphRuns {
            try run(ranks, threads: threads, gemm: gemm, ["distill-student", "--teacher", path("graph-teacher-1.safetensors"),
                            "--student-model", "\(models)/\(Self.graphStudent).json", "--student-epochs", "1",
                            "--output", path("graph-student-\(label).safetensors"), "--metrics-json", path("graph-student-\(label).json")] + common)
        }
        // The MobileNet-like student (BatchNormalization over batches of 32, ReLU6, ten Adam steps) amplifies
        // float reordering alone to ~1e-3 in its weights: one process on two threads, whose GEMMs sum in
        // another order, moves as far from one thread as two ranks do. So two ranks must stay within three
        // times that distance, measured in the same run, as well as the metrics' 1e-4.
        try assertEquivalent("graph-student", noiseOnly: try Self.biasesBeforeNormalisation("\(models)/\(Self.graphStudent).json"),
                             bound: 2 * 10 * 1e-3, reordered: Self.reorderedLabels.map { "graph-student-\($0)" },
                             samples: Self.graphSamples)
    }

    private static let graphStudent = "mobilenet-like"
    /// The graph models' runs (ranks, threads, GEMM library, label): one rank, two, and two references for the noise float
    /// reordering alone makes, which Adam and BatchNormalization amplify: one rank on two threads (GEMMs split their sums),
    /// and one rank on OpenBLAS (im2col and GEMM instead of oneDNN's convolutions: the same sums in another order). On a Zen 3
    /// (AVX2), oneDNN's convolutions gave the residual teacher the same bits on two threads as on one (7e-8 apart), while
    /// two ranks moved it 5.8e-4 and OpenBLAS 4e-4; for the student, two threads moved it 5.8e-4 and OpenBLAS 1.1e-4.
    private static let graphRuns = [(1, 1, "onednn", "1"), (2, 1, "onednn", "2"), (1, 2, "onednn", "reordered"), (1, 1, "openblas", "openblas")]
    private static let reorderedLabels = ["reordered", "openblas"]

    /// Feature hints between the functional residual teacher and the MobileNet-like student (a 1x1 Conv2D regressor
    /// from its 14x14 block and a Dense one from its pooled features): the teacher runs to its layer on each rank's
    /// slice, the regressors' gradients are reduced with the student's, and 1 and 2 ranks distil alike, within the
    /// distance float reordering alone moves this student's weights and metrics (measured in the same run, as above;
    /// its hint loss, about 0.046 after two epochs, moved 3.9e-4 relative on two threads).
    func testHintsDistilTheSameAcrossRankCounts() throws {
        let models = ProcessRun.packageRoot.appendingPathComponent("Tests/Fixtures/keras-graph").path
        let common = Self.graphData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try run(1, ["train-teacher", "--teacher-model", "\(models)/residual.json", "--teacher-epochs", "1",
                    "--output", path("hint-teacher.safetensors"), "--threads", "1"] + common)
        for (ranks, threads, gemm, label) in Self.graphRuns {
            try run(ranks, ["distill-student", "--teacher", path("hint-teacher.safetensors"), "--gemm", gemm, "--student-model", "\(models)/\(Self.graphStudent).json",
                            "--student-epochs", "2", "--hint", "block2_out:block1_add", "--hint", "pool:pool:0.5", "--threads", "\(threads)",
                            "--output", path("hinted-\(label).safetensors"), "--metrics-json", path("hinted-\(label).json")] + common)
        }
        try assertEquivalent("hinted", noiseOnly: try Self.biasesBeforeNormalisation("\(models)/\(Self.graphStudent).json"), bound: 2 * 20 * 1e-3,
                             reordered: Self.reorderedLabels.map { "hinted-\($0)" }, samples: Self.graphSamples)
    }

    /// Hints where a rank has nothing to do: the presets (no BatchNormalization, so a one-sample batch amplifies no
    /// float noise) with a hint from the teacher's first LeakyReLU (14x14x256) to the student's (14x14x16, a 1x1 Conv2D
    /// regressor) and one between the logits; the last global batch has one sample, which rank 1 has none of.
    func testHintsWithAnEmptySliceDistilTheSameAcrossRankCounts() throws {
        let common = Self.smallData
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try run(1, ["train-teacher", "--teacher-epochs", "1", "--output", path("empty-teacher.safetensors")] + common)
        for ranks in [1, 2] {
            try run(ranks, ["distill-student", "--teacher", path("empty-teacher.safetensors"), "--student-epochs", "2", "--hint-epochs", "1",
                            "--hint", "leaky_re_lu:leaky_re_lu", "--hint", "dense:dense:0.1",
                            "--output", path("empty-\(ranks).safetensors"), "--metrics-json", path("empty-\(ranks).json")] + common)
        }
        try assertEquivalent("empty")
    }

    /// "<layer>.bias" of every layer with a bias whose output only BatchNormalization layers read.
    private static func biasesBeforeNormalisation(_ path: String) throws -> Set<String> {
        let model = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        let layers = try XCTUnwrap((model["config"] as? [String: Any])?["layers"] as? [[String: Any]])
        var readers: [String: [String]] = [:]
        for layer in layers {
            let nodes = layer["inbound_nodes"] as? [[String: Any]] ?? []
            for node in nodes {
                let args = node["args"] as? [Any] ?? []
                let tensors = (args.first as? [Any]) ?? args
                for case let tensor as [String: Any] in tensors {
                    if let source = ((tensor["config"] as? [String: Any])?["keras_history"] as? [Any])?.first as? String {
                        readers[source, default: []].append(layer["class_name"] as? String ?? "")
                    }
                }
            }
        }
        return Set(layers.compactMap { layer in
            let config = layer["config"] as? [String: Any] ?? [:]
            guard config["use_bias"] as? Bool == true, let name = config["name"] as? String,
                  let kinds = readers[name], kinds.allSatisfy({ $0 == "BatchNormalization" }) else { return nil }
            return "\(name).bias"
        })
    }

    /// Per-epoch metrics within 1e-4 relative; weights within 2e-4 absolute.
    ///
    /// The two runs differ only in float summation order (two partial GEMM sums added by the
    /// allreduce instead of one), about 1e-7 relative per gradient; Adam turns that into small
    /// weight differences (measured here: 2e-5 for the teacher, 7e-8 for the student). One Adam
    /// step moves a weight by up to lr = 1e-3, so 2e-4 is a fifth of a step: a wrong slice, a
    /// missed sample or a double-counted rank changes whole steps and lands far outside it.
    /// Two ranks' metrics within 1e-4 relative of one rank's, or, given `reordered` (the same run reordered: on one rank
    /// of two threads, or on the other GEMM library), within three times the largest distance reordering alone moves
    /// each metric; an accuracy also within one sample of the `samples` it counts (training, test): a sample whose two
    /// top logits differ by less than the reordering's noise may land on either side, while the losses beside it stay bounded as tightly as before. The
    /// weights within 2e-4 or three times the distance reordering alone moves them (outside `noiseOnly`), whichever
    /// is larger.
    private func assertEquivalent(_ name: String, noiseOnly: Set<String> = [], bound: Float = 0, reordered: [String] = [],
                                  samples: (train: Int, test: Int) = DataParallelEquivalenceTests.smallSamples, file: StaticString = #filePath, line: UInt = #line) throws {
        let one = try metrics(directory.appendingPathComponent("\(name)-1.json"), samples: samples)
        let two = try metrics(directory.appendingPathComponent("\(name)-2.json"), samples: samples).map(\.value)
        let reorderedMetrics = try reordered.map { try metrics(directory.appendingPathComponent("\($0).json"), samples: samples).map(\.value) }
        XCTAssertEqual(one.count, two.count, file: file, line: line)
        for other in reorderedMetrics { XCTAssertEqual(one.count, other.count, file: file, line: line) }
        for (index, ((a, oneSample), b)) in zip(one, two).enumerated() {
            let noise = reorderedMetrics.map { abs(a - $0[index]) }.max() ?? 0
            XCTAssertLessThanOrEqual(abs(a - b), max(1e-4 * max(abs(a), 1e-3), 3 * noise, oneSample * (1 + 1e-9)),
                                     "\(name) metrics \(one.map(\.value)) vs \(two)", file: file, line: line)
        }
        let weightNoise = try reordered.map { try largestWeightDifference("\(name)-1", $0, noiseOnly: noiseOnly).largest }.max() ?? 0
        let weightBound = max(2e-4, 3 * weightNoise)
        let (largest, worst, noise) = try largestWeightDifference("\(name)-1", "\(name)-2", noiseOnly: noiseOnly)
        for (tensor, difference) in noise { XCTAssertLessThanOrEqual(difference, bound, "\(name) \(tensor)", file: file, line: line) }
        XCTAssertLessThanOrEqual(largest, weightBound, "\(name) weights differ by up to \(largest) (\(worst))", file: file, line: line)
        print("\(name): metrics \(one.map(\.value)) vs \(two); largest weight difference \(largest) (\(worst)), bound \(weightBound)")
    }

    /// The largest difference between two runs' weights outside `noiseOnly`, the tensor it is in, and
    /// the largest difference within each tensor of `noiseOnly`.
    private func largestWeightDifference(_ a: String, _ b: String, noiseOnly: Set<String> = []) throws
        -> (largest: Float, worst: String, noise: [(String, Float)])
    {
        let weightsA = try SafeTensors.read(from: directory.appendingPathComponent("\(a).safetensors").path).tensors
        let weightsB = try SafeTensors.read(from: directory.appendingPathComponent("\(b).safetensors").path).tensors
        XCTAssertEqual(weightsA.map(\.name), weightsB.map(\.name))
        var (largest, worst, noise): (Float, String, [(String, Float)]) = (0, "", [])
        for (x, y) in zip(weightsA, weightsB) {
            let difference = zip(x.values, y.values).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
            if noiseOnly.contains(x.name) {
                noise.append((x.name, difference))
            } else if difference > largest {
                (largest, worst) = (difference, x.name)
            }
        }
        return (largest, worst, noise)
    }

    /// Every per-epoch metric, then the test loss and accuracy, as one flat list, each with what one sample's
    /// prediction moves it by: 1 / samples for an accuracy (training or test), 0 for a loss.
    private func metrics(_ url: URL, samples: (train: Int, test: Int)) throws -> [(value: Double, oneSample: Double)] {
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let names = try XCTUnwrap(object["metrics"] as? [String])
        let epochs = try XCTUnwrap(object["epochs"] as? [[Double]])
        let test = try XCTUnwrap(object["test"] as? [String: Double])
        XCTAssertTrue(epochs.allSatisfy { $0.count == names.count }, "\(url.lastPathComponent): \(names) against \(epochs)")
        let perEpoch = names.map { $0 == "accuracy" ? 1 / Double(samples.train) : 0 }
        return epochs.flatMap { zip($0, perEpoch).map { (value: $0, oneSample: $1) } }
            + [(test["loss"]!, 0), (test["accuracy"]!, 1 / Double(samples.test))]
    }
}
