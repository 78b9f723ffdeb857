@testable import NN
import XCTest

/// The backward pass's gradient buffers: two gradients share a buffer only when their live ranges
/// (from the step of the last layer reading the output down to the layer's own step) do not meet,
/// and a buffer is as large as the largest gradient it holds. The values through shared buffers are
/// checked by every gradient test of a model (GraphGradientTests, SequentialGradientTests).
final class GradientBufferPlanTests: XCTestCase {
    private func lastReaders(_ inputs: [[Int]]) -> [Int] {
        inputs.indices.map { layer in inputs.indices.filter { inputs[$0].contains(layer) }.max() ?? -1 }
    }

    private func assertValid(_ plan: GradientBufferPlan, inputs: [[Int]], sizes: [Int], _ message: String = "",
                             file: StaticString = #filePath, line: UInt = #line) {
        let readers = lastReaders(inputs)
        XCTAssertNil(plan.buffers.last!, "the last layer's gradient is the caller's", file: file, line: line)
        for a in 0..<inputs.count - 1 {
            guard let buffer = plan.buffers[a] else { return XCTFail("layer \(a) has no buffer \(message)", file: file, line: line) }
            XCTAssertGreaterThanOrEqual(plan.sizes[buffer], sizes[a], "layer \(a) \(message)", file: file, line: line)
            for b in 0..<a where plan.buffers[b] == buffer {
                // Live over steps lastReader ... layer (the backward walks down): disjoint when one ends above the other's start.
                XCTAssertTrue(b > readers[a] || a > readers[b], "layers \(b) and \(a) share buffer \(buffer) while both live \(message)",
                              file: file, line: line)
            }
        }
    }

    func testAChainTakesTwoBuffersInTurn() {
        let inputs = (0..<6).map { [$0 - 1] }, sizes = [8, 4, 16, 4, 2, 10]
        let plan = GradientBufferPlan(inputs: inputs, sizes: sizes)
        XCTAssertEqual(plan.buffers, [0, 1, 0, 1, 0, nil])   // the first written (layer 4) takes buffer 0
        XCTAssertEqual(plan.sizes, [16, 4])   // layers 4, 2, 0: at most 16; layers 3, 1: 4
        assertValid(plan, inputs: inputs, sizes: sizes)
    }

    /// x = layer 0; layer 1 reads x; layer 2 adds x and layer 1: x's gradient is live through layers 2 and 1.
    func testAResidualInputStaysLiveAcrossTheBranch() {
        let inputs = [[-1], [0], [0, 1], [2]], sizes = [5, 5, 5, 3]
        let plan = GradientBufferPlan(inputs: inputs, sizes: sizes)
        XCTAssertNotEqual(plan.buffers[0], plan.buffers[1])
        XCTAssertNotEqual(plan.buffers[0], plan.buffers[2])
        XCTAssertEqual(plan.sizes.count, 3)
        assertValid(plan, inputs: inputs, sizes: sizes)
    }

    /// A chain 0 -> 1 (BatchNormalization) -> 2 (its fused activation) -> 3 -> 4: layer 1 reads the gradient of
    /// 2's output and writes 0's, so those two must differ, though apart they would share (2's is read at step 2).
    func testAFusedActivationsGradientStaysLiveDownToItsNormalisation() {
        let inputs = (0..<5).map { [$0 - 1] }, sizes = [6, 6, 6, 6, 2]
        XCTAssertEqual(GradientBufferPlan(inputs: inputs, sizes: sizes).buffers, [1, 0, 1, 0, nil])
        let plan = GradientBufferPlan(inputs: inputs, sizes: sizes, readBelow: [2: 1])
        XCTAssertNotEqual(plan.buffers[2], plan.buffers[0])
        XCTAssertNotEqual(plan.buffers[2], plan.buffers[1])
        assertValid(plan, inputs: inputs, sizes: sizes)
    }

    func testAOneLayerModelNeedsNoBuffer() {
        let plan = GradientBufferPlan(inputs: [[-1]], sizes: [7])
        XCTAssertEqual(plan.buffers, [nil])
        XCTAssertEqual(plan.sizes, [])
    }

    /// Random graphs: every layer reads one to three earlier layers (or the input), every layer but the last
    /// is read by a later one, sizes random.
    func testRandomGraphsNeverShareALiveBuffer() {
        var rng = SeededGenerator(seed: 77)
        for trial in 0..<300 {
            let count = 2 + Int(rng.next() % 30)
            var inputs: [[Int]] = []
            for layer in 0..<count {
                let reads = 1 + Int(rng.next() % 3)
                inputs.append((0..<reads).map { _ in Int(rng.next() % UInt64(layer + 1)) - 1 })
            }
            // Every output but the last read by a later layer: the last reads the ones nobody reads.
            for layer in 0..<count - 1 where !inputs[(layer + 1)...].contains(where: { $0.contains(layer) }) {
                inputs[count - 1].append(layer)
            }
            let sizes = (0..<count).map { _ in 1 + Int(rng.next() % 100) }
            let plan = GradientBufferPlan(inputs: inputs, sizes: sizes)
            assertValid(plan, inputs: inputs, sizes: sizes, "in graph \(trial)")
            XCTAssertLessThan(plan.sizes.count, count, "graph \(trial)")
        }
    }
}
