import Collective
import Datasets
import Distill
import Foundation
import NN
import XCTest

/// `--augment ...:mixup=A`: the exact pixels of a mix against an independent construction, the partner and
/// lambda keyed on the sample and epoch (not on the batch or its split), lambda's moments against Beta(A, A),
/// and a distillation step whose teacher sees the mixed batch and whose loss and accuracy use the mixed labels.
final class MixupAugmentationTests: XCTestCase {
    /// Seven 5 x 6 images of 2 channels whose every value differs: `v(n, y, x, c) = 1 + 1000n + 100y + 10x + c`.
    private let (count, height, width, channels) = (7, 5, 6, 2)
    private func value(_ n: Int, _ y: Int, _ x: Int, _ c: Int) -> Float { Float(1 + 1000 * n + 100 * y + 10 * x + c) }
    private var data: LabeledImages {
        let images = (0..<count).flatMap { n in (0..<height).flatMap { y in (0..<width).flatMap { x in (0..<channels).map { value(n, y, x, $0) } } } }
        return LabeledImages(images: images, labels: [3, 1, 4, 1, 5, 9, 2], height: height, width: width, channels: channels)
    }
    private var size: Int { height * width * channels }

    /// `ids`' images after the transforms and the mix, with the partners' labels and the weights.
    private func mixed(_ augmentation: DataAugmentation, _ ids: [Int], epoch: Int) -> (images: [Float], partners: [Int32], weights: [Float]) {
        let data = data
        var images = [Float](repeating: 0, count: ids.count * size), labels = [Int32](repeating: 0, count: ids.count)
        var (partners, weights) = ([Int32](repeating: -1, count: ids.count), [Float](repeating: -1, count: ids.count))
        data.gather(ids[...], images: &images, labels: &labels)
        augmentation.apply(&images, sampleIDs: ids[...], epoch: epoch, height: height, width: width, channels: channels)
        let mix = images.withUnsafeMutableBufferPointer { image in partners.withUnsafeMutableBufferPointer { p in weights.withUnsafeMutableBufferPointer { w in
            augmentation.mix(image.baseAddress!, sampleIDs: ids[...], epoch: epoch, data: data, partnerLabels: p.baseAddress!, weights: w.baseAddress!)
        } } }
        XCTAssertNotNil(mix)
        return (images, partners, weights)
    }

    /// Each mixed image is `lambda view(i) + (1 - lambda) view(j)` with the views built here from the drawn
    /// shifts and flips by index arithmetic, and `j`, lambda from the "mixup" key of sample `i`.
    func testMixedPixelsEqualAnIndependentConstruction() throws {
        let spec = try AugmentSpecification.transforms("translate=1:flip:mixup=0.4")
        let mixup = try XCTUnwrap(spec.mixup)
        XCTAssertEqual(mixup.alpha, Double(Float(0.4)))
        let augmentation = DataAugmentation(transforms: spec.transforms, mixup: mixup, seed: 5, sampleSize: size)
        let (translate, flip) = (Translate(pixels: 1), HorizontalFlip())
        /// Sample n's view in `epoch`: translated by the drawn (dy, dx), then mirrored when the flip draw says so.
        func view(_ n: Int, epoch: Int) -> [Float] {
            let (dy, dx) = translate.offsets(draw: augmentation.draw("translate", epoch: epoch, sample: n))
            let flips = flip.flips(draw: augmentation.draw("flip", epoch: epoch, sample: n))
            return (0..<height).flatMap { y in (0..<width).flatMap { x in (0..<channels).map { c -> Float in
                let (sy, sx) = (y - dy, (flips ? width - 1 - x : x) - dx)
                return sy >= 0 && sy < height && sx >= 0 && sx < width ? value(n, sy, sx, c) : 0
            } } }
        }
        let ids = [3, 5, 0, 6, 1, 2, 4, 3]   // a sample twice: the same mix both times
        for epoch in [1, 2] {
            let result = mixed(augmentation, ids, epoch: epoch)
            var partnersSeen = Set<Int>()
            for (row, i) in ids.enumerated() {
                let key = augmentation.draw("mixup", epoch: epoch, sample: i)
                var generator = SeededGenerator(seed: key)
                let j = Int(generator.next() % UInt64(count))
                let lambda = mixup.pair(draw: key, count: count).lambda
                XCTAssertEqual(mixup.pair(draw: key, count: count).partner, j, "the partner is the key's first draw over the training set")
                partnersSeen.insert(j)
                let (own, other) = (view(i, epoch: epoch), view(j, epoch: epoch))
                let expected = (0..<size).map { lambda * own[$0] + (1 - lambda) * other[$0] }
                XCTAssertEqual(Array(result.images[(row * size)..<((row + 1) * size)]), expected, "sample \(i) with \(j), epoch \(epoch)")
                XCTAssertEqual(result.partners[row], data.labels[j])
                XCTAssertEqual(result.weights[row], lambda)
                XCTAssert(lambda > 0 && lambda < 1, "lambda \(lambda) strictly inside: an actual mix")
            }
            XCTAssertGreaterThan(partnersSeen.count, 2)
        }
    }

    /// Partner and lambda depend on the sample and the epoch only: a batch in another order, split in two
    /// as two ranks would take it, or one sample alone get the same mixes; another epoch draws others.
    func testDrawsAreKeyedOnSampleAndEpochNotOnTheBatch() throws {
        let spec = try AugmentSpecification.transforms("pad-crop=1:mixup=0.2")
        let augmentation = DataAugmentation(transforms: spec.transforms, mixup: spec.mixup, seed: 8, sampleSize: size)
        func bySample(_ ids: [Int], epoch: Int) -> [Int: [Float]] {
            let result = mixed(augmentation, ids, epoch: epoch)
            return Dictionary(uniqueKeysWithValues: ids.enumerated().map { row, id in
                (id, Array(result.images[(row * size)..<((row + 1) * size)]) + [Float(result.partners[row]), result.weights[row]])
            })
        }
        let ids = Array(0..<count)
        let whole = bySample(ids, epoch: 1)
        XCTAssertEqual(bySample(ids.reversed(), epoch: 1), whole, "any row")
        XCTAssertEqual(bySample([0, 1, 2, 3], epoch: 1).merging(bySample([4, 5, 6], epoch: 1)) { a, _ in a }, whole, "two ranks' slices")
        XCTAssertEqual(bySample([5], epoch: 1)[5], whole[5], "alone")
        let other = bySample(ids, epoch: 2)
        XCTAssertGreaterThanOrEqual(ids.filter { other[$0] != whole[$0] }.count, 6, "another epoch mixes otherwise")
        // Over many keys: the pairs differ between epochs for almost every sample, the partners cover the set.
        let mixup = try XCTUnwrap(spec.mixup)
        let pairs = { (epoch: Int) in (0..<500).map { mixup.pair(draw: augmentation.draw("mixup", epoch: epoch, sample: $0), count: 500) } }
        let (first, second) = (pairs(1), pairs(2))
        XCTAssertLessThanOrEqual(zip(first, second).filter { $0.0 == $0.1 }.count, 2, "redrawn each epoch")
        XCTAssertGreaterThan(Set(first.map(\.partner)).count, 250, "partners spread over the set")
    }

    /// lambda ~ Beta(A, A): over 40,000 fixed keys its mean is within 0.01 of 1/2 (over 4 standard errors
    /// for these A) and its variance within 4% of 1 / (4 (2A + 1)) (at least 5 standard errors); all in [0, 1].
    func testLambdaHasTheMomentsOfBeta() {
        let n = 40_000
        for alpha in [0.1, 0.2, 0.4, 1, 2, 5] {
            let mixup = Mixup(alpha: alpha)
            let lambdas = (0..<n).map { Double(mixup.pair(draw: SeededGenerator.mix(UInt64($0) &+ 1234), count: 10).lambda) }
            XCTAssert(lambdas.allSatisfy { $0 >= 0 && $0 <= 1 }, "A \(alpha): lambda in [0, 1]")
            let mean = lambdas.reduce(0, +) / Double(n)
            let variance = lambdas.reduce(0.0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n - 1)
            let expected = 1 / (4 * (2 * alpha + 1))
            XCTAssertEqual(mean, 0.5, accuracy: 0.01, "A \(alpha): mean")
            XCTAssertEqual(variance, expected, accuracy: 0.04 * expected, "A \(alpha): variance \(variance), Beta's \(expected)")
            // A third check of the shape: for A < 1 the mass sits near 0 and 1, for A > 1 near 1/2.
            let middle = Double(lambdas.filter { $0 > 0.25 && $0 < 0.75 }.count) / Double(n)
            if alpha < 1 { XCTAssertLessThan(middle, 0.5, "A \(alpha)") } else if alpha > 1 { XCTAssertGreaterThan(middle, 0.5, "A \(alpha)") }
        }
    }

    /// One mixed distillation step of 16 samples: the teacher's input is the batch after the transforms and
    /// the mix (built again here by `apply` and `mix`), the student's first layer sees the same, and the
    /// step's student_loss and accuracy are the mixed labels' (the student's logits from a copy of its
    /// initial weights; accuracy against the label of the larger weight).
    func testADistillationStepTeachesOnTheMixedBatch() throws {
        let data = Fixture.trainPrefix(16)
        func models() throws -> (teacher: Sequential, student: Sequential, recorder: AugmentationTests.Recorder) {
            var rng = SeededGenerator(seed: 3)
            let teacher = try Sequential(inputShape: [28, 28, 1], layers: [Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
            teacher.parameters.initialize(using: &rng)
            let recorder = AugmentationTests.Recorder()
            let student = try Sequential(inputShape: [28, 28, 1], layers: [recorder, Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
            student.parameters.initialize(using: &rng)
            return (teacher, student, recorder)
        }
        let (teacherModel, student, recorder) = try models()
        let watched = AugmentationTests.WatchedTeacher(teacherModel)
        let distiller = Distiller(student: student, teacherLogits: watched, communicator: SingleProcess())
        distiller.compile(optimizer: Adam(), loss: DistillationLoss(alpha: 0.1, temperature: 4))
        let spec = try AugmentSpecification.transforms("flip:mixup=0.4")
        let augmentation = DataAugmentation(transforms: spec.transforms, mixup: spec.mixup, seed: 9, sampleSize: 784)
        let history = try distiller.fit(data, epochs: 1, batchSize: 16, seed: 1, augmentation: augmentation)

        var generator = SeededGenerator(seed: 1)
        let order = epochPermutation(count: 16, using: &generator)
        var raw = [Float](repeating: 0, count: 16 * 784), labels = [Int32](repeating: 0, count: 16)
        data.gather(order[...], images: &raw, labels: &labels)
        var flipped = raw
        augmentation.apply(&flipped, sampleIDs: order[...], epoch: 1, height: 28, width: 28, channels: 1)
        var images = flipped
        var (partners, weights) = ([Int32](repeating: 0, count: 16), [Float](repeating: 0, count: 16))
        _ = augmentation.mix(&images, sampleIDs: order[...], epoch: 1, data: data, partnerLabels: &partners, weights: &weights)
        XCTAssertNotEqual(watched.images, flipped, "the teacher saw a mixed batch")
        XCTAssertEqual(watched.images, images, "the teacher saw this batch's mixed views")
        XCTAssertEqual(recorder.seen, watched.images, "the student saw the teacher's view")
        let alone = teacherModel.forward(watched.images, batch: 16)
        XCTAssertEqual(watched.logits, Array(UnsafeBufferPointer(start: alone, count: 160)), "the logits used are the teacher's on that view")

        let initial = try models().student
        initial.reserve(maxBatch: 16)
        let logits = Array(UnsafeBufferPointer(start: initial.forward(images, batch: 16), count: 160))
        let expectedLoss = partners.withUnsafeBufferPointer { p in weights.withUnsafeBufferPointer { w in
            SparseCategoricalCrossentropy()(logits: logits, labels: labels, mix: LabelMix(partners: p.baseAddress!, weights: w.baseAddress!),
                                            rows: 16, classes: 10, gradient: nil, scale: 1)
        } } / 16
        let unmixedLoss = SparseCategoricalCrossentropy()(logits: logits, labels: labels, rows: 16, classes: 10, gradient: nil, scale: 1) / 16
        let step = try XCTUnwrap(history.epochs.first)
        XCTAssertEqual(step[0], expectedLoss, accuracy: 1e-6 * expectedLoss, "student_loss is the mixed labels' cross-entropy")
        XCTAssertNotEqual(step[0], unmixedLoss, accuracy: 1e-3, "and not the plain labels'")
        let dominant = (0..<16).map { weights[$0] >= 0.5 ? labels[$0] : partners[$0] }
        XCTAssertEqual(step[2], Double(correctCount(logits: logits, labels: dominant, rows: 16, classes: 10)) / 16, "accuracy on the larger weight's label")
    }
}
