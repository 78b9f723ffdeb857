/// The parameters one specification name takes, declared by the code that builds the loss or
/// optimizer: `validate` refuses what is not declared and fills in what the text leaves out.
public struct SpecificationSchema: Sendable {
    public enum Kind: Sendable {
        case number(default: Float, range: Interval)
        /// A bare key, off unless given.
        case toggle
        case choice(default: String, among: [String])
        /// Numbers separated by '/', each in the range; empty unless given.
        case list(range: Interval)

        var defaultValue: Specification.Value {
            switch self {
            case .number(let value, _): .number(value)
            case .toggle: .boolean(false)
            case .choice(let value, _): .name(value)
            case .list: .numbers([])
            }
        }
    }

    public struct Parameter: Sendable {
        public let key: String, kind: Kind, help: String
        public init(_ key: String, _ kind: Kind, help: String) { (self.key, self.kind, self.help) = (key, kind, help) }
    }

    /// A number range, each end closed or open: `[0, 1]`, `(0, 1000]`; an end may be infinite.
    public struct Interval: Sendable, CustomStringConvertible {
        public let lower: Float, upper: Float, openLower: Bool, openUpper: Bool
        public init(_ lower: Float, _ upper: Float, openLower: Bool = false, openUpper: Bool = false) {
            (self.lower, self.upper, self.openLower, self.openUpper) = (lower, upper, openLower, openUpper)
        }
        public func contains(_ x: Float) -> Bool { (openLower ? x > lower : x >= lower) && (openUpper ? x < upper : x <= upper) }
        public var description: String {
            "\(openLower ? "(" : "[")\(Specification.format(lower)), \(Specification.format(upper))\(openUpper ? ")" : "]")"
        }
    }

    public let name: String, help: String, parameters: [Parameter]

    public init(_ name: String, help: String, _ parameters: [Parameter]) {
        // Declarations are code, so a wrong one is a programmer's error, caught by the first test that builds it.
        precondition(Specification.isName(Substring(name), lowercase: true) && Set(parameters.map(\.key)).count == parameters.count
            && parameters.allSatisfy { Specification.isName(Substring($0.key), lowercase: false) })
        for kind in parameters.map(\.kind) {
            if case .number(let value, let range) = kind { precondition(range.contains(value), "\(name): a default out of its range") }
            if case .choice(let value, let options) = kind {
                precondition(options.contains(value) && options.allSatisfy { Specification.isName(Substring($0), lowercase: true) })
            }
        }
        (self.name, self.help, self.parameters) = (name, help, parameters)
    }

    public func validate(_ specification: Specification, flag: String) throws -> Specification.Resolved {
        let fail = { (what: String) in Specification.error(flag, specification.text, what) }
        guard specification.name == name else { throw fail("unknown name '\(Specification.shown(specification.name))'; expected \(name)") }
        let keys = parameters.map(\.key)
        if let unknown = specification.parameters.keys.sorted().first(where: { !keys.contains($0) }) {
            throw fail(keys.isEmpty ? "\(name) takes no parameters, got '\(Specification.shown(unknown))'"
                : "\(name) has no parameter '\(Specification.shown(unknown))'; its parameters are \(keys.joined(separator: ", "))")
        }
        var values: [String: Specification.Value] = [:], changed: [String] = []
        for parameter in parameters.sorted(by: { $0.key < $1.key }) {
            let key = parameter.key
            var value = parameter.kind.defaultValue
            switch (parameter.kind, specification.parameters[key]) {
            case (_, nil): break
            case (.number(_, let range), .number(let x)?):
                guard range.contains(x) else { throw fail("\(key) must be in \(range), got \(Specification.format(x))") }
                value = .number(x == 0 ? 0 : x)  // -0 as 0, as its canonical text says
            case (.number(let standard, _), .boolean?): throw fail("\(key) needs a number, e.g. \(key)=\(Specification.format(standard))")
            case (.number, let other?): throw fail("\(key) must be a number, got '\(Specification.shown(other.description))'")
            case (.toggle, .boolean?): value = .boolean(true)
            case (.toggle, _?): throw fail("\(key) is a switch and takes no value: write :\(key) alone")
            case (.choice(_, let options), .name(let text)?) where options.contains(text): value = .name(text)
            case (.list(let range), .numbers(let xs)?):
                if let bad = xs.first(where: { !range.contains($0) }) { throw fail("\(key) must hold numbers in \(range), got \(Specification.format(bad))") }
                value = .numbers(xs.map { $0 == 0 ? 0 : $0 })
            case (.list(let range), .number(let x)?):
                guard range.contains(x) else { throw fail("\(key) must hold numbers in \(range), got \(Specification.format(x))") }
                value = .numbers([x == 0 ? 0 : x])
            case (.list, _?): throw fail("\(key) needs numbers separated by '/', e.g. \(key)=30/60")
            case (.choice(let standard, let options), .boolean?):
                throw fail("\(key) needs one of \(options.joined(separator: ", ")), e.g. \(key)=\(standard)")
            case (.choice(_, let options), let other?):
                throw fail("\(key) must be one of \(options.joined(separator: ", ")), got '\(Specification.shown(other.description))'")
            }
            values[key] = value
            if value != parameter.kind.defaultValue { changed.append(value == .boolean(true) ? key : "\(key)=\(value)") }
        }
        return Specification.Resolved(name: name, values: values, canonical: ([name] + changed).joined(separator: ":"))
    }
}

extension Specification {
    /// Parses `text` and checks it against the schema of its name.
    public static func parse(_ text: String, flag: String, schemas: [SpecificationSchema]) throws -> Resolved {
        let specification = try parse(text, flag: flag)
        guard let schema = schemas.first(where: { $0.name == specification.name }) else {
            throw error(flag, text, "unknown name '\(Specification.shown(specification.name))'; expected one of \(schemas.map(\.name).joined(separator: ", "))")
        }
        return try schema.validate(specification, flag: flag)
    }

    /// A specification checked against its schema: every declared parameter has its value.
    public struct Resolved: Hashable, Sendable {
        public let name: String
        public let values: [String: Value]
        /// The name, then the parameters that differ from their defaults sorted by key, numbers as
        /// Float32's shortest round-trip `description` less a trailing `.0` (`8`, `0.9`, `1e-07`):
        /// every spelling of one setting, defaults given or left out, gives one text to fingerprint.
        public let canonical: String

        // A key the schema does not declare is the caller's mistake, not the user's: these stop.
        public func number(_ key: String) -> Float {
            if case .number(let value)? = values[key] { return value } else { preconditionFailure("\(name) has no number \(key)") }
        }
        public func isOn(_ key: String) -> Bool {
            if case .boolean(let value)? = values[key] { return value } else { preconditionFailure("\(name) has no switch \(key)") }
        }
        public func numbers(_ key: String) -> [Float] {
            if case .numbers(let value)? = values[key] { return value } else { preconditionFailure("\(name) has no list \(key)") }
        }
        public func choice(_ key: String) -> String {
            if case .name(let value)? = values[key] { return value } else { preconditionFailure("\(name) has no choice \(key)") }
        }
    }
}
