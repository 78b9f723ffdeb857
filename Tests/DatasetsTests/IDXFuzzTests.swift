import Datasets
import Foundation
import TestSupport
import XCTest

/// Seeded fuzzing of `IDXLoader.load`: every input, plain or gzip, loads or throws a
/// `DatasetError` naming one of its files. Most inputs are valid files with one field made wrong,
/// so they get past the header into the dims, data and label checks.
final class IDXFuzzTests: XCTestCase {
    static let imagesName = "train-images-idx3-ubyte"
    static let labelsName = "train-labels-idx1-ubyte"

    /// The stage a `DatasetError` reason belongs to, first match wins; a load is "loaded".
    static let rules: [(stage: String, words: [String])] = [
        ("gzip", ["corrupt gzip"]),
        ("magic", ["wrong magic"]),
        ("header", ["truncated header"]),
        ("dims", ["are too large"]),
        ("data", ["truncated data"]),
        ("trailing", ["unexpected data after"]),
        ("size", ["every dimension must be at least 1"]),
        ("empty", ["holds 0 images"]),
        ("count mismatch", ["labels but"]),
        ("missing", ["not found"]),
        ("not a file", ["not a regular file"]),
    ]
    /// Stages reached only after a whole header was read.
    static let pastHeader = ["dims", "data", "trailing", "size", "empty", "count mismatch", "loaded"]

    func testPlainIDX() throws {
        var rng = FuzzRandom(seed: 0x1D_0001)
        var mutator = Mutator(seed: 0x1D_0002)
        var cases: [IDXFuzzCase] = []
        for _ in 0..<440 { cases.append(IDXSpec.randomCase(&rng)) }
        let seeds = (0..<6).map { _ in IDXSpec.valid(&rng).files() }
        for _ in 0..<240 { cases.append(mutatedCase(rng.pick(seeds), among: seeds, &mutator, focus: true)) }
        try fuzz(cases, gzip: false, title: "IDX plain")
    }

    func testGzipIDX() throws {
        var rng = FuzzRandom(seed: 0x1D_0003)
        var mutator = Mutator(seed: 0x1D_0004)
        // Structure-aware: valid gzip around a structurally wrong (or valid) IDX file.
        var plain: [IDXFuzzCase] = []
        for _ in 0..<380 { plain.append(IDXSpec.randomCase(&rng)) }
        // Valid seeds to mutate after compression, and ones to split into two gzip members.
        let seeds = (0..<8).map { _ in IDXSpec.valid(&rng).files() }

        var originals: [[UInt8]] = []
        for c in plain { originals += [c.files.images ?? [], c.files.labels ?? []] }
        for s in seeds { originals += [s.images!, s.labels!] }
        let splits = seeds.map { s in (rng.inRange(1...(s.images!.count - 1)), rng.inRange(1...(s.labels!.count - 1))) }
        for (s, (i, l)) in zip(seeds, splits) {
            originals += [Array(s.images![..<i]), Array(s.images![i...]), Array(s.labels![..<l]), Array(s.labels![l...])]
        }
        let packed = try gzipAll(originals)

        var cases: [IDXFuzzCase] = []
        var next = 0
        func take() -> [UInt8] {
            defer { next += 1 }
            return packed[next]
        }
        for c in plain {
            let (images, labels) = (take(), take())
            cases.append(IDXFuzzCase(files: IDXFiles(images: c.files.images == nil ? nil : images,
                                                  labels: c.files.labels == nil ? nil : labels),
                                  expected: c.expected, kind: c.kind, mustFail: c.mustFail))
        }
        let gzSeeds = seeds.map { _ in IDXFiles(images: take(), labels: take()) }
        for s in seeds {
            // Two gzip members one after the other: zlib reads them as one stream.
            let images = take() + take(), labels = take() + take()
            cases.append(IDXFuzzCase(files: IDXFiles(images: images, labels: labels), expected: s, kind: "two members"))
        }
        // Byte mutations of the compressed files, mostly in the gzip header and trailer.
        for _ in 0..<260 { cases.append(mutatedCase(rng.pick(gzSeeds), among: gzSeeds, &mutator, focus: false)) }
        // Plain IDX data under a .gz name.
        for s in seeds { cases.append(IDXFuzzCase(files: s, expected: nil, kind: "plain named gz", mustFail: true)) }
        // Junk after a complete gzip stream: zlib ignores it unless it starts like another member.
        for s in gzSeeds {
            let junk = rng.bytes(rng.inRange(1...32))
            cases.append(IDXFuzzCase(files: IDXFiles(images: s.images! + junk, labels: s.labels), expected: nil, kind: "junk after gzip"))
        }
        try fuzz(cases, gzip: true, title: "IDX gzip")
    }

    // MARK: Running

    /// Loads every case from its own directory, checks the outcome and prints the stage tally.
    func fuzz(_ cases: [IDXFuzzCase], gzip: Bool, title: String) throws {
        let start = Date()
        var stages = FuzzStages()
        var problems: [String] = []
        var loadedByKind: [String: Int] = [:]
        for (index, c) in cases.enumerated() {
            let dir = try makeTemporaryDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let suffix = gzip ? ".gz" : ""
            if let images = c.files.images { try write(images, to: "\(dir)/\(Self.imagesName)\(suffix)") }
            if let labels = c.files.labels { try write(labels, to: "\(dir)/\(Self.labelsName)\(suffix)") }

            let label = "case \(index) (\(c.kind))"
            do {
                let data = try IDXLoader.load(directory: dir, split: .train)
                stages.record("loaded")
                loadedByKind[c.kind, default: 0] += 1
                problems += Self.check(data, label)
                if c.mustFail { problems.append("\(label): loaded, but the files are invalid") }
                if let expected = c.expected, let want = expected.decoded, data.labels != want.labels || data.images != want.images {
                    problems.append("\(label): loaded different samples than the files hold")
                }
            } catch let error as DatasetError {
                stages.record(FuzzStages.stage(of: error.reason, Self.rules))
                if c.expected != nil { problems.append("\(label): valid files failed: \(error)") }
                if !error.path.hasPrefix(dir + "/") { problems.append("\(label): error names \(error.path), not a file of \(dir)") }
                if error.description.contains("\n") { problems.append("\(label): message spans lines: \(error)") }
            } catch {
                stages.record("wrong error type")
                problems.append("\(label): \(type(of: error)) thrown, expected DatasetError: \(error)")
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print(stages.report("\(title) fuzz") + String(format: "\n  time: %.2f s", seconds))
        for kind in ["two members", "junk after gzip"] where cases.contains(where: { $0.kind == kind }) {
            print("  \(kind): \(loadedByKind[kind, default: 0]) of \(cases.filter { $0.kind == kind }.count) loaded")
        }
        for problem in problems.prefix(10) { XCTFail(problem) }
        XCTAssertEqual(problems.count, 0, "\(problems.count) problems")
        XCTAssertGreaterThanOrEqual(stages.total, 500)
        XCTAssertGreaterThanOrEqual(stages.fraction(Self.pastHeader), 0.3, "too few inputs got past the header")
        XCTAssertEqual(stages.counts["other", default: 0], 0, "unclassified errors")
    }

    /// What any successful load must satisfy, whatever the input.
    static func check(_ data: LabeledImages, _ label: String) -> [String] {
        var problems: [String] = []
        if data.count < 1 || data.labels.count != data.count { problems.append("\(label): loaded \(data.count) samples, \(data.labels.count) labels") }
        if data.height < 1 || data.width < 1 || data.channels < 1 { problems.append("\(label): loaded \(data.sampleShape) images") }
        if data.images.count != data.count * data.sampleSize { problems.append("\(label): loaded \(data.images.count) pixels for \(data.count) images") }
        if data.labels.contains(where: { !(0...255).contains($0) }) { problems.append("\(label): loaded a label outside 0...255") }
        if data.images.contains(where: { !(0...1).contains($0) }) { problems.append("\(label): loaded a pixel outside 0...1") }
        return problems
    }

    /// A byte mutation of one or both files of `seed`; `focus` aims half the changes at the IDX headers.
    func mutatedCase(_ seed: IDXFiles, among seeds: [IDXFiles], _ mutator: inout Mutator, focus: Bool) -> IDXFuzzCase {
        let donors = seeds.flatMap { [$0.images!, $0.labels!] }
        var files = seed
        let which = mutator.rng.below(10)  // 0..5 images, 6..8 labels, 9 both
        if which <= 5 || which == 9 {
            let bytes = seed.images!
            let regions = focus ? [0..<16] : [0..<10, bytes.count - 8 ..< bytes.count]
            files.images = mutator.mutate(bytes, donors: donors, focus: regions)
        }
        if which >= 6 {
            let bytes = seed.labels!
            let regions = focus ? [0..<8] : [0..<10, bytes.count - 8 ..< bytes.count]
            files.labels = mutator.mutate(bytes, donors: donors, focus: regions)
        }
        return IDXFuzzCase(files: files, expected: nil, kind: "byte mutation")
    }

    /// Each file gzipped by `gzip -n` (one process for all of them), in order.
    func gzipAll(_ files: [[UInt8]]) throws -> [[UInt8]] {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let paths = files.indices.map { "\(dir)/f\($0)" }
        for (bytes, path) in zip(files, paths) { try write(bytes, to: path) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-n", "-f", "--"] + paths
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "gzip")
        return try paths.map { try readBytes($0 + ".gz") }
    }
}

/// The two files of one input, each nil when left out.
struct IDXFiles {
    var images: [UInt8]?
    var labels: [UInt8]?

    /// What a correct loader returns for these files when they are valid plain IDX.
    var decoded: (images: [Float], labels: [Int32])? {
        guard let images, let labels, images.count >= 16, labels.count >= 8 else { return nil }
        return (images[16...].map { Float($0) / 255 }, labels[8...].map { Int32($0) })
    }
}

/// One fuzz input. `expected`: the valid plain files it must load as, if any; `mustFail`: it is invalid.
struct IDXFuzzCase {
    var files: IDXFiles
    var expected: IDXFiles?
    var kind: String
    var mustFail = false
}

/// A pair of IDX files described field by field, so that any field can be made wrong.
struct IDXSpec {
    var imageMagic: UInt32 = 0x803
    var imageDims: [Int]
    var pixels: [UInt8]
    var imageHeaderCut: Int?       // write only this many header bytes
    var labelMagic: UInt32 = 0x801
    var labelDims: [Int]
    var labels: [UInt8]
    var labelHeaderCut: Int?
    var missingImages = false, missingLabels = false

    /// `count` valid 28 x 28 images with labels in 0...9.
    init(count: Int, rng: inout FuzzRandom) {
        imageDims = [count, 28, 28]
        pixels = rng.bytes(count * 784)
        labelDims = [count]
        labels = (0..<count).map { _ in UInt8(rng.below(10)) }
    }

    /// A valid pair of 2 to 6 samples.
    static func valid(_ rng: inout FuzzRandom) -> IDXSpec {
        let count = rng.inRange(2...6)
        return IDXSpec(count: count, rng: &rng)
    }

    func files() -> IDXFiles {
        var images = idxBytes(magic: imageMagic, dims: imageDims, payload: pixels)
        if let cut = imageHeaderCut { images = Array(images[..<cut]) }
        var labelFile = idxBytes(magic: labelMagic, dims: labelDims, payload: labels)
        if let cut = labelHeaderCut { labelFile = Array(labelFile[..<cut]) }
        return IDXFiles(images: missingImages ? nil : images, labels: missingLabels ? nil : labelFile)
    }

    static let imageFaults = ["image magic", "image rank", "zero images", "zero side", "huge dims", "dims overflow",
                              "short images", "trailing images", "cut image header", "missing images"]
    static let labelFaults = ["label magic", "label rank", "label count", "short labels",
                              "trailing labels", "cut label header", "missing labels"]

    /// A valid pair (about 1 in 8), or one with one or two faults, which must then fail to load.
    static func randomCase(_ rng: inout FuzzRandom) -> IDXFuzzCase {
        var spec = valid(&rng)
        let roll = rng.below(100)
        if roll < 12 {
            return IDXFuzzCase(files: spec.files(), expected: spec.files(), kind: "valid")
        }
        // Label faults first: "zero images" may empty the labels, which a label fault then must not index.
        var faults: [String] = []
        if roll >= 60 { faults.append(rng.pick(labelFaults)) }
        if roll < 60 || roll >= 88 { faults.append(rng.pick(imageFaults)) }
        for fault in faults { spec.apply(fault, &rng) }
        return IDXFuzzCase(files: spec.files(), expected: nil, kind: faults.joined(separator: " + "), mustFail: true)
    }

    /// Makes the file invalid in the way `fault` names. Dims stay within UInt32.
    mutating func apply(_ fault: String, _ rng: inout FuzzRandom) {
        let n = imageDims[0]
        switch fault {
        case "image magic":
            imageMagic = rng.pick([0x801, 0x802, 0x805, 0x903, 0xD03, 0xB03, 0, 0x0803_0000, 0x0308, 0xFFFF_FFFF, 0x1_0803])
        case "image rank":
            // Magic still says rank 3: the reader takes a dim from the pixels, or a dim as pixels.
            if rng.chance(0.5) { imageDims.removeLast() } else { imageDims.append(rng.pick([1, 28])) }
        case "zero images":
            imageDims[0] = 0
            pixels = []
            if rng.chance(0.5) { (labelDims, labels) = ([0], []) }
        case "zero side":
            // Images of any size load, but not of none.
            let sides = [0, 1, 2, 28, 32]
            imageDims = rng.chance(0.5) ? [n, 0, rng.pick(sides)] : [n, rng.pick(sides), 0]
            pixels = []
        case "huge dims":
            // The product fits an Int but the data is not there.
            imageDims = rng.pick([[0xFFFF_FFFF, 28, 28], [0x8000_0000, 28, 28], [n, 0xFFFF_FFFF, 28], [n, 28, 0x7FFF_FFFF],
                                  [0x1_0000, 0x1_0000, 0x7FFF], [n + 1, 28, 28], [2 * n, 28, 28]])
        case "dims overflow":
            imageDims = rng.pick([[0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], [0x1_0000, 0x1_0000, 0x8000],
                                  [0xFFFF_FFFF, 0xFFFF_FFFF, 2], [0x8000_0000, 0x8000_0000, 2]])
        case "short images":
            pixels.removeLast(rng.inRange(1...pixels.count))
        case "trailing images":
            pixels += rng.bytes(rng.pick([1, 3, 4, 9, 784]))
        case "cut image header":
            imageHeaderCut = rng.below(16)
        case "missing images":
            missingImages = true
        case "label magic":
            labelMagic = rng.pick([0x803, 0x800, 0x802, 0x901, 0, 0x0801_0000, 0xFFFF_FFFF, 0x0108])
        case "label rank":
            if rng.chance(0.5) { labelDims = [] } else { labelDims.append(1) }
        case "label count":
            var d = rng.inRange(-labels.count...3)
            if d == 0 { d = 1 }
            labelDims = [labels.count + d]
            if d > 0 { labels += (0..<d).map { _ in UInt8(rng.below(10)) } } else { labels.removeLast(-d) }
        case "short labels":
            labels.removeLast(rng.inRange(1...labels.count))
        case "trailing labels":
            labels += (0..<rng.inRange(1...9)).map { _ in UInt8(rng.below(10)) }
        case "cut label header":
            labelHeaderCut = rng.below(8)
        case "missing labels":
            missingLabels = true
        default:
            preconditionFailure("unknown fault \(fault)")
        }
    }
}
