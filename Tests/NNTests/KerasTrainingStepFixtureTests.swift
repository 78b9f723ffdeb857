import Foundation
import NN
import XCTest

/// One training step of the keras-graph fixtures against Keras's own, without Keras. `<name>-step.json` (made by
/// scripts/make-graph-fixtures.py) holds, for the model with the formula's weights and `<name>-io.json`'s four inputs
/// labelled 3, 1, 4, 1, Keras's training-mode step computed in float64: the mean SparseCategoricalCrossentropy of the
/// logits, each trainable weight's gradient and each moving statistic the step moved (BatchNormalization's, from the
/// batch's statistics), each as a digest (its norm, and its projection on a unit probe vector made by the weight
/// formula from "<layer>.<weight>/probe"), with how far Keras's own float32 steps lie from it (the farthest of four
/// batch orders: the same step, summed in other orders). Every Dropout's rate is 0 on both sides (and every
/// SpatialDropout2D's, GaussianDropout's and GaussianNoise's): their masks and noise are random draws no two
/// implementations share.
///
/// The inference fixtures test the forward pass; this tests what training adds: batch statistics, every layer's
/// backward pass composed through the whole graph, the fan-out sums, the loss's gradient, the moving averages.
final class KerasTrainingStepFixtureTests: XCTestCase {
    /// How many times Keras's own float32 error a digest may lie from Keras's float64 step.
    static let factor = 32.0

    /// The option that makes each random training-time layer the identity, set to 0 on both sides.
    static let noiseOptions = ["Dropout": "rate", "SpatialDropout2D": "rate", "GaussianDropout": "rate", "GaussianNoise": "stddev"]

    /// `json` with every Dropout's (and SpatialDropout2D's, GaussianDropout's) rate and GaussianNoise's stddev 0, nested models included.
    private func withoutNoise(_ json: JSONValue) -> JSONValue {
        switch json {
        case .array(let values): return .array(values.map(withoutNoise))
        case .object(var members):
            if let option = members["class_name"]?.string.flatMap({ Self.noiseOptions[$0] }), case .object(var config)? = members["config"] {
                config[option] = .number(0)
                members["config"] = .object(config)
            }
            return .object(members.mapValues(withoutNoise))
        default: return json
        }
    }

    /// A weight's digest as the script computes it: its norm, and its projection on the unit probe vector.
    private func digest(_ name: String, _ values: UnsafePointer<Float>, count: Int) -> (norm: Double, probe: Double) {
        let u = KerasGraphFixtureTests.uniform("\(name)/probe", count: count)
        let length = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var (squares, projection) = (0.0, 0.0)
        for i in 0..<count {
            squares += Double(values[i]) * Double(values[i])
            projection += Double(values[i]) * u[i] / length
        }
        return (squares.squareRoot(), projection)
    }

    /// Runs the step and compares the loss and each digest with Keras's float64 step, within `factor` times Keras's own
    /// float32 error on it: as close to the exact step as Keras's float32 steps are, within that factor. A gradient that
    /// is zero exactly (a bias before BatchNormalization subtracts its mean) is float noise on both sides, and its bound too.
    func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = KerasGraphFixtureTests.directory
        let step = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("\(name)-step.json")))
                                 as? [String: Any])
        let json = try JSONValue.parse(Array(Data(contentsOf: directory.appendingPathComponent("\(name).json"))), source: name)
        let model = try KerasGraphFixtureTests.formulaModel(name, json: Array(withoutNoise(json).text.utf8))
        let (input, shape) = try KerasGraphFixtureTests.inputs(name)
        let labels = try XCTUnwrap(step["labels"] as? [Int]).map(Int32.init), batch = shape[0]
        XCTAssertEqual(labels.count, batch, file: file, line: line)
        let gradients = try XCTUnwrap(step["gradients"] as? [[String: Any]]), state = try XCTUnwrap(step["state"] as? [[String: Any]])
        XCTAssertFalse(gradients.isEmpty, "\(name): no gradient on record", file: file, line: line)
        // The weights Keras neither differentiates nor moves (Normalization's adapt weights), with their values before the step.
        let recorded = Set((gradients + state).compactMap { $0["name"] as? String })
        let unmoved = model.parameters.entries.filter { !recorded.contains($0.name) }
            .map { ($0, Array(UnsafeBufferPointer(start: model.parameters.values.pointer + $0.offset, count: $0.count))) }

        model.reserve(maxBatch: batch)
        model.parameters.zeroGradients()
        let pass = TrainingPass(seed: 1, step: 0, sampleIDs: Array(0..<batch)[...], reducer: BatchNormalizationTests.Alone())
        let gradient = FloatBuffer(count: batch * model.outputSize)
        let loss = input.withUnsafeBufferPointer { x in
            let logits = model.forward(x.baseAddress!, batch: batch, training: pass)
            let sum = labels.withUnsafeBufferPointer {
                SparseCategoricalCrossentropy()(logits: logits, labels: $0.baseAddress!, rows: batch, classes: model.outputSize,
                                                gradient: gradient.pointer, scale: 1 / Float(batch))
            }
            model.backward(x.baseAddress!, outputGradient: gradient.pointer, batch: batch)
            return sum / Double(batch)
        }
        let (kerasLoss, lossError) = (try XCTUnwrap(step["loss"] as? Double), try XCTUnwrap(step["loss_float32_error"] as? Double))
        XCTAssertEqual(loss, kerasLoss, accuracy: Self.factor * lossError + 0x1p-22 * abs(kerasLoss), "\(name): loss (Keras's float32 error \(lossError))",
                       file: file, line: line)

        let entries = Dictionary(uniqueKeysWithValues: model.parameters.entries.map { ($0.name, $0) })
        var ratios: [(ratio: Double, what: String)] = []
        for (records, buffer) in [(gradients, model.parameters.gradients.pointer), (state, model.parameters.values.pointer)] {
            for record in records {
                let weight = try XCTUnwrap(record["name"] as? String)
                guard let entry = entries[weight] else { XCTFail("\(name): no parameter \(weight)", file: file, line: line); continue }
                let ours = digest(weight, buffer + entry.offset, count: entry.count)
                let error = (record["float32_error"] as! NSNumber).doubleValue
                // A float32 value is at best its exact value rounded: a few units in the last place of the norm always pass.
                let bound = Self.factor * error + 0x1p-22 * (record["norm"] as! NSNumber).doubleValue
                for (what, value, keras) in [("norm", ours.norm, record["norm"]), ("probe", ours.probe, record["probe"])] {
                    let difference = abs(value - (keras as! NSNumber).doubleValue)
                    XCTAssertLessThanOrEqual(difference, bound,
                                             "\(name) \(weight) \(what): \(value) vs Keras's \(keras!) (its float32 error \(error))",
                                             file: file, line: line)
                    ratios.append((difference / bound, "\(weight) \(what)"))
                }
            }
        }
        // Those keep their values and get no gradient.
        for (entry, before) in unmoved {
            for i in 0..<entry.count {
                XCTAssertEqual(model.parameters.values.pointer[entry.offset + i], before[i], "\(name) \(entry.name)", file: file, line: line)
                XCTAssertEqual(model.parameters.gradients.pointer[entry.offset + i], 0, "\(name) \(entry.name)", file: file, line: line)
            }
        }
        guard !ratios.isEmpty else { return }
        ratios.sort { $0.ratio < $1.ratio }
        let worst = ratios[ratios.count - 1]
        print("\(name): training step, loss \(loss); \(gradients.count) gradients and \(state.count) moving statistics; digest differences "
              + "as shares of their bounds: median \(String(format: "%.2f", ratios[ratios.count / 2].ratio)), 99th percentile "
              + "\(String(format: "%.2f", ratios[ratios.count * 99 / 100].ratio)), largest \(String(format: "%.2f", worst.ratio)) (\(worst.what))")
    }

    func testResidualNetwork() throws { try check("residual") }
    func testMobileNetLikeNetwork() throws { try check("mobilenet-like") }
    func testKerasApplicationsMobileNetV2() throws { try check("mobilenetv2") }
    func testKerasApplicationsResNet50V2() throws { try check("resnet50v2") }
    func testKerasApplicationsMobileNetV3Small() throws { try check("mobilenetv3small") }
    func testKerasApplicationsNASNetMobile() throws { try check("nasnetmobile") }
    func testKerasApplicationsResNet50() throws { try check("resnet50") }
    func testGroupedConvolutions() throws { try check("grouped") }
    func testKerasApplicationsEfficientNetB0() throws { try check("efficientnetb0") }
    func testKerasApplicationsEfficientNetV2B0() throws { try check("efficientnetv2b0") }
    func testKerasApplicationsConvNeXtTiny() throws { try check("convnexttiny") }
    func testSequentialOfTheNewLayers() throws { try check("sequential-new-layers") }
    func testKerasApplicationsInceptionResNetV2() throws { try check("inceptionresnetv2") }
    func testKerasApplicationsMobileNet() throws { try check("mobilenet") }
    func testKerasApplicationsDenseNet121() throws { try check("densenet121") }
    func testKerasApplicationsXception() throws { try check("xception") }
    func testKerasApplicationsInceptionV3() throws { try check("inceptionv3") }
    func testMoreLayers() throws { try check("more-layers") }
}
