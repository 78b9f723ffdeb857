import Datasets
import Foundation
import TestSupport
import XCTest

/// Reading the real MNIST subset in Tests/Fixtures/mnist-small (and Fashion-MNIST if installed).
final class FixtureTests: XCTestCase {
    func testTrainFixture() throws {
        let data = try IDXLoader.load(directory: fixtureDirectory, split: .train)
        XCTAssertEqual(data.count, 4000)
        XCTAssertEqual(data.height, 28)
        XCTAssertEqual(data.width, 28)
        XCTAssertEqual(data.sampleSize, 784)
        XCTAssertEqual(data.images.count, 4000 * 784)
        XCTAssertEqual(data.labels.count, 4000)
        XCTAssertEqual(data.images.min(), 0)
        XCTAssertEqual(data.images.max(), 1)
        XCTAssertEqual(Set(data.labels), Set(0...9))
        XCTAssertEqual(Array(data.labels.prefix(8)), [5, 0, 4, 1, 9, 2, 1, 3])  // MNIST's first training labels
        // Every value is some byte / 255.
        XCTAssertTrue(data.images.allSatisfy { ($0 * 255).rounded() / 255 == $0 })
    }

    func testTestFixture() throws {
        let data = try IDXLoader.load(directory: fixtureDirectory, split: .test)
        XCTAssertEqual(data.count, 1000)
        XCTAssertEqual(data.images.count, 1000 * 784)
        XCTAssertEqual(Array(data.labels.prefix(4)), [7, 2, 1, 0])  // MNIST's first test labels
        XCTAssertTrue(data.labels.allSatisfy { (0...9).contains($0) })
        XCTAssertTrue(data.images.allSatisfy { (0...1).contains($0) })
    }

    /// The same bytes read plain and through zlib load identically, and match `gzip -dc`.
    func testPlainAndGzipAgree() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let names = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
        for name in names {
            try write(try gunzip("\(fixtureDirectory)/\(name).gz"), to: "\(dir)/\(name)")
        }
        let plain = try IDXLoader.load(directory: dir, split: .test)
        let gzipped = try IDXLoader.load(directory: fixtureDirectory, split: .test)
        XCTAssertEqual(plain.images, gzipped.images)
        XCTAssertEqual(plain.labels, gzipped.labels)
        let bytes = try readBytes("\(dir)/t10k-images-idx3-ubyte")
        XCTAssertEqual(plain.images.map { UInt8(($0 * 255).rounded()) }, Array(bytes[16...]))
    }

    func testGatherCopiesSamplesInOrder() throws {
        let data = try IDXLoader.load(directory: fixtureDirectory, split: .test)
        let indices = [3, 0, 999, 3]
        var images = [Float](repeating: -1, count: indices.count * data.sampleSize)
        var labels = [Int32](repeating: -1, count: indices.count)
        data.gather(indices[1...], images: &images, labels: &labels)
        for (k, i) in indices[1...].enumerated() {
            XCTAssertEqual(labels[k], data.labels[i])
            XCTAssertEqual(Array(images[k * 784 ..< (k + 1) * 784]), Array(data.images[i * 784 ..< (i + 1) * 784]))
        }
        XCTAssertEqual(labels[3], -1)
        XCTAssertTrue(images[(3 * 784)...].allSatisfy { $0 == -1 })
    }

    func testFashionMNISTFromDebianPackage() throws {
        let dir = DatasetKind.fashionMNIST.defaultDirectory
        guard FileManager.default.fileExists(atPath: dir) else {
            throw Requirement.unavailable("\(dir) absent (apt install dataset-fashion-mnist)")
        }
        let train = try IDXLoader.load(directory: dir, split: .train)
        let test = try IDXLoader.load(directory: dir, split: .test)
        XCTAssertEqual(train.count, 60000)
        XCTAssertEqual(test.count, 10000)
        XCTAssertEqual(train.images.count, 60000 * 784)
        XCTAssertEqual(Array(train.labels.prefix(4)), [9, 0, 0, 3])
        XCTAssertEqual(Array(test.labels.prefix(4)), [9, 2, 1, 1])
        XCTAssertEqual(Set(train.labels), Set(0...9))
    }

    func testDatasetKinds() {
        XCTAssertEqual(DatasetKind(rawValue: "mnist"), .mnist)
        XCTAssertEqual(DatasetKind(rawValue: "fashion-mnist"), .fashionMNIST)
        XCTAssertEqual(DatasetKind.mnist.defaultDirectory, "data/mnist")
        XCTAssertEqual(DatasetKind.fashionMNIST.defaultDirectory, "/usr/share/datasets/fashion-mnist")
    }
}
