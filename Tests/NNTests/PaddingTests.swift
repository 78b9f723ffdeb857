import NN
import XCTest

/// TensorFlow's SAME/VALID window rule, written out here independently of the library.
enum TFWindow {
    /// SAME: `out = ceil(in / s)`, `padTotal = max((out - 1) * s + k - in, 0)`, before = floor(total / 2).
    static func same(input: Int, kernel: Int, stride: Int) -> (output: Int, before: Int, after: Int) {
        let output = Int((Double(input) / Double(stride)).rounded(.up))
        let total = max((output - 1) * stride + kernel - input, 0)
        return (output, total / 2, total - total / 2)
    }

    /// VALID: the number of window positions that fit, `ceil((in - k + 1) / s)`, or 0.
    static func valid(input: Int, kernel: Int, stride: Int) -> Int {
        input < kernel ? 0 : Int((Double(input - kernel + 1) / Double(stride)).rounded(.up))
    }
}

final class PaddingTests: XCTestCase {
    private func same(_ input: Int, _ kernel: Int, _ stride: Int) -> (Int, Int) {
        let r = Padding.same.window(input: input, kernel: kernel, stride: stride)
        return (r.output, r.padBefore)
    }

    func testSameCasesFromTheModels() {
        // 28x28, k3, s2 (first conv): 14 out, padTotal 1 -> 0 before, 1 after (bottom/right).
        XCTAssertTrue(same(28, 3, 2) == (14, 0))
        XCTAssertTrue(TFWindow.same(input: 28, kernel: 3, stride: 2) == (14, 0, 1))
        // 14x14, k2, s1 (pooling): 14 out, padTotal 1 -> 0 before, 1 after.
        XCTAssertTrue(same(14, 2, 1) == (14, 0))
        XCTAssertTrue(TFWindow.same(input: 14, kernel: 2, stride: 1) == (14, 0, 1))
        // 14x14, k3, s2 (second conv): 7 out, padTotal 1.
        XCTAssertTrue(same(14, 3, 2) == (7, 0))
        // 7, k3, s2: out ceil(3.5) = 4, padTotal (4-1)*2+3-7 = 2 -> 1 before, 1 after.
        XCTAssertTrue(same(7, 3, 2) == (4, 1))
        XCTAssertTrue(TFWindow.same(input: 7, kernel: 3, stride: 2) == (4, 1, 1))
    }

    func testSameMoreCases() {
        XCTAssertTrue(same(5, 3, 1) == (5, 1))     // total 2
        XCTAssertTrue(same(4, 3, 2) == (2, 0))     // total 1, all after
        XCTAssertTrue(same(6, 1, 2) == (3, 0))     // total 0
        XCTAssertTrue(same(5, 5, 1) == (5, 2))     // total 4
        XCTAssertTrue(same(6, 4, 2) == (3, 1))     // total (3-1)*2+4-6 = 2
        XCTAssertTrue(same(7, 2, 3) == (3, 0))     // total max(6+2-7, 0) = 1
        XCTAssertTrue(same(2, 5, 1) == (2, 2))     // a window larger than the input: total 4
        XCTAssertTrue(same(1, 1, 1) == (1, 0))
    }

    func testValidCases() {
        func valid(_ i: Int, _ k: Int, _ s: Int) -> (Int, Int) {
            let r = Padding.valid.window(input: i, kernel: k, stride: s)
            return (r.output, r.padBefore)
        }
        XCTAssertTrue(valid(28, 3, 1) == (26, 0))
        XCTAssertTrue(valid(28, 3, 2) == (13, 0))
        XCTAssertTrue(valid(5, 2, 2) == (2, 0))
        XCTAssertTrue(valid(7, 3, 2) == (3, 0))
        XCTAssertTrue(valid(7, 2, 2) == (3, 0))
        XCTAssertTrue(valid(3, 3, 1) == (1, 0))
        XCTAssertTrue(valid(3, 3, 5) == (1, 0))
        XCTAssertTrue(valid(3, 5, 1) == (0, 0))     // does not fit
    }

    func testAgreesWithTensorFlowRuleOnAGrid() {
        for input in 1...13 {
            for kernel in 1...5 {
                for stride in 1...4 {
                    let s = TFWindow.same(input: input, kernel: kernel, stride: stride)
                    let library = Padding.same.window(input: input, kernel: kernel, stride: stride)
                    XCTAssertEqual(library.output, s.output, "same \(input) k\(kernel) s\(stride)")
                    XCTAssertEqual(library.padBefore, s.before, "same \(input) k\(kernel) s\(stride)")
                    let v = Padding.valid.window(input: input, kernel: kernel, stride: stride)
                    XCTAssertEqual(v.output, TFWindow.valid(input: input, kernel: kernel, stride: stride),
                                   "valid \(input) k\(kernel) s\(stride)")
                    XCTAssertEqual(v.padBefore, 0)
                }
            }
        }
    }
}
