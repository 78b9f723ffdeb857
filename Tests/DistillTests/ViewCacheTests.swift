import Collective
import Datasets
import Distill
import Foundation
import NN
import XCTest

/// `--view-cache`: the teacher's logits of every epoch's augmented views, made once and reused. Each table row is
/// the teacher run alone on that sample's view of that epoch (MixUp included); a second student of the same views
/// reads the files instead of computing them; and a student distilled from them trains as one whose teacher runs
/// on every batch.
final class ViewCacheTests: XCTestCase {
    private var directory: String!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("views-\(UUID())").path
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: directory) }

    private func teacher() throws -> Sequential {
        let model = try Architecture.hidden.model(.teacher, gemm: Fixture.gemm)
        var rng = SeededGenerator(seed: 21)
        model.parameters.initialize(using: &rng)
        return model
    }

    private func augmentation(_ spec: String, seed: UInt64, data: LabeledImages) throws -> DataAugmentation {
        let parts = try AugmentSpecification.transforms(spec)
        return DataAugmentation(transforms: parts.transforms, mixup: parts.mixup, seed: seed, sampleSize: data.sampleSize)
    }

    func testEachRowIsTheTeacherRunAloneOnThatViewAndASecondStudentReusesTheTables() throws {
        let data = Fixture.trainPrefix(90), teacher = try teacher()
        let spec = "translate=2:flip:mixup=0.4"
        var lines: [String] = []
        let cache = ViewCache(directory: directory) { lines.append($0) }
        let views = try ViewTeacherLogits.make(teacher: teacher, data: data, augmentation: try augmentation(spec, seed: 5, data: data), augment: spec,
                                               epochs: 2, cache: cache, communicator: SingleProcess())
        XCTAssertEqual(views.tables.count, 2)
        XCTAssertTrue(lines.last?.contains("0 reused from \(directory!), 2 computed") == true, "\(lines)")
        // The views of samples 7, 3 and 60 in epoch 2, made alone by another augmentation of the same seed, through the teacher alone.
        let ids = [7, 3, 60]
        let alone = try augmentation(spec, seed: 5, data: data)
        let images = FloatBuffer(count: ids.count * data.sampleSize)
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: ids.count)
        defer { labels.deallocate() }
        var partners = [Int32](repeating: 0, count: ids.count), weights = [Float](repeating: 0, count: ids.count)
        data.gather(ids[...], images: images.pointer, labels: labels)
        alone.apply(images.pointer, sampleIDs: ids[...], epoch: 2, height: 28, width: 28, channels: 1)
        XCTAssertNotNil(alone.mix(images.pointer, sampleIDs: ids[...], epoch: 2, data: data, partnerLabels: &partners, weights: &weights))
        teacher.reserve(maxBatch: ids.count)
        let logits = teacher.forward(images.pointer, batch: ids.count)
        let rows = FloatBuffer(count: ids.count * 10)
        let batch = LocalBatch(images: images.pointer, labels: labels, sampleIDs: ids[...], globalCount: 3, epoch: 2, epochs: 2)
        views.logits(for: batch, into: rows.pointer)
        for k in 0..<ids.count * 10 { XCTAssertEqual(rows.pointer[k], logits[k], accuracy: 1e-4 * max(1, abs(logits[k])), "entry \(k)") }
        let firstEpoch = FloatBuffer(count: ids.count * 10)
        views.logits(for: LocalBatch(images: images.pointer, labels: labels, sampleIDs: ids[...], globalCount: 3, epoch: 1, epochs: 2),
                     into: firstEpoch.pointer)
        XCTAssertNotEqual(firstEpoch.array, rows.array, "each epoch has views of its own")

        // The same views again: read from the directory, the same tables; another seed: other views, computed.
        let again = try ViewTeacherLogits.make(teacher: teacher, data: data, augmentation: try augmentation(spec, seed: 5, data: data), augment: spec,
                                               epochs: 2, cache: cache, communicator: SingleProcess())
        XCTAssertTrue(lines.last?.contains("2 reused from") == true, "\(lines)")
        XCTAssertEqual(again.tables.map { $0.table.array }, views.tables.map { $0.table.array })
        XCTAssertEqual(again.fingerprint, views.fingerprint)
        let other = try ViewTeacherLogits.make(teacher: teacher, data: data, augmentation: try augmentation(spec, seed: 6, data: data), augment: spec,
                                               epochs: 1, cache: cache, communicator: SingleProcess())
        XCTAssertTrue(lines.last?.contains("0 reused from") == true, "\(lines)")
        XCTAssertNotEqual(other.tables[0].table.array, views.tables[0].table.array)
    }

    /// A student distilled from the cached views takes the steps of one whose teacher runs on every augmented batch
    /// (the same logits but for the last bits of another batch size's products).
    func testDistillingFromTheViewsTrainsAsRunningTheTeacher() throws {
        let data = Fixture.trainPrefix(160), teacher = try teacher()
        var settings = RecipeSettings()
        settings.use(.hidden)
        (settings.augment, settings.studentEpochs, settings.seed) = (try AugmentSpecification.resolve("pad-crop=2:flip"), 2, 9)
        let recipe = Recipe(settings: settings, communicator: SingleProcess(), gemm: Fixture.gemm, train: data, test: Fixture.trainPrefix(50))
        let running = try recipe.distillStudent(from: RunningTeacher(teacher))
        let cached = try recipe.distillStudent(from: RunningTeacher(teacher), viewCache: ViewCache(directory: directory))
        let difference = zip(running.model.parameters.values.array, cached.model.parameters.values.array).map { abs($0 - $1) }.max()!
        XCTAssertLessThan(difference, 1e-4)
        XCTAssertEqual(running.history.epochs.count, 2)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("views-") }.count, 2)
    }

    /// `augmentSeed` keeps the views apart from the seed of the weights: students of two seeds share one set of tables.
    func testStudentsOfOtherSeedsShareTheViewsOfOneAugmentationSeed() throws {
        let data = Fixture.trainPrefix(60), teacher = try teacher()
        var settings = RecipeSettings()
        settings.use(.hidden)
        (settings.augment, settings.studentEpochs, settings.augmentSeed) = (try AugmentSpecification.resolve("translate=2"), 1, 77)
        var lines: [String] = []
        let cache = ViewCache(directory: directory) { lines.append($0) }
        var tables: [[Float]] = []
        for seed: UInt64 in [1, 2] {
            settings.seed = seed
            let recipe = Recipe(settings: settings, communicator: SingleProcess(), gemm: Fixture.gemm, train: data, test: data)
            tables.append(try recipe.viewLogits(of: RunningTeacher(teacher), cache: cache).tables[0].table.array)
        }
        XCTAssertEqual(tables[0], tables[1])
        XCTAssertTrue(lines.last?.contains("1 reused from") == true, "\(lines)")
        XCTAssertTrue(settings.summary.hasSuffix(", augment translate=2, augment seed 77"), settings.summary)
        var (one, two) = (settings, settings)
        (one.augmentSeed, two.augmentSeed, one.seed, two.seed) = (nil, nil, 1, 2)
        XCTAssertNotEqual(one.seed(for: .studentAugmentation), two.seed(for: .studentAugmentation), "by default the views follow --seed")
    }

    func testAViewCacheThatCannotHoldTheViewsIsAOneLineError() throws {
        let data = Fixture.trainPrefix(40), teacher = try teacher()
        var settings = RecipeSettings()
        settings.use(.hidden)
        let plain = Recipe(settings: settings, communicator: SingleProcess(), gemm: Fixture.gemm, train: data, test: data)
        XCTAssertThrowsError(try plain.distillStudent(from: RunningTeacher(teacher), viewCache: ViewCache(directory: directory))) {
            XCTAssertEqual("\($0)", "--view-cache keeps the teacher's logits of --augment's views; without --augment they are computed once anyway")
        }
        settings.augment = try AugmentSpecification.resolve("flip")
        let augmented = Recipe(settings: settings, communicator: SingleProcess(), gemm: Fixture.gemm, train: data, test: data)
        let logits = CachedTeacherLogits.compute(teacher: teacher, data: data, communicator: SingleProcess())
        XCTAssertThrowsError(try augmented.distillStudent(from: logits, viewCache: ViewCache(directory: directory))) {
            XCTAssertEqual("\($0)", "--view-cache needs the teacher's model to run on the views: give --teacher FILE (one checkpoint)")
        }
    }
}

/// `distill-student --view-cache` end to end: a second student of the same views reads the first one's tables and
/// trains to the same weights; settings a cache cannot serve fail with one line before training.
final class ViewCacheCommandTests: FaultTestCase {
    func testASecondStudentReusesTheViewsAndTrainsAlike() throws {
        let teacher = path("teacher.safetensors")
        XCTAssertEqual(try distill(["train-teacher", "--teacher-epochs", "1", "--output", teacher] + quick).status, 0)
        let student = ["distill-student", "--teacher", teacher, "--student-epochs", "2", "--augment", "translate=1:flip",
                       "--view-cache", path("views")] + quick
        let first = try distill(student + ["--output", path("first.safetensors")])
        XCTAssertEqual(first.status, 0, first.output)
        XCTAssertTrue(first.output.contains("0 reused from \(path("views")), 2 computed"), first.output)
        let second = try distill(student + ["--output", path("second.safetensors")])
        XCTAssertEqual(second.status, 0, second.output)
        XCTAssertTrue(second.output.contains("2 reused from \(path("views")), 0 computed"), second.output)
        let (a, b) = (try SafeTensors.read(from: path("first.safetensors")).tensors, try SafeTensors.read(from: path("second.safetensors")).tensors)
        XCTAssertEqual(a.map { $0.values.map(\.bitPattern) }, b.map { $0.values.map(\.bitPattern) })

        assertFails(try distill(["distill-student", "--teacher", teacher, "--view-cache", path("views"), "--output", path("x.safetensors")] + quick),
                    saying: "error: --view-cache keeps the teacher's logits of --augment's views; without --augment they are computed once anyway")
        assertFails(try distill(student + ["--run-teacher", "--output", path("x.safetensors")]),
                    saying: "Error: --run-teacher and --view-cache exclude each other")
    }
}
