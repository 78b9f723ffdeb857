import Collective
import Datasets
import Distill
import NN
import XCTest

/// FitNets' hints: the gradient through a regressor and an intermediate student layer by finite differences,
/// the two stages of `--hint-epochs`, and the plan's one-line errors for layers that are missing or do not fit.
final class FeatureHintTests: XCTestCase {
    private static func model(_ name: String, _ layers: [String]) throws -> ModelDescription {
        let input = #"{"class_name": "InputLayer", "config": {"batch_shape": [null, 6, 6, 2], "name": "image"}}"#
        let json = #"{"class_name": "Sequential", "config": {"name": "\#(name)", "layers": [\#(([input] + layers).joined(separator: ", "))]}}"#
        return try ModelDescription(json: Array(json.utf8), source: "\(name).json")
    }

    private static func layer(_ className: String, _ name: String, _ options: String = "") -> String {
        #"{"class_name": "\#(className)", "config": {"name": "\#(name)"\#(options.isEmpty ? "" : ", " + options)}}"#
    }

    /// Smooth models (tanh), so a finite-difference step crosses no kink: the teacher's conv gives 6x6x4, the student's 6x6x3.
    static let teacher = try! model("teacher", [layer("Conv2D", "t_conv", #""filters": 4, "kernel_size": 3, "padding": "same", "activation": "tanh""#),
                                                layer("Flatten", "t_flat"), layer("Dense", "t_out", #""units": 3"#)])
    static let student = try! model("student", [layer("Conv2D", "s_conv", #""filters": 3, "kernel_size": 3, "padding": "same", "activation": "tanh""#),
                                                layer("Conv2D", "s_mid", #""filters": 2, "kernel_size": 1, "activation": "tanh""#),
                                                layer("Flatten", "s_flat"), layer("Dense", "s_out", #""units": 3"#)])
    /// A 1x1 Conv2D regressor (3 -> 4 channels), a Dense one (72 -> 144) and none at the output layer (3 = 3).
    static let hints = [HintSpecification(teacherLayer: "t_conv", studentLayer: "s_conv", weight: 0.7),
                        HintSpecification(teacherLayer: "t_flat", studentLayer: "s_flat"),
                        HintSpecification(teacherLayer: "t_out", studentLayer: "s_out", weight: 0.3)]

    private struct Setup {
        let teacher: Sequential, student: Sequential, plan: HintPlan
        let images: FloatBuffer, labels: [Int32], rows: Int
    }

    private func setup(rows: Int = 4) throws -> Setup {
        var settings = RecipeSettings()
        (settings.teacherModel, settings.studentModel, settings.hints) = (Self.teacher, Self.student, Self.hints)
        let teacher = try Self.teacher.build(gemm: Fixture.gemm)
        let plan = try XCTUnwrap(try settings.hintPlan(teacher: HintPlan.Side(role: "teacher", model: teacher), gemm: Fixture.gemm))
        XCTAssertEqual(plan.attached.map { $0.layer.kind }, ["conv2d", "dense"])
        XCTAssertEqual(plan.regressors, [0, 1, nil])
        // Each Keras name is its layer's output after the activation: t_conv and s_conv are their tanh parts.
        XCTAssertEqual(plan.teacherLayers, [1, 2, 3])
        XCTAssertEqual(plan.studentLayers, [1, 4, 5])
        XCTAssertEqual(plan.regressorSizes, [4 * 4, 73 * 144])
        let student = try Self.student.build(gemm: Fixture.gemm, attached: plan.attached)
        var rng = SeededGenerator(seed: 11)
        teacher.parameters.initialize(using: &rng)
        student.parameters.initialize(using: &rng)
        for entry in student.parameters.entries where entry.shape.count == 1 {   // non-zero biases, so they matter
            for i in 0..<entry.count { student.parameters.values.pointer[entry.offset + i] = rng.nextFloat(in: -0.3, 0.3) }
        }
        let images = FloatBuffer(count: rows * 72)
        for i in 0..<images.count { images.pointer[i] = rng.nextFloat(in: 0, 1) }
        return Setup(teacher: teacher, student: student, plan: plan, images: images, labels: (0..<rows).map { Int32($0 % 3) }, rows: rows)
    }

    /// One step's gradients (`parameters.gradients`) and metric sums, at `epoch` of 3.
    private func step(_ distiller: Distiller, _ s: Setup, epoch: Int) -> (gradients: [Float], sums: [Double]) {
        s.student.parameters.zeroGradients()
        distiller.prepare(batchSizes: [s.rows])
        var sums = [Double](repeating: 0, count: distiller.metricNames.count)
        s.labels.withUnsafeBufferPointer { labels in
            let batch = LocalBatch(images: s.images.pointer, labels: labels.baseAddress!, sampleIDs: Array(0..<s.rows)[...], globalCount: s.rows,
                                   epoch: epoch, epochs: 3)
            sums.withUnsafeMutableBufferPointer { distiller.computeGradients(batch, sums: $0, clock: nil) }
        }
        return (s.student.parameters.gradients.array, sums)
    }

    private func makeDistiller(_ s: Setup, hintEpochs: Int?, cached: Bool = false) throws -> Distiller {
        let source: TeacherLogitsSource
        if cached {
            let data = LabeledImages(images: s.images.array, labels: s.labels, height: 6, width: 6, channels: 2)
            source = CachedTeacherLogits.compute(teacher: s.teacher, data: data, communicator: SingleProcess())
        } else {
            source = RunningTeacher(s.teacher)
        }
        let distiller = Distiller(student: s.student, teacherLogits: source, communicator: SingleProcess())
        try distiller.compile(optimizer: Adam(), alpha: 0.2, temperature: 3)
        if let hintEpochs { distiller.hints = FeatureHints(plan: s.plan, teacher: s.teacher, student: s.student, hintEpochs: hintEpochs) }
        return distiller
    }

    /// In FitNets' first stage the objective is the hints alone: `hint_loss / batch`. Its gradient with respect to
    /// every parameter of the student below its hinted layers and of both regressors matches central differences
    /// (the teacher run to its layer, or whole when it is the logit source too).
    func testHintGradientMatchesFiniteDifferencesThroughTheRegressorsAndTheInnerLayers() throws {
        for cached in [false, true] {
            let s = try setup()
            let distiller = try makeDistiller(s, hintEpochs: 1, cached: cached)
            XCTAssertEqual(distiller.metricNames, ["student_loss", "distillation_loss", "hint_loss", "accuracy"])
            let (analytic, sums) = step(distiller, s, epoch: 1)
            XCTAssertGreaterThan(sums[2], 0)
            func loss() -> Double { step(distiller, s, epoch: 1).sums[2] / Double(s.rows) }
            var rng = SeededGenerator(seed: 5)
            for entry in s.student.parameters.entries {
                // Up to 12 entries of each tensor: the first ones and random ones.
                let picked = Set((0..<min(entry.count, 6)).map { $0 } + (0..<6).map { _ in Int(rng.next() % UInt64(entry.count)) })
                var largest = 0.0
                for i in picked.sorted() {
                    let p = s.student.parameters.values.pointer + entry.offset + i
                    let x = p.pointee
                    p.pointee = x + 1e-2
                    let up = loss()
                    p.pointee = x - 1e-2
                    let down = loss()
                    p.pointee = x
                    let numeric = (up - down) / (Double(x + 1e-2) - Double(x - 1e-2))
                    XCTAssertEqual(Double(analytic[entry.offset + i]), numeric, accuracy: 1e-4 + 1e-2 * abs(numeric),
                                   "\(cached ? "cached" : "running") \(entry.name)[\(i)]")
                    largest = max(largest, abs(numeric))
                }
                XCTAssertGreaterThan(largest, 1e-4, "\(entry.name): every tensor of the student and the regressors has a hint gradient")
            }
        }
    }

    /// Both terms together are the sum of each alone; after the first stage the distillation loss trains alone,
    /// exactly as without hints, while the hint loss is still reported.
    func testTheStagesSplitTheJointGradientIntoItsTwoTerms() throws {
        let s = try setup()
        let plain = step(try makeDistiller(s, hintEpochs: nil), s, epoch: 2)
        let hintsAlone = step(try makeDistiller(s, hintEpochs: 1), s, epoch: 1)
        let joint = step(try makeDistiller(s, hintEpochs: 0), s, epoch: 2)
        let distillationAlone = step(try makeDistiller(s, hintEpochs: 1), s, epoch: 2)
        let own = s.student.modelParameterCount
        XCTAssertTrue(plain.gradients[own...].allSatisfy { $0 == 0 }, "without hints the regressors get nothing")
        for i in joint.gradients.indices {
            let sum = plain.gradients[i] + hintsAlone.gradients[i]
            XCTAssertEqual(joint.gradients[i], sum, accuracy: 1e-6 + 1e-5 * abs(sum), "parameter \(i)")
        }
        XCTAssertEqual(distillationAlone.gradients.map(\.bitPattern), plain.gradients.map(\.bitPattern))
        XCTAssertEqual(distillationAlone.sums[2], hintsAlone.sums[2], "the hint loss is reported in the second stage too")
        XCTAssertEqual(Array(joint.sums[0...1]), Array(plain.sums[0...1]))
        XCTAssertEqual(joint.sums[2], hintsAlone.sums[2])
    }

    /// Hint loss by hand for the identity hint at the output: weight * mean over elements of the squared difference.
    func testTheHintLossIsKerasMeanSquaredErrorWeighted() throws {
        let s = try setup(rows: 3)
        let student = try Self.student.build(gemm: Fixture.gemm)   // no regressor: the shapes match
        var rng = SeededGenerator(seed: 12)
        student.parameters.initialize(using: &rng)
        let only = FeatureHints(plan: try HintPlan([HintSpecification(teacherLayer: "t_out", studentLayer: "s_out", weight: 0.3)],
                                                   teacher: HintPlan.Side(role: "teacher", model: s.teacher),
                                                   student: HintPlan.Side(role: "student", plan: try Self.student.plan()), gemm: Fixture.gemm),
                                teacher: s.teacher, student: student)
        student.reserve(maxBatch: 3)
        only.reserve(maxBatch: 3)
        let logits = Array(UnsafeBufferPointer(start: student.forward(s.images.pointer, batch: 3), count: 9))
        let targets = Array(UnsafeBufferPointer(start: s.teacher.forward(s.images.pointer, batch: 3), count: 9))
        let expected = (0..<3).map { n in 0.3 * (0..<3).map { j in pow(Double(logits[n * 3 + j]) - Double(targets[n * 3 + j]), 2) }.reduce(0, +) / 3 }
            .reduce(0, +)
        XCTAssertEqual(only.compute(images: s.images.pointer, rows: 3, globalCount: 3, teacherRan: false, train: false), expected, accuracy: 1e-6)
    }

    /// The three hints' loss by hand from the layers' outputs (the convolutions' tanh parts, the flattened features, the
    /// logits), through the 1x1 regressor, the Dense one and none: sum over samples of w * mean squared difference.
    func testTheHintLossByHandThroughEachKindOfRegressor() throws {
        let s = try setup(rows: 2)
        let hints = FeatureHints(plan: s.plan, teacher: s.teacher, student: s.student)
        s.student.reserve(maxBatch: 2)
        hints.reserve(maxBatch: 2)
        s.student.forward(s.images.pointer, batch: 2)
        let total = hints.compute(images: s.images.pointer, rows: 2, globalCount: 2, teacherRan: false, train: false)
        func values(_ pointer: UnsafePointer<Float>, _ count: Int) -> [Double] { UnsafeBufferPointer(start: pointer, count: count).map(Double.init) }
        func parameter(_ name: String) -> [Double] {
            let entry = s.student.parameters.entries.first { $0.name == name }!
            return values(s.student.parameters.values.pointer + entry.offset, entry.count)
        }
        /// w * sum over samples of the mean over `outputs` of (source rows x kernel + bias - target)^2, per position.
        func loss(_ source: [Double], _ target: [Double], inputs: Int, outputs: Int, positions: Int, kernel: [Double]?, bias: [Double]?, weight: Double) -> Double {
            var sum = 0.0
            for n in 0..<2 {
                var squares = 0.0
                for p in 0..<positions {
                    let row = (n * positions + p)
                    for o in 0..<outputs {
                        var r = bias?[o] ?? 0
                        if let kernel { for i in 0..<inputs { r += source[row * inputs + i] * kernel[i * outputs + o] } } else { r = source[row * outputs + o] }
                        squares += pow(r - target[row * outputs + o], 2)
                    }
                }
                sum += weight * squares / Double(positions * outputs)
            }
            return sum
        }
        let convolution = loss(values(s.student.output(ofLayer: 1), 2 * 108), values(s.teacher.output(ofLayer: 1), 2 * 144), inputs: 3, outputs: 4,
                               positions: 36, kernel: parameter("hint_regressor.kernel"), bias: parameter("hint_regressor.bias"), weight: 0.7)
        let flat = loss(values(s.student.output(ofLayer: 4), 2 * 72), values(s.teacher.output(ofLayer: 2), 2 * 144), inputs: 72, outputs: 144,
                        positions: 1, kernel: parameter("hint_regressor_1.kernel"), bias: parameter("hint_regressor_1.bias"), weight: 1)
        let logits = loss(values(s.student.output(ofLayer: 5), 6), values(s.teacher.output(ofLayer: 3), 6), inputs: 3, outputs: 3, positions: 1,
                          kernel: nil, bias: nil, weight: 0.3)
        XCTAssertTrue(values(s.teacher.output(ofLayer: 1), 288).allSatisfy { abs($0) < 1 }, "the teacher's conv hint reads its tanh part")
        XCTAssertGreaterThan(min(convolution, flat, logits), 0)
        XCTAssertEqual(total, convolution + flat + logits, accuracy: 1e-5 * total)
    }

    func testHintsThatDoNotFitAreOneLineErrors() throws {
        var settings = RecipeSettings()
        (settings.teacherModel, settings.studentModel) = (Self.teacher, Self.student)
        let teacher = HintPlan.Side(role: "teacher", plan: try Self.teacher.plan())
        func message(_ hints: [String], hintEpochs: Int = 0) -> String {
            settings.hints = hints.map { try! HintSpecification(parsing: $0) }
            settings.hintEpochs = hintEpochs
            do { _ = try settings.hintPlan(teacher: teacher, gemm: Fixture.gemm) } catch { return "\(error)" }
            return "no error"
        }
        XCTAssertEqual(message(["nope:s_conv"]), "--hint 'nope:s_conv': the teacher has no layer 'nope'; its layers: t_conv, t_flat, t_out")
        XCTAssertEqual(message(["t_conv:nope"]), "--hint 't_conv:nope': the student has no layer 'nope'; its layers: s_conv, s_mid, s_flat, s_out")
        XCTAssertEqual(message(["t_conv:s_flat"]), "--hint 't_conv:s_flat': the teacher's 't_conv' gives 6x6x4 and the student's 's_flat' 72: a "
            + "regressor maps an image to an image (HxWxC) or a vector to a vector; pick layers of the same kind")
        XCTAssertEqual(message(["t_conv:s_mid:2"]), "no error", "only channels differ: a 1x1 regressor")
        XCTAssertEqual(message(["t_conv_activation:s_conv_activation"]), "no error", "the activation part, as `distill summary` names it")
        settings.studentEpochs = 5
        settings.restoreBest = true
        XCTAssertEqual(message(["t_out:s_out"], hintEpochs: 2), "--hint-epochs 2 with --restore-best or --patience: the hints-only epochs "
            + "would count for the best epoch and the patience while the student's head is untrained; use one or the other")
        (settings.studentEpochs, settings.restoreBest) = (3, false)
        XCTAssertEqual(message(["t_out:s_out"], hintEpochs: 3), "--hint-epochs 3 leaves no epoch of distillation: it must be less than --student-epochs 3")
        XCTAssertEqual(message([], hintEpochs: 1), "--hint-epochs 1 needs at least one --hint")
        XCTAssertEqual(message([]), "no error", "no hints, no plan")
        settings.hints = [HintSpecification(teacherLayer: "t_out", studentLayer: "s_out")]
        XCTAssertThrowsError(try settings.hintPlan(teacher: nil, gemm: Fixture.gemm)) {
            XCTAssertTrue("\($0)".hasPrefix("--hint needs the teacher's model"), "\($0)")
        }
        // Spatial sizes: a student whose layer is 3x3 against the teacher's 6x6.
        settings.studentModel = try Self.model("pooled", [Self.layer("MaxPooling2D", "pool"), Self.layer("Flatten", "flat"),
                                                          Self.layer("Dense", "out", #""units": 3"#)])
        XCTAssertEqual(message(["t_conv:pool"]), "--hint 't_conv:pool': the teacher's 't_conv' gives 6x6x4 and the student's 'pool' 3x3x2: their "
            + "spatial sizes differ (a 1x1 regressor maps channels only); pick layers of the same height and width")
    }

    func testHintSpecificationsParseOrSayWhyOnOneLine() throws {
        let parsed = try HintSpecification(parsing: "block2_out:expand_relu:0.5")
        XCTAssertEqual(parsed, HintSpecification(teacherLayer: "block2_out", studentLayer: "expand_relu", weight: 0.5))
        XCTAssertEqual(parsed.canonical, "block2_out:expand_relu:0.5")
        XCTAssertEqual(try HintSpecification(parsing: "a:b:1").canonical, "a:b")
        for bad in ["a", "a:b:c:d", ":b", "a:", "a:b:", "a:b:0", "a:b:-1", "a:b:1e7", "a:b:inf", "a:b:0x1", "a b:c", "a:b:nan"] {
            XCTAssertThrowsError(try HintSpecification(parsing: bad), bad) { XCTAssertTrue("\($0)".hasPrefix("--hint '"), "\($0)") }
        }
        // Fuzz: random text over the grammar's characters either parses, and its canonical form parses back to
        // the same hint, or is refused with one line naming the flag.
        var rng = SeededGenerator(seed: 99)
        let alphabet = Array("ab_:0.15e-+ \t\u{e9}\n:")
        for _ in 0..<3000 {
            let text = String((0..<Int(rng.next() % 12)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
            do {
                let hint = try HintSpecification(parsing: text)
                XCTAssertEqual(try HintSpecification(parsing: hint.canonical), hint, text)
                XCTAssertTrue(hint.weight > 0 && hint.weight.isFinite)
            } catch let error as TrainingError {
                XCTAssertTrue(error.description.hasPrefix("--hint '") && !error.description.contains("\n"), error.description)
            }
        }
    }
}
