import NN
import XCTest

/// Keras's `VarianceScaling` (EfficientNet's kernels: scale 2, fan_out, truncated normal; its classifier: scale 1/3,
/// fan_out, uniform), the names that are VarianceScaling with fixed options (LecunNormal, LecunUniform,
/// GlorotNormal) and `Constant`: read from a model description, and the drawn kernels' distribution against
/// Keras's definition: `s = scale / max(1, fan)`, a normal truncated at two deviations of `sqrt(s) / 0.8796...`
/// (whose values have deviation `sqrt(s)`), a normal of deviation `sqrt(s)`, or uniform in `+-sqrt(3 s)`.
final class VarianceScalingTests: XCTestCase {
    private func varianceScaling(_ options: String) -> String {
        #"{"module": "keras.initializers", "class_name": "VarianceScaling", "config": {"seed": null, \#(options), "input_axes": null, "output_axes": null}}"#
    }

    func testEfficientNetsConvolutionKernelIsATruncatedNormalOverFanOut() throws {
        let (values, initializer, _) = try drawnKernel(varianceScaling(#""scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal""#))
        XCTAssertEqual(initializer, .varianceScaling(scale: 2, mode: .fanOut, distribution: .truncatedNormal))
        let target = (2.0 / 1152).squareRoot(), cut = 2 * target / 0.87962566103423978
        XCTAssertEqual(moments(values).deviation, target, accuracy: 0.01 * target)
        XCTAssertLessThanOrEqual(Double(values.map { abs($0) }.max()!), cut * (1 + 1e-6), "truncated at two deviations")
        XCTAssertGreaterThan(Double(values.map { abs($0) }.max()!), 0.98 * cut)
        let inside = Double(values.filter { Double(abs($0)) <= cut / 2 }.count) / Double(values.count)
        XCTAssertEqual(inside, 0.6827 / 0.9545, accuracy: 0.01, "a normal truncated at 2 keeps 71.5% within one deviation")
    }

    func testUniformAndUntruncatedNormalAndFanAverage() throws {
        let uniform = try drawnKernel(varianceScaling(#""scale": 0.3333333333333333, "mode": "fan_out", "distribution": "uniform""#)).values
        let limit = (3 * (1.0 / 3) / 1152).squareRoot()
        XCTAssertLessThanOrEqual(Double(uniform.map { abs($0) }.max()!), limit)
        XCTAssertGreaterThan(Double(uniform.map { abs($0) }.max()!), 0.99 * limit)
        XCTAssertEqual(moments(uniform).deviation, limit / 3.0.squareRoot(), accuracy: 0.01 * limit)

        let normal = try drawnKernel(varianceScaling(#""scale": 1.0, "mode": "fan_avg", "distribution": "untruncated_normal""#)).values
        let target = (1.0 / 864).squareRoot()   // fan_avg = (576 + 1152) / 2
        XCTAssertEqual(moments(normal).deviation, target, accuracy: 0.01 * target)
        XCTAssertGreaterThan(Double(normal.map { abs($0) }.max()!), 3.5 * target, "not truncated: 73,728 draws pass 3.5 deviations")
    }

    func testKerasDefaultsAndTheNamesThatAreVarianceScaling() throws {
        XCTAssertEqual(try drawnKernel(#"{"class_name": "VarianceScaling", "config": {}}"#).initializer,
                       .varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal))
        XCTAssertEqual(try drawnKernel(#""variance_scaling""#).initializer, .varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal))
        XCTAssertEqual(try drawnKernel(varianceScaling(#""distribution": "normal""#)).initializer,
                       .varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal), "Keras reads normal as truncated")
        XCTAssertEqual(try drawnKernel(#""lecun_normal""#).initializer, .varianceScaling(scale: 1, mode: .fanIn, distribution: .truncatedNormal))
        XCTAssertEqual(try drawnKernel(#"{"class_name": "LecunUniform", "config": {"seed": null}}"#).initializer,
                       .varianceScaling(scale: 1, mode: .fanIn, distribution: .uniform))
        XCTAssertEqual(try drawnKernel(#""glorot_normal""#).initializer, .varianceScaling(scale: 1, mode: .fanAverage, distribution: .truncatedNormal))
        let lecun = try drawnKernel(#""lecun_normal""#).values
        XCTAssertEqual(moments(lecun).deviation, (1.0 / 576).squareRoot(), accuracy: 0.01 * (1.0 / 576).squareRoot())
    }

    func testConstantFillsEveryValue() throws {
        let (values, initializer, _) = try drawnKernel(#"{"class_name": "Constant", "config": {"value": 0.25}}"#)
        XCTAssertEqual(initializer, .constant(0.25))
        XCTAssertEqual(Set(values), [0.25])
        XCTAssertEqual(try drawnKernel(#""constant""#).initializer, .constant(0), "Keras's default value")
    }

    func testTheSameSeedDrawsTheSameValues() throws {
        let options = varianceScaling(#""scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal""#)
        XCTAssertEqual(try drawnKernel(options).values, try drawnKernel(options).values)
    }

    func testMalformedOptionsAreOneLineErrors() {
        func refused(_ initializer: String, _ words: String..., line: UInt = #line) {
            let layer = KerasModel.layer("Conv2D", "c", #""filters": 2, "kernel_size": [3, 3], "kernel_initializer": \#(initializer)"#)
            XCTAssertThrowsError(try KerasModel.build([layer], input: "[null, 5, 5, 1]"), line: line) { error in
                for word in ["'c' (Conv2D)", "kernel_initializer"] + words {
                    XCTAssertTrue("\(error)".contains(word), "'\(error)' should contain '\(word)'", line: line)
                }
                XCTAssertFalse("\(error)".contains("\n"), line: line)
            }
        }
        refused(varianceScaling(#""mode": "fan_sum""#), "mode", "fan_sum", "fan_in, fan_out, fan_avg")
        refused(varianceScaling(#""mode": 3"#), "mode", "fan_in")
        refused(varianceScaling(#""distribution": "cauchy""#), "distribution", "cauchy", "truncated_normal")
        refused(varianceScaling(#""scale": 0"#), "scale 0", "> 0")
        refused(varianceScaling(#""scale": -2.0"#), "scale -2", "> 0")
        refused(varianceScaling(#""scale": "big""#), "scale", "big")
        refused(#"{"class_name": "VarianceScaling", "config": {"input_axes": [0]}}"#, "input_axes", "only null")
        refused(#"{"class_name": "VarianceScaling", "config": {"scael": 2.0}}"#, "scael", "known")
        refused(#"{"class_name": "Constant", "config": {"value": [1, 2]}}"#, "Constant", "value", "one number")
        refused(#"{"class_name": "Constant", "config": {"value": null}}"#, "Constant", "value")
        refused(#""orthogonal""#, "orthogonal", "VarianceScaling", "Constant")
    }
}
