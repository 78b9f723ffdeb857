import Foundation
import NN

/// `--augment`'s text: the transforms as `key[=value]` parts joined by ':' (`pad-crop=4:flip`),
/// applied in a fixed order whatever the text's: translate, pad-crop, flip, then mixup (which mixes the views
/// those made). `none` or empty: none; a zero (`translate=0`, `mixup=0`) leaves its part out.
public enum AugmentSpecification {
    static let schema = SpecificationSchema("augment", help: "data-side augmentation", [
        .init("translate", .number(default: 0, range: .init(0, 64)), help: "shift by -K...K pixels on each axis, zero fill"),
        .init("pad-crop", .number(default: 0, range: .init(0, 64)), help: "pad P zero pixels, crop back at a random offset"),
        .init("flip", .toggle, help: "mirror left to right with probability 1/2"),
        .init("mixup", .number(default: 0, range: .init(0, 100)),
              help: "mix each view with a partner's, lambda ~ Beta(A, A), and their labels' cross-entropies by the same lambda (Zhang et al. 2018)"),
    ])

    public static let none = ""

    /// The canonical text ("" for none); a refusal is one line naming `flag`.
    public static func resolve(_ text: String, flag: String = "--augment") throws -> String {
        try transforms(text, flag: flag).canonical
    }

    /// The transforms `text` names, in the order they apply, and its mixup (nil for none).
    public static func transforms(_ text: String, flag: String = "--augment") throws
        -> (canonical: String, transforms: [ImageTransform], mixup: Mixup?) {
        guard !text.isEmpty, text != "none" else { return (none, [], nil) }
        let resolved: Specification.Resolved
        do {
            resolved = try Specification.parse("augment:\(text)", flag: flag, schemas: [schema])
        } catch let error as TrainingError {
            // The grammar needs a name first: "augment" is ours, not the user's, so it leaves the message.
            throw TrainingError(error.description.replacingOccurrences(of: "\(flag) 'augment:", with: "\(flag) '"))
        }
        var transforms: [ImageTransform] = []
        for key in ["translate", "pad-crop"] {
            let pixels = resolved.number(key)
            guard pixels == pixels.rounded() else { throw TrainingError("\(flag) '\(Specification.shown(text))': \(key) is a whole number of pixels, got \(Specification.format(pixels))") }
            if pixels > 0 { transforms.append(key == "translate" ? Translate(pixels: Int(pixels)) : PadCrop(padding: Int(pixels))) }
        }
        if resolved.isOn("flip") { transforms.append(HorizontalFlip()) }
        let alpha = resolved.number("mixup")
        return (String(resolved.canonical.dropFirst("augment".count + 1)), transforms, alpha > 0 ? Mixup(alpha: Double(alpha)) : nil)
    }
}
