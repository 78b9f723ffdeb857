import Datasets
import Foundation
import XCTest

/// Every malformed input throws a `DatasetError` whose one-line message names the file.
final class MalformedFileTests: XCTestCase {
    let images = "train-images-idx3-ubyte"
    let labels = "train-labels-idx1-ubyte"
    var dir = ""

    /// 3 valid 28 x 28 images with labels [0, 9, 4].
    override func setUpWithError() throws {
        dir = try makeTemporaryDirectory()
        try writeImages(magic: 0x803, dims: [3, 28, 28])
        try writeLabels([0, 9, 4])
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(atPath: dir)
    }

    func writeImages(magic: UInt32, dims: [Int], payloadCount: Int? = nil, to name: String? = nil) throws {
        let count = payloadCount ?? dims.reduce(1, *)
        let payload = (0..<count).map { UInt8(truncatingIfNeeded: $0) }
        try write(idxBytes(magic: magic, dims: dims, payload: payload), to: "\(dir)/\(name ?? images)")
    }

    func writeLabels(_ values: [UInt8], magic: UInt32 = 0x801) throws {
        try write(idxBytes(magic: magic, dims: [values.count], payload: values), to: "\(dir)/\(labels)")
    }

    /// Asserts that loading the train split throws a DatasetError naming `file` and containing `words`.
    func assertFails(naming file: String, _ words: String..., line: UInt = #line) {
        XCTAssertThrowsError(try IDXLoader.load(directory: dir, split: .train), line: line) { error in
            guard let error = error as? DatasetError else {
                return XCTFail("not a DatasetError: \(error)", line: line)
            }
            let message = error.description
            XCTAssertTrue(message.contains(file), "\(message) does not name \(file)", line: line)
            XCTAssertFalse(message.contains("\n"), line: line)
            for word in words {
                XCTAssertTrue(message.contains(word), "\(message) does not say \(word)", line: line)
            }
        }
    }

    func testValidFilesLoad() throws {
        let data = try IDXLoader.load(directory: dir, split: .train)
        XCTAssertEqual(data.count, 3)
        XCTAssertEqual(data.labels, [0, 9, 4])
        XCTAssertEqual(data.images[1], 1 / 255)
        XCTAssertEqual(data.images[255], 1)
    }

    func testWrongImageMagic() throws {
        try writeImages(magic: 0x801, dims: [3, 28, 28])
        assertFails(naming: images, "0x00000801", "0x00000803")
    }

    func testWrongLabelMagic() throws {
        try writeLabels([0, 9, 4], magic: 0x0803)
        assertFails(naming: labels, "0x00000803", "0x00000801")
    }

    func testTruncatedHeader() throws {
        try write(Array(idxBytes(magic: 0x803, dims: [3, 28, 28], payload: [])[..<10]), to: "\(dir)/\(images)")
        assertFails(naming: images, "truncated header", "16", "10")
    }

    func testTooShortForMagic() throws {
        try write([0, 0], to: "\(dir)/\(labels)")
        assertFails(naming: labels, "truncated header", "8", "2")
    }

    func testTruncatedImageData() throws {
        try writeImages(magic: 0x803, dims: [3, 28, 28], payloadCount: 2000)
        assertFails(naming: images, "truncated data", "2352", "2000")
    }

    func testTruncatedLabelData() throws {
        try write(idxBytes(magic: 0x801, dims: [3], payload: [1]), to: "\(dir)/\(labels)")
        assertFails(naming: labels, "truncated data", "3", "1")
    }

    func testTrailingData() throws {
        try writeImages(magic: 0x803, dims: [3, 28, 28], payloadCount: 3 * 784 + 5)
        assertFails(naming: images, "unexpected data")
    }

    func testMismatchedCounts() throws {
        try writeLabels([0, 9])
        assertFails(naming: labels, "2 labels", "3 images")
    }

    func testAnyLabelByteIsAClass() throws {
        // The class count comes from the data (the largest label + 1); the models must match it.
        try writeLabels([0, 17, 4])
        XCTAssertEqual(try IDXLoader.load(directory: dir, split: .train).classes, 18)
    }

    func testMissingLabelFile() throws {
        try FileManager.default.removeItem(atPath: "\(dir)/\(labels)")
        assertFails(naming: labels, "not found", "\(labels).gz")
    }

    func testMissingDirectory() throws {
        try FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        assertFails(naming: images, "not found", "\(images).gz")
    }

    func testImagesOfAnyShapeLoad() throws {
        try writeImages(magic: 0x803, dims: [3, 32, 20])
        var data = try IDXLoader.load(directory: dir, split: .train)
        XCTAssertEqual(data.sampleShape, [32, 20, 1])
        // N x H x W x C, channels last as Keras keeps them.
        try write(idxBytes(magic: 0x804, dims: [3, 4, 5, 3], payload: (0..<180).map { UInt8($0) }), to: "\(dir)/\(images)")
        data = try IDXLoader.load(directory: dir, split: .train)
        XCTAssertEqual(data.sampleShape, [4, 5, 3])
        XCTAssertEqual(data.images[62], 62 / 255, "sample 1, pixel 0, channel 2")
        XCTAssertEqual(data.labels, [0, 9, 4])
    }

    func testImagesWithAZeroSide() throws {
        try writeImages(magic: 0x803, dims: [3, 0, 28])
        assertFails(naming: images, "0 x 28 x 1", "at least 1")
    }

    func testImageFileOfRankFiveIsRefused() throws {
        try write(idxBytes(magic: 0x805, dims: [3, 2, 2, 2, 1], payload: Array(repeating: 0, count: 24)), to: "\(dir)/\(images)")
        assertFails(naming: images, "0x00000805", "0x00000803 or 0x00000804")
    }

    func testFilesNamedDirectlyPlainOrGzip() throws {
        let data = try IDXLoader.load(imagesPath: "\(fixtureDirectory)/\(images).gz", labelsPath: "\(fixtureDirectory)/\(labels).gz")
        XCTAssertEqual(data.sampleShape, [28, 28, 1])
        // gzip is recognised by its magic bytes too, whatever the name.
        try write(try readBytes("\(fixtureDirectory)/\(images).gz"), to: "\(dir)/renamed-images")
        XCTAssertEqual(try IDXLoader.load(imagesPath: "\(dir)/renamed-images", labelsPath: "\(fixtureDirectory)/\(labels).gz").count,
                       try IDXLoader.load(directory: fixtureDirectory, split: .train).count)
    }

    func testZeroImages() throws {
        try writeImages(magic: 0x803, dims: [0, 28, 28])
        try writeLabels([])
        assertFails(naming: images, "0 images")
    }

    func testCorruptGzip() throws {
        var bytes = try readBytes("\(fixtureDirectory)/\(labels).gz")
        for i in stride(from: 100, to: 400, by: 7) { bytes[i] ^= 0x5A }
        try FileManager.default.removeItem(atPath: "\(dir)/\(labels)")
        try write(bytes, to: "\(dir)/\(labels).gz")
        assertFails(naming: "\(labels).gz", "corrupt gzip")
    }

    func testCorruptGzipTrailer() throws {
        var bytes = try readBytes("\(fixtureDirectory)/\(labels).gz")
        bytes[bytes.count - 6] ^= 0xFF  // CRC-32, only checked at the end of the stream
        try FileManager.default.removeItem(atPath: "\(dir)/\(labels)")
        try write(bytes, to: "\(dir)/\(labels).gz")
        assertFails(naming: "\(labels).gz", "corrupt gzip")
    }

    func testTruncatedGzip() throws {
        let bytes = try readBytes("\(fixtureDirectory)/\(images).gz")
        try FileManager.default.removeItem(atPath: "\(dir)/\(images)")
        try write(Array(bytes[..<(bytes.count / 2)]), to: "\(dir)/\(images).gz")
        assertFails(naming: "\(images).gz", "corrupt gzip")
    }

    func testPlainDataNamedGz() throws {
        try FileManager.default.moveItem(atPath: "\(dir)/\(images)", toPath: "\(dir)/\(images).gz")
        assertFails(naming: "\(images).gz", "corrupt gzip", "gzip header")
    }
}
