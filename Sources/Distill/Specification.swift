/// A parameterised name, as the command line writes losses and optimizers: `kd`,
/// `dkd:alpha=1:beta=8:T=4`, `kd:standardize`, `sgd:momentum=0.9:nesterov`.
///
///     specification := name (":" parameter)*
///     parameter     := key "=" value | key        a bare key is a switch, meaning true
///     name          := [a-z] [a-z0-9_-]*
///     key           := [A-Za-z] [A-Za-z0-9_-]*    case-sensitive, so `T` is a key
///     value         := decimal | name | list      decimal as `DecimalNumber`: no hex, inf or nan
///     list          := decimal ("/" decimal)+     e.g. boundaries=150/180/210
///
/// No spaces and no commas (so a sweep's comma-separated list splits without ambiguity), no empty
/// part, no key twice, at most 1000 characters. `parse` reads the grammar; a `SpecificationSchema`
/// then checks the parameters a name takes and fills the defaults. Numbers are Float32, as the
/// training settings are, so the canonical text holds the value training uses.
public struct Specification: Hashable, Sendable {
    public enum Value: Hashable, Sendable, CustomStringConvertible {
        case number(Float)
        case boolean(Bool)
        case name(String)
        case numbers([Float])

        /// As the canonical text writes a value (see `format`).
        public var description: String {
            switch self {
            case .number(let x): Specification.format(x)
            case .boolean(let on): on ? "true" : "false"
            case .name(let text): text
            case .numbers(let values): values.map(Specification.format).joined(separator: "/")
            }
        }
    }

    public static let lengthLimit = 1000

    public let name: String
    /// As written: a bare key is `.boolean(true)`.
    public let parameters: [String: Value]
    /// The text as given, for messages only: two spellings of one specification are equal.
    public let text: String

    public static func == (a: Self, b: Self) -> Bool { a.name == b.name && a.parameters == b.parameters }
    public func hash(into hasher: inout Hasher) { hasher.combine(name); hasher.combine(parameters) }

    public static func parse(_ text: String, flag: String) throws -> Specification {
        let fail = { (what: String) in error(flag, text, what) }
        let length = text.unicodeScalars.count
        guard length <= lengthLimit else { throw fail("a specification has at most \(lengthLimit) characters, got \(length)") }
        guard !text.isEmpty else { throw fail("expected a name, then :key=value or :key parameters, e.g. kd:T=4") }
        if let bad = text.unicodeScalars.first(where: { !$0.isASCII || !alphabet.contains(Character($0)) }) {
            throw fail("'\(bad.escaped(asASCII: true))' is not allowed: a specification is a name then :key=value or :key parts, with no spaces or commas")
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard !parts.contains(where: \.isEmpty) else { throw fail("a part is empty (a ':' too many)") }
        guard isName(parts[0], lowercase: true) else {
            throw fail("the name must start with a lowercase letter and hold only lowercase letters, digits, '-' and '_', got '\(shown(parts[0]))'")
        }
        var parameters: [String: Value] = [:]
        for part in parts.dropFirst() {
            let sides = part.split(separator: "=", omittingEmptySubsequences: false), key = String(sides[0])
            guard sides.count <= 2 else { throw fail("expected key=value or a bare key, got '\(shown(part))'") }
            guard isName(sides[0], lowercase: false) else {
                throw fail("a key must start with a letter and hold only letters, digits, '-' and '_', got '\(shown(key))'")
            }
            guard parameters[key] == nil else { throw fail("\(shown(key)) is given twice") }
            guard sides.count == 2 else { parameters[key] = .boolean(true); continue }
            if sides[1].contains("/") {
                let items = sides[1].split(separator: "/", omittingEmptySubsequences: false)
                let numbers = items.compactMap { DecimalNumber.parse(String($0), as: Float.self) }
                guard numbers.count == items.count else {
                    throw fail("\(shown(key)) must be decimal numbers separated by '/', got '\(shown(sides[1]))'")
                }
                parameters[key] = .numbers(numbers)
            } else if isName(sides[1], lowercase: true) {
                parameters[key] = .name(String(sides[1]))
            } else if let number = DecimalNumber.parse(String(sides[1]), as: Float.self) {
                parameters[key] = .number(number)
            } else {
                throw fail("\(shown(key)) must be a decimal number or a name, got '\(shown(sides[1]))'")
            }
        }
        return Specification(name: String(parts[0]), parameters: parameters, text: text)
    }

    static func error(_ flag: String, _ text: String, _ what: String) -> TrainingError {
        TrainingError("\(flag) '\(shown(text))': \(what)")
    }

    /// User text as one line of bounded length, whatever the input held: ASCII with escapes, 60 characters at most.
    static func shown(_ text: some StringProtocol) -> String {
        text.unicodeScalars.prefix(60).map { $0.escaped(asASCII: true) }.joined() + (text.unicodeScalars.count > 60 ? "..." : "")
    }

    /// `8` rather than `8.0`; otherwise Float's `description`, which `DecimalNumber` reads back exactly.
    public static func format(_ value: Float) -> String {
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    private static let alphabet = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:=.+/")

    static func isName(_ text: Substring, lowercase: Bool) -> Bool {
        let isLetter = { (c: Character) in c.isASCII && (lowercase ? c.isLowercase : c.isLetter) }
        guard let first = text.first, isLetter(first) else { return false }
        return text.allSatisfy { isLetter($0) || ($0.isASCII && $0.isNumber) || $0 == "-" || $0 == "_" }
    }
}
