import Distill
import NN
import XCTest

/// The presets are Keras JSON files; built from them, each model is the one the recipe has always
/// trained: the same layers, names, shapes and initial weights as the model assembled in code.
final class PresetModelTests: XCTestCase {
    private let gemm = OpenBLASGEMM()

    /// The Keras example's models as they were written in code before the presets became JSON.
    private func assembled(_ preset: Architecture, _ role: ModelRole) throws -> Sequential {
        let (f1, f2, units) = role == .teacher ? (256, 512, 256) : (16, 32, 32)
        var layers: [Layer] = [
            Conv2D(filters: f1, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: gemm),
            LeakyReLU(alpha: 0.2),
            MaxPooling2D(poolSize: (2, 2), strides: (1, 1), padding: .same),
            Conv2D(filters: f2, kernelSize: (3, 3), strides: (2, 2), padding: .same, gemm: gemm),
            Flatten(),
        ]
        if preset == .hidden { layers += [Dense(units: units, gemm: gemm), LeakyReLU(alpha: 0.2)] }
        layers.append(Dense(units: 10, gemm: gemm))
        return try Sequential(inputShape: [28, 28, 1], layers: layers)
    }

    func testEveryPresetIsTheModelAssembledInCode() throws {
        for preset in Architecture.allCases {
            for role in ModelRole.allCases {
                let fromJSON = try preset.model(role, gemm: gemm)
                let inCode = try assembled(preset, role)
                XCTAssertEqual(fromJSON.layerNames, inCode.layerNames, "\(preset) \(role)")
                XCTAssertEqual(fromJSON.outputShapes, inCode.outputShapes, "\(preset) \(role)")
                XCTAssertEqual(fromJSON.parameters.entries.map(\.name), inCode.parameters.entries.map(\.name))
                XCTAssertEqual(fromJSON.parameters.entries.map(\.shape), inCode.parameters.entries.map(\.shape))
                XCTAssertEqual(zip(fromJSON.layers, inCode.layers).filter { type(of: $0.0) != type(of: $0.1) }.count, 0)
                XCTAssertEqual(fromJSON.description?.name, role.rawValue)
                var first = SeededGenerator(seed: 5), second = SeededGenerator(seed: 5)
                fromJSON.parameters.initialize(using: &first)
                XCTAssertEqual(fromJSON.parameters.values.array, Self.byTensorRank(inCode.parameters, &second), "\(preset) \(role)")
            }
        }
    }

    /// The rule initial weights followed before each layer named its initializers: Glorot-uniform
    /// for every tensor of rank >= 2, zeros for the rest, drawn in entry order.
    static func byTensorRank(_ store: ParameterStore, _ rng: inout SeededGenerator) -> [Float] {
        store.entries.flatMap { entry -> [Float] in
            guard entry.shape.count >= 2 else { return Array(repeating: 0, count: entry.count) }
            let receptive = entry.shape.dropLast(2).reduce(1, *)
            let fans = receptive * (entry.shape[entry.shape.count - 2] + entry.shape[entry.shape.count - 1])
            let limit = Float((6.0 / Double(fans)).squareRoot())
            return (0..<entry.count).map { _ in rng.nextFloat(in: -limit, limit) }
        }
    }

    func testPresetFilesAreTheCompiledOnes() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/Distill/Presets").standardized
        for preset in Architecture.allCases {
            for role in ModelRole.allCases {
                let file = try String(contentsOf: directory.appendingPathComponent("\(preset.rawValue)-\(role.rawValue).json"), encoding: .utf8)
                XCTAssertEqual(preset.description(role).json, file)
                XCTAssertTrue(file.contains("\"class_name\": \"Sequential\""))
            }
        }
    }
}
