import Collective
import Datasets
import Distill
import Foundation
import NN
import TestSupport
import XCTest

/// `--augment`: each transform's exact pixels against an independent construction, the draws
/// (keyed on seed, epoch, transform and sample, covering every offset), the text's refusals, and
/// consistent teaching: in an augmented distillation step the teacher and the student see one view.
final class AugmentationTests: XCTestCase {
    /// A 5 x 6 image of 2 channels whose every value differs: `v(y, x, c) = 1 + 100y + 10x + c`.
    private let (height, width, channels) = (5, 6, 2)
    private func value(_ y: Int, _ x: Int, _ c: Int) -> Float { Float(1 + 100 * y + 10 * x + c) }
    private var image: [Float] { (0..<height).flatMap { y in (0..<width).flatMap { x in (0..<channels).map { value(y, x, $0) } } } }

    private func transformed(_ transform: ImageTransform, draw: UInt64) -> [Float] {
        var output = [Float](repeating: -1, count: image.count)
        image.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { transform.apply(input.baseAddress!, to: $0.baseAddress!, height: height, width: width, channels: channels, draw: draw) }
        }
        return output
    }

    func testTranslateShiftsWithZeroFill() {
        let translate = Translate(pixels: 2)
        var seen = Set<[Int]>()
        for draw in (0..<400).map({ SeededGenerator.mix(UInt64($0)) }) {
            let (dy, dx) = translate.offsets(draw: draw)
            seen.insert([dy, dx])
            let expected = (0..<height).flatMap { y in (0..<width).flatMap { x in (0..<channels).map { c -> Float in
                let (sy, sx) = (y - dy, x - dx)
                return sy >= 0 && sy < height && sx >= 0 && sx < width ? value(sy, sx, c) : 0
            } } }
            XCTAssertEqual(transformed(translate, draw: draw), expected, "shift (\(dy), \(dx))")
        }
        XCTAssertEqual(seen.count, 25, "every shift in -2...2 x -2...2 is drawn")
        XCTAssertEqual(transformed(Translate(pixels: 0), draw: 12345), image, "translate=0 is the identity")
    }

    /// Pad-crop against the literal recipe: a padded copy, then the crop at the drawn corner.
    func testPadCropCropsAPaddedCopy() {
        let padCrop = PadCrop(padding: 3)
        let (paddedHeight, paddedWidth) = (height + 6, width + 6)
        var padded = [Float](repeating: 0, count: paddedHeight * paddedWidth * channels)
        for y in 0..<height { for x in 0..<width { for c in 0..<channels { padded[((y + 3) * paddedWidth + x + 3) * channels + c] = value(y, x, c) } } }
        var corners = Set<[Int]>()
        for draw in (0..<600).map({ SeededGenerator.mix(UInt64($0) &+ 77) }) {
            let (top, left) = padCrop.corner(draw: draw)
            corners.insert([top, left])
            let expected = (0..<height).flatMap { y in (0..<width).flatMap { x in (0..<channels).map { padded[((y + top) * paddedWidth + x + left) * channels + $0] } } }
            XCTAssertEqual(transformed(padCrop, draw: draw), expected, "corner (\(top), \(left))")
        }
        XCTAssertEqual(corners.count, 49, "every corner in 0...6 x 0...6 is drawn")
    }

    func testFlipMirrorsHalfTheDraws() {
        let flip = HorizontalFlip()
        let mirrored = (0..<height).flatMap { y in (0..<width).flatMap { x in (0..<channels).map { value(y, width - 1 - x, $0) } } }
        var flipped = 0
        for draw in (0..<1000).map({ SeededGenerator.mix(UInt64($0) &+ 5) }) {
            let output = transformed(flip, draw: draw)
            XCTAssertEqual(output, flip.flips(draw: draw) ? mirrored : image)
            flipped += flip.flips(draw: draw) ? 1 : 0
        }
        XCTAssertEqual(Double(flipped), 500, accuracy: 60, "about half")
    }

    /// The views depend on the sample's index in the training set and the epoch, not on its row in a
    /// rank's slice (so 1 and N ranks, and a resumed epoch, see the same), and differ between epochs.
    func testDrawsAreKeyedOnSampleAndEpoch() throws {
        let spec = try AugmentSpecification.transforms("translate=2:flip")
        let augmentation = DataAugmentation(transforms: spec.transforms, seed: 42, sampleSize: image.count)
        func views(_ ids: [Int], epoch: Int) -> [Int: [Float]] {
            var batch = ids.flatMap { _ in image }
            augmentation.apply(&batch, sampleIDs: ids[...], epoch: epoch, height: height, width: width, channels: channels)
            return Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, Array(batch[($0 * image.count)..<(($0 + 1) * image.count)])) })
        }
        let ids = Array(0..<40)
        let first = views(ids, epoch: 1)
        XCTAssertEqual(views(ids.reversed(), epoch: 1), first, "the same sample gets the same view in any row")
        XCTAssertEqual(views([7], epoch: 1)[7], first[7])
        let second = views(ids, epoch: 2)
        XCTAssertGreaterThan(ids.filter { first[$0] != second[$0] }.count, 30, "another epoch draws other views")
        XCTAssertGreaterThan(ids.filter { first[$0] != image }.count, 30, "most views differ from the image")
        let other = DataAugmentation(transforms: spec.transforms, seed: 43, sampleSize: image.count)
        XCTAssertNotEqual(other.draw("translate", epoch: 1, sample: 3), augmentation.draw("translate", epoch: 1, sample: 3))
    }

    func testSpecificationsAndRefusals() throws {
        XCTAssertEqual(try AugmentSpecification.resolve("flip:pad-crop=4"), "flip:pad-crop=4")
        XCTAssertEqual(try AugmentSpecification.resolve("pad-crop=4:flip"), "flip:pad-crop=4", "one canonical text")
        XCTAssertEqual(try AugmentSpecification.resolve("none"), "")
        XCTAssertEqual(try AugmentSpecification.resolve("translate=0"), "")
        XCTAssertEqual(try AugmentSpecification.resolve("mixup=0.2:pad-crop=4:flip"), "flip:mixup=0.2:pad-crop=4")
        XCTAssertNil(try AugmentSpecification.transforms("mixup=0:flip").mixup, "mixup=0 is none, as alpha 0 in the paper's code")
        XCTAssertEqual(try AugmentSpecification.transforms("mixup=0.2").transforms.count, 0, "mixup is not a per-image transform")
        XCTAssertEqual(try AugmentSpecification.transforms("flip:translate=2:pad-crop=1").transforms.map(\.name), ["translate", "pad-crop", "flip"],
                       "applied in a fixed order")
        let cases = [
            ("translate=1.5", "--augment 'translate=1.5': translate is a whole number of pixels, got 1.5"),
            ("translate=65", "--augment 'translate=65': translate must be in [0, 64], got 65"),
            ("rotate=10", "--augment 'rotate=10': augment has no parameter 'rotate'; its parameters are translate, pad-crop, flip, mixup"),
            ("mixup=-0.2", "--augment 'mixup=-0.2': mixup must be in [0, 100], got -0.2"),
            ("mixup=101", "--augment 'mixup=101': mixup must be in [0, 100], got 101"),
            ("mixup", "--augment 'mixup': mixup needs a number, e.g. mixup=0"),
            ("mixup=beta", "--augment 'mixup=beta': mixup must be a number, got 'beta'"),
            ("flip=1", "--augment 'flip=1': flip is a switch and takes no value: write :flip alone"),
            ("flip,translate=2", "--augment 'flip,translate=2': ',' is not allowed: a specification is a name then :key=value or :key parts, with no spaces or commas"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try AugmentSpecification.resolve(text), text) { XCTAssertEqual(($0 as? TrainingError)?.description, expected) }
        }
    }

    // MARK: Consistent teaching

    /// Passes its input through and keeps a copy of the last one: what the student's first layer saw.
    final class Recorder: Layer {
        var kind: String { "recorder" }
        var size = 0
        var seen: [Float] = []
        func build(inputShape: [Int]) throws -> [Int] { size = inputShape.reduce(1, *); return inputShape }
        func forward(input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>, batch: Int) {
            seen = Array(UnsafeBufferPointer(start: input, count: batch * size))
            output.update(from: input, count: batch * size)
        }
        func backward(outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
                      input: UnsafePointer<Float>, output: UnsafePointer<Float>, batch: Int) {
            inputGradient?.update(from: outputGradient, count: batch * size)
        }
    }

    /// The running teacher, keeping each batch's images and the logits it gave.
    final class WatchedTeacher: TeacherLogitsSource {
        let teacher: RunningTeacher
        var images: [Float] = [], logits: [Float] = []
        init(_ model: Sequential) { teacher = RunningTeacher(model) }
        var classes: Int { teacher.classes }
        var fingerprint: UInt64 { teacher.fingerprint }
        func reserve(maxBatch: Int) { teacher.reserve(maxBatch: maxBatch) }
        func prepare(batchSizes: Set<Int>) { teacher.prepare(batchSizes: batchSizes) }
        func logits(for batch: LocalBatch, into logits: UnsafeMutablePointer<Float>) {
            teacher.logits(for: batch, into: logits)
            images = Array(UnsafeBufferPointer(start: batch.images, count: batch.count * 784))
            self.logits = Array(UnsafeBufferPointer(start: logits, count: batch.count * classes))
        }
        func restricted(to ids: [Int]) -> WatchedTeacher { self }
    }

    /// One augmented distillation step of 16 samples: the teacher's input is the augmented batch (not
    /// the raw one), the student's first layer sees exactly the teacher's input, and the logits the
    /// loss used are the teacher's own forward pass on that batch, run alone afterwards.
    func testTeacherAndStudentSeeOneAugmentedView() throws {
        let data = Fixture.trainPrefix(16)
        var rng = SeededGenerator(seed: 3)
        let teacherModel = try Sequential(inputShape: [28, 28, 1], layers: [Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
        teacherModel.parameters.initialize(using: &rng)
        let recorder = Recorder()
        let student = try Sequential(inputShape: [28, 28, 1], layers: [recorder, Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
        student.parameters.initialize(using: &rng)
        let watched = WatchedTeacher(teacherModel)
        let distiller = Distiller(student: student, teacherLogits: watched, communicator: SingleProcess())
        distiller.compile(optimizer: Adam(), loss: DistillationLoss(alpha: 0.1, temperature: 4))
        let augmentation = DataAugmentation(transforms: try AugmentSpecification.transforms("translate=2:flip").transforms, seed: 9, sampleSize: 784)
        _ = try distiller.fit(data, epochs: 1, batchSize: 16, seed: 1, augmentation: augmentation)

        // The batch in the step's order (the epoch's permutation), raw and augmented independently here.
        var generator = SeededGenerator(seed: 1)
        let order = epochPermutation(count: 16, using: &generator)
        var raw = [Float](repeating: 0, count: 16 * 784), labels = [Int32](repeating: 0, count: 16)
        data.gather(order[...], images: &raw, labels: &labels)
        var augmented = raw
        augmentation.apply(&augmented, sampleIDs: order[...], epoch: 1, height: 28, width: 28, channels: 1)
        XCTAssertNotEqual(watched.images, raw, "the teacher saw an augmented batch")
        XCTAssertEqual(watched.images, augmented, "the teacher saw this batch's augmented views")
        XCTAssertEqual(recorder.seen, watched.images, "the student saw the teacher's view")
        let alone = teacherModel.forward(watched.images, batch: 16)
        XCTAssertEqual(watched.logits, Array(UnsafeBufferPointer(start: alone, count: 160)), "the logits used are the teacher's on that view")
    }
    /// A student whose model starts with augmentation layers (its leading chain): in a distillation step the
    /// teacher is run on the chain's output, which differs from the raw batch and is exactly what the rest of the
    /// student sees; the logits used are the teacher's own on that view. Two ranks' worth of draws are keyed on the
    /// sample, so the view does not depend on the batch's place.
    func testTheTeacherSeesTheStudentsLeadingAugmentation() throws {
        let data = Fixture.trainPrefix(16)
        var rng = SeededGenerator(seed: 3)
        let teacherModel = try Sequential(inputShape: [28, 28, 1], layers: [Flatten(), Dense(units: 10, gemm: Fixture.gemm)])
        teacherModel.parameters.initialize(using: &rng)
        let recorder = Recorder()
        let student = try Sequential(inputShape: [28, 28, 1], layers: [
            RandomFlip(mode: .horizontal), RandomTranslation(height: (-0.2, 0.2), width: (-0.2, 0.2), fillMode: .constant), recorder,
            Flatten(), Dense(units: 10, gemm: Fixture.gemm),
        ])
        XCTAssertEqual(student.leadingAugmentationCount, 2)
        student.parameters.initialize(using: &rng)
        let watched = WatchedTeacher(teacherModel)
        let distiller = Distiller(student: student, teacherLogits: watched, communicator: SingleProcess())
        distiller.compile(optimizer: Adam(), loss: DistillationLoss(alpha: 0.1, temperature: 4))
        _ = try distiller.fit(data, epochs: 1, batchSize: 16, seed: 1)

        var generator = SeededGenerator(seed: 1)
        let order = epochPermutation(count: 16, using: &generator)
        var raw = [Float](repeating: 0, count: 16 * 784), labels = [Int32](repeating: 0, count: 16)
        data.gather(order[...], images: &raw, labels: &labels)
        XCTAssertNotEqual(watched.images, raw, "the teacher saw an augmented batch")
        XCTAssertEqual(recorder.seen, watched.images, "the rest of the student saw the teacher's view")
        let alone = teacherModel.forward(watched.images, batch: 16)
        XCTAssertEqual(watched.logits, Array(UnsafeBufferPointer(start: alone, count: 160)), "the logits used are the teacher's on that view")
        // The view is the chain run on its own in training mode on the same samples.
        let chain = try Sequential(inputShape: [28, 28, 1], layers: [
            RandomFlip(mode: .horizontal), RandomTranslation(height: (-0.2, 0.2), width: (-0.2, 0.2), fillMode: .constant),
        ])
        chain.reserve(maxBatch: 16)
        let pass = TrainingPass(seed: 1, step: 0, epoch: 1, sampleIDs: order[...])
        let view = chain.forward(raw, batch: 16, training: pass)
        XCTAssertEqual(watched.images, Array(UnsafeBufferPointer(start: view, count: 16 * 784)))
    }
}
