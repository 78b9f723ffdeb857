import ArgumentParser
import Distill
import Foundation
import NN   // OpenBLASGEMM to load a checkpoint: a summary multiplies nothing, so the backend that plans nothing

/// Prints a model's layers, as Keras's `model.summary()` does.
struct Summary: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's layers: output shape, parameters and forward FLOPs per sample (a Keras JSON or a checkpoint).")

    @Argument(help: ArgumentHelp("A Keras model JSON (model.to_json()) or a swift-distill checkpoint (.safetensors).", valueName: "model"))
    var model: String

    func run() throws {
        do {
            let description = model.hasSuffix(".json")
                ? try ModelDescription(contentsOfFile: model)
                : try Checkpoint.load(from: model, gemm: OpenBLASGEMM()).description
            print(Self.table(try ModelSummary(description)))
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }

    static func table(_ summary: ModelSummary) -> String {
        func shape(_ s: [Int]) -> String { "(" + (["None"] + s.map(String.init)).joined(separator: ", ") + ")" }
        let connections = !summary.isChain   // Keras's "Connected to", for a graph
        var lines = ["Model: \"\(summary.name)\", input \(shape(summary.inputShape))", "",
                     "| layer (kind) | output shape | parameters | forward FLOPs per sample |" + (connections ? " connected to |" : ""),
                     "|---|---|---:|---:|" + (connections ? "---|" : "")]
        for row in summary.rows {
            lines.append("| \(row.name) (\(row.kind)) | \(shape(row.outputShape)) | \(row.parameters) | \(row.forwardFLOPs) |"
                + (connections ? " \(row.connectedTo.joined(separator: ", ")) |" : ""))
        }
        lines += ["", "parameters: \(summary.parameters)", "forward FLOPs per sample: \(summary.forwardFLOPs)",
                  "training FLOPs per sample (forward and gradients): \(summary.trainingFLOPs)"]
        return lines.joined(separator: "\n")
    }
}
