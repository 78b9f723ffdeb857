import Foundation
import NN

/// A distillation loss the command line can name (`--loss NAME[:key=value...]`): its parameters and how to make it.
public struct LossKind: Sendable {
    public let schema: SpecificationSchema
    /// Makes the loss from its resolved parameters; `alpha` and `temperature` are the KD mix of
    /// `--alpha` and `--temperature` (and the sweep's axes), for a loss that takes them from there.
    public let make: @Sendable (_ parameters: Specification.Resolved, _ alpha: Float, _ temperature: Float) -> DistillationObjective
    /// Whether `make` uses `alpha` and `temperature`: the sweep crosses such a loss with its alpha x T lists,
    /// and trains a loss with its own parameters once per seed.
    public let usesMix: Bool

    public init(_ schema: SpecificationSchema, usesMix: Bool = false,
                make: @escaping @Sendable (_ parameters: Specification.Resolved, _ alpha: Float, _ temperature: Float) -> DistillationObjective) {
        (self.schema, self.usesMix, self.make) = (schema, usesMix, make)
    }
}

/// Every distillation loss by name. A new loss is one file (its class and its `LossKind`) and one line in `builtIn`.
public enum LossRegistry {
    public static let builtIn: [LossKind] = [
        .kd, .dkd,
        .dist,
    ]

    /// The loss `RecipeSettings` uses unless told otherwise; settings with it leave it out of their summary.
    public static let defaultName = "kd"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered = builtIn

    /// Adds a loss (a test's, a plug-in's) under a name not yet taken.
    public static func register(_ kind: LossKind) {
        lock.withLock {
            precondition(!registered.contains { $0.schema.name == kind.schema.name }, "loss \(kind.schema.name) is registered twice")
            registered.append(kind)
        }
    }

    public static var kinds: [LossKind] { lock.withLock { registered } }

    /// `text` checked against the registered losses; `flag` starts each message.
    public static func resolve(_ text: String, flag: String = "--loss") throws -> Specification.Resolved {
        try Specification.parse(text, flag: flag, schemas: kinds.map(\.schema))
    }

    /// The temperature the loss `text` softens with: its own `T`, or `temperature` (`--temperature`) for a loss without one;
    /// and whether it z-scores logits (`standardize`).
    public static func softening(_ text: String, temperature: Float) throws -> (temperature: Float, standardizes: Bool) {
        let parameters = try resolve(text)
        return (parameters.values["T"] != nil ? parameters.number("T") : temperature,
                parameters.values["standardize"] != nil && parameters.isOn("standardize"))
    }

    /// Whether the loss `text` names takes `--alpha` and `--temperature` (`LossKind.usesMix`).
    public static func usesMix(_ text: String) throws -> Bool {
        let name = try resolve(text).name
        return kinds.first { $0.schema.name == name }!.usesMix
    }

    /// The loss `text` names, with the KD mix `alpha` and `temperature`.
    public static func make(_ text: String, alpha: Float, temperature: Float) throws -> DistillationObjective {
        let parameters = try resolve(text)
        let kind = kinds.first { $0.schema.name == parameters.name }!
        return kind.make(parameters, alpha, temperature)
    }
}

extension LossKind {
    /// Hinton et al.'s and the Keras recipe's: `alpha * CE + (1 - alpha) * T^2 * KL(teacher_T || student_T)`
    /// (`DistillationLoss`), its alpha and T from `--alpha` and `--temperature`.
    public static let kd = LossKind(SpecificationSchema("kd", help: "alpha * CE + (1 - alpha) * T^2 * KL, alpha and T from --alpha and --temperature", [
        .init("standardize", .toggle, help: "z-score each sample's logits before the KL, as Sun et al. 2024"),
    ]), usesMix: true) {
        DistillationLoss(alpha: $1, temperature: $2, standardize: $0.isOn("standardize"))
    }
}
