import Datasets
import XCTest

/// The low-data subset: each class keeps its share (rounded, at least one), the same seed picks the
/// same samples (as every rank must), another seed others, and the ids are the original ones, sorted.
final class ClassBalancedSubsetTests: XCTestCase {
    /// A generator for the test (the trainer passes NN's seeded one).
    struct Counter: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state ^ (state >> 29)
        }
    }

    private let labels: [Int32] = (0..<1000).map { Int32($0 % 7 == 0 ? 6 : $0 % 3) }   // classes 0, 1, 2 and a rarer 6

    private func subset(_ fraction: Double, seed: UInt64) -> [Int] {
        var rng = Counter(state: seed)
        return classBalancedSubset(labels: labels, classes: 7, fraction: fraction, using: &rng)
    }

    func testEachClassKeepsItsShare() {
        let ids = subset(0.1, seed: 1)
        XCTAssertEqual(ids, ids.sorted())
        XCTAssertEqual(Set(ids).count, ids.count)
        for label: Int32 in [0, 1, 2, 6] {
            let all = labels.filter { $0 == label }.count
            let kept = ids.filter { labels[$0] == label }.count
            XCTAssertEqual(kept, Int((0.1 * Double(all)).rounded()), "class \(label): \(kept) of \(all)")
        }
    }

    func testSeededAndComplete() {
        XCTAssertEqual(subset(0.25, seed: 5), subset(0.25, seed: 5))
        XCTAssertNotEqual(subset(0.25, seed: 5), subset(0.25, seed: 6))
        XCTAssertEqual(subset(1, seed: 9), Array(0..<1000))
        // A class is never emptied: one sample at least, even at a tiny fraction.
        XCTAssertEqual(Set(subset(0.0001, seed: 2).map { labels[$0] }), [0, 1, 2, 6])
    }

    func testSubsetOfTheDataKeepsClassesAndSamples() throws {
        let pixels = (0..<12).map { Float($0) }
        let data = LabeledImages(images: pixels, labels: [0, 3, 1, 2], height: 1, width: 3)
        let part = data.subset([3, 1])
        XCTAssertEqual(part.images, [9, 10, 11, 3, 4, 5])
        XCTAssertEqual(part.labels, [2, 3])
        XCTAssertEqual(part.classes, 4)
        XCTAssertEqual(data.subset([]).count, 0)
    }
}
