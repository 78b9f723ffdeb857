import Collective
@testable import distill
import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// A loss that is not part of the product, to show that a loss is one file and one registry line:
/// `weight * 0.5 * sum_c (student_c - teacher_c)^2` per sample, the mean over the global batch.
final class SquaredLogitDistance: DistillationObjective {
    let weight: Float
    let metricNames = ["logit_distance"]
    init(weight: Float) { self.weight = weight }
    func reserve(rows: Int, classes: Int) {}
    func compute(_ batch: LossBatch, gradient: UnsafeMutablePointer<Float>, sums: UnsafeMutableBufferPointer<Double>) {
        var total = 0.0
        for i in 0..<batch.rows * batch.classes {
            let difference = batch.student[i] - batch.teacher[i]
            total += Double(weight * 0.5 * difference * difference)
            gradient[i] = weight * difference / Float(batch.globalCount)
        }
        sums[0] = total
    }
}

final class LossRegistryTests: XCTestCase {
    /// The one line that adds the loss.
    static let registered: Void = LossRegistry.register(LossKind(SpecificationSchema("test-logit-distance", help: "a test's loss", [
        .init("weight", .number(default: 1, range: .init(0, 10, openLower: true)), help: "its weight"),
    ])) { parameters, _, _ in SquaredLogitDistance(weight: parameters.number("weight")) })

    private var directory = ""
    private let fixture = Fixture.directory

    override func setUpWithError() throws {
        _ = Self.registered
        directory = NSTemporaryDirectory() + "loss-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Logits of the first 300 training samples from a fixed random "teacher".
        var rng = SeededGenerator(seed: 11)
        let logits = (0..<300 * 10).map { _ in rng.nextFloat(in: -3, 3) }
        try SafeTensors.write([NamedTensor(name: "logits", shape: [300, 10], values: logits)], metadata: [:], to: "\(directory)/logits.safetensors")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
        // The command in this process took SIGTERM, SIGINT and SIGUSR1 for its stop request; give them
        // back, unblocked, so the processes later tests start (and signal) inherit the defaults.
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGTERM, SIGINT, SIGUSR1] {
            signal(number, SIG_DFL)
            sigaddset(&signals, number)
        }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// distill-student, in this process, with `loss`.
    private func distillStudent(_ loss: String, output: String, _ extra: [String] = []) throws {
        var command = try DistillStudent.parseAsRoot(["--data-dir", fixture, "--train-limit", "300", "--test-limit", "100",
                                                      "--teacher-logits", "\(directory)/logits.safetensors", "--student-epochs", "1",
                                                      "--threads", "1", "--plain", "--loss", loss, "--output", output] + extra)
        try command.run()
    }

    func testARegisteredLossTrainsThroughDistillStudentAndIsKeptInTheCheckpoint() throws {
        try distillStudent("test-logit-distance:weight=2", output: "\(directory)/student.safetensors")
        try distillStudent("kd", output: "\(directory)/kd.safetensors")
        let student = try Checkpoint.load(from: "\(directory)/student.safetensors", gemm: Fixture.gemm)
        let kd = try Checkpoint.load(from: "\(directory)/kd.safetensors", gemm: Fixture.gemm)
        // The checkpoint's settings name the loss (its canonical form); the default loss leaves the summary as it always was.
        XCTAssertTrue(student.metadata["settings"]!.hasSuffix(", loss test-logit-distance:weight=2"), student.metadata["settings"]!)
        XCTAssertTrue(kd.metadata["settings"]!.hasSuffix(", seed 42"), kd.metadata["settings"]!)
        // The loss took effect: the same seeds and data, other weights.
        XCTAssertNotEqual(Array(student.model.parameters.values.buffer), Array(kd.model.parameters.values.buffer))
        // Its default weight is left out of the canonical text, so two spellings are one setting.
        XCTAssertEqual(try LossRegistry.resolve("test-logit-distance:weight=1").canonical, "test-logit-distance")
    }

    /// A state written mid-run under the registered loss resumes bit for bit, and is refused under kd.
    func testAStateOfTheRegisteredLossRoundTripsAndIsRefusedUnderAnotherLoss() throws {
        var settings = RecipeSettings()
        (settings.studentEpochs, settings.loss) = (2, try LossRegistry.resolve("test-logit-distance:weight=0.5").canonical)
        let train = Fixture.trainPrefix(300)
        let logits = try TeacherLogitsFile.loadExternal(from: "\(directory)/logits.safetensors", count: 300, classes: 10)
        let context = JobContext(communicator: SingleProcess(), gemm: Fixture.gemm)
        try FileManager.default.createDirectory(atPath: "\(directory)/states", withIntermediateDirectories: true)
        func recipe(_ settings: RecipeSettings, stopAfter polls: Int? = nil, resume: Bool = false) -> Recipe {
            var recipe = context.recipe(settings, train: train, test: Fixture.test)
            var count = 0
            recipe.checkpoints = RecipeCheckpoints(directory: "\(directory)/states", every: 4, resume: resume, stopRequested: {
                count += 1
                return polls.map { count > $0 } ?? false
            }, log: { _ in })
            return recipe
        }
        let whole = try context.recipe(settings, train: train, test: Fixture.test).distillStudent(from: logits)
        XCTAssertEqual(whole.history.metricNames, ["logit_distance", "accuracy"])
        XCTAssertThrowsError(try recipe(settings, stopAfter: 13).distillStudent(from: logits)) { XCTAssertTrue($0 is TrainingStopped, "\($0)") }
        var kd = settings
        kd.loss = "kd"
        XCTAssertThrowsError(try recipe(kd, resume: true).distillStudent(from: logits)) {
            XCTAssertTrue("\($0)".contains("other settings"), "\($0)")
        }
        let resumed = try recipe(settings, resume: true).distillStudent(from: logits)
        XCTAssertEqual(Array(resumed.model.parameters.values.buffer), Array(whole.model.parameters.values.buffer))
        XCTAssertEqual(resumed.history.epochs, whole.history.epochs)
    }

    /// The losses are a sweep list (`grid.losses`), not part of its identity: one CSV holds every method's runs,
    /// and its fingerprint keeps the value sweeps wrote before losses had names.
    func testTheSweepFingerprintLeavesTheLossesOutAndKeepsItsOldValue() throws {
        func fingerprint(_ loss: String) throws -> String {
            let grid = SweepGrid(alphas: [0.5], temperatures: [4], epochs: [1], seeds: [1], trainFractions: [1], losses: try SweepGrid.losses(loss))
            var settings = RecipeSettings()
            settings.loss = try LossRegistry.resolve(loss.split(separator: ",")[0].description).canonical
            let source = DataSource(directory: fixture, trainLimit: 300, testLimit: 100, description: "fixture")
            let setup = try SweepSetup(grid: grid, confirmSeeds: [], settings: settings, validationFraction: 0.1,
                                       csvPath: "\(directory)/sweep.csv", teacher: .logitsFile("\(directory)/logits.safetensors"),
                                       data: source, context: JobContext(communicator: SingleProcess(), gemm: Fixture.gemm), viewDirectory: "views")
            return setup.job.fingerprint
        }
        let kd = try fingerprint("kd")
        XCTAssertEqual(try fingerprint("test-logit-distance"), kd)
        XCTAssertEqual(try fingerprint("kd,test-logit-distance"), kd)
        // The identity is the text sweeps wrote before losses had names, so their CSVs stay valid.
        let (train, test) = try DataSource(directory: fixture, trainLimit: 300, testLimit: 100, description: "").load(on: SingleProcess())
        let logits = try TeacherLogitsFile.loadExternal(from: "\(directory)/logits.safetensors", count: 300, classes: 10)
        let student = RecipeSettings().studentModel
        let old = "student model \(student.name) #\(String(student.contentHash, radix: 16)), batch 32, learning rate 0.001, validation fraction 0.1"
        XCTAssertEqual(kd, Fingerprint.sweep(settings: old, logits: logits, train: train, test: test))
    }

    func testAnUnknownLossOrParameterIsOneLine() throws {
        for (loss, message) in [("kdd", "--loss 'kdd': unknown name 'kdd'"), ("kd:T=4", "--loss 'kd:T=4': kd has no parameter 'T'; its parameters are standardize"),
                                ("test-logit-distance:weight=0", "--loss 'test-logit-distance:weight=0': weight must be in (0, 10], got 0")] {
            XCTAssertThrowsError(try DistillStudent.parseAsRoot(["--loss", loss])) { error in
                XCTAssertTrue(DistillStudent.message(for: error).hasPrefix(message), DistillStudent.message(for: error))
            }
        }
    }
}
