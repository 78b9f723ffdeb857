import CKernels
@testable import Distill
import Foundation
import XCTest

/// bench's FMA-peak yardstick: the loop runs the instruction set the CPU has, performs the
/// multiply-adds it reports (each accumulator's acc * 0.5 + 0.5 goes from its start value to 1, so
/// the sum shows every one was updated as many times as counted), and a timed measurement gives a
/// positive rate. No speed is asserted: these machines are shared.
final class MultiplyAddPeakTests: XCTestCase {
    private var cpuFlags: Set<Substring> {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let line = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
        return Set(line.split(separator: " "))
    }

    func testTheLoopUsesTheWidestVectorsTheCPUHas() {
        var isa: UnsafePointer<CChar>?
        var sum: Float = 0
        _ = distill_multiply_add_loop(1, &isa, &sum)
        let flags = cpuFlags
        let expected = flags.contains("avx512f") ? "avx512f" : flags.contains("avx2") && flags.contains("fma") ? "avx2+fma" : "sse2"
        XCTAssertEqual(isa.map { String(cString: $0) }, expected)
    }

    func testTheLoopDoesTheMultiplyAddsItCounts() {
        var sum: Float = 0
        // Zero iterations: the start values 2, 3, ... in every lane, untouched.
        XCTAssertEqual(distill_multiply_add_loop(0, nil, &sum), 0)
        let perIteration = distill_multiply_add_loop(1, nil, &sum)
        let (lanes, accumulators): (Double, Double) = perIteration == 384 ? (16, 24) : perIteration == 96 ? (8, 12) : (4, 12)
        XCTAssertEqual(perIteration, lanes * accumulators)
        // One iteration: every start value s becomes s / 2 + 1/2.
        let startValues: [Double] = (0..<Int(accumulators)).map { Double($0 + 2) }
        let once: Double = lanes * startValues.map { $0 * 0.5 + 0.5 }.reduce(0, +)
        XCTAssertEqual(Double(sum), once, accuracy: 1e-3)
        // Many: every accumulator has reached 1 (the error halves each time).
        XCTAssertEqual(distill_multiply_add_loop(100, nil, &sum), 100 * perIteration)
        XCTAssertEqual(Double(sum), lanes * accumulators)
    }

    func testAMeasurementIsAPositiveRateOfTheSameLoop() {
        let peak = MultiplyAddPeak.measure(seconds: 0.01)
        XCTAssertGreaterThan(peak.gflopsPerThread, 0)
        XCTAssertTrue(peak.description.hasPrefix(fixed(peak.gflopsPerThread, 1) + " GFLOPS per thread (\(peak.instructionSet) "), peak.description)
    }
}
