import Foundation

/// One NumPy `.npy` array of integers: `\x93NUMPY`, a version, a header length (2 bytes in
/// version 1, 4 in versions 2 and 3, little-endian), a Python dict literal
/// `{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }`, then the data in C order.
///
/// Read are the types data sets and logit tables use: bytes (`|u1`), little-endian 8- to 64-bit
/// integers, and little-endian 32- and 64-bit floats; anything else is an error naming the file and
/// what was found.
public struct NPYArray {
    enum Element: String {
        case uint8 = "u1", int8 = "i1", uint16 = "u2", int16 = "i2", uint32 = "u4", int32 = "i4", uint64 = "u8", int64 = "i8"
        case float32 = "f4", float64 = "f8"
        var size: Int { Int(rawValue.dropFirst())! }
        var signed: Bool { rawValue.hasPrefix("i") }
        var isInteger: Bool { !rawValue.hasPrefix("f") }
    }

    public let shape: [Int]
    let element: Element
    let data: ArraySlice<UInt8>

    var count: Int { shape.reduce(1, *) }

    static func parse(_ bytes: [UInt8], source: String) throws -> NPYArray {
        func fail(_ reason: String) -> DatasetError { DatasetError(path: source, reason: reason) }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
            throw fail("not a .npy array (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        guard (1...3).contains(major) else { throw fail(".npy version \(major).\(bytes[7]) is not supported; expected 1, 2 or 3") }
        let lengthBytes = major == 1 ? 2 : 4
        guard bytes.count >= 8 + lengthBytes else { throw fail("truncated .npy header") }
        let headerLength = (0..<lengthBytes).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
        let headerStart = 8 + lengthBytes
        guard headerLength <= bytes.count - headerStart else {
            throw fail(".npy header of \(headerLength) bytes runs past the end of the \(bytes.count)-byte array")
        }
        guard let text = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8) else {
            throw fail(".npy header is not text")
        }
        var parser = HeaderParser(text: Substring(text))
        let fields: [String: HeaderParser.Value]
        do { fields = try parser.dictionary() } catch { throw fail(error.message) }
        guard case .text(let descr)? = fields["descr"] else { throw fail(".npy header has no 'descr' string: \(text.trimmed)") }
        guard case .flag(let fortran)? = fields["fortran_order"] else { throw fail(".npy header has no 'fortran_order': \(text.trimmed)") }
        guard case .tuple(let shape)? = fields["shape"] else { throw fail(".npy header has no 'shape' tuple: \(text.trimmed)") }
        guard descr.count == 3, let order = descr.first, "<|".contains(order), let element = Element(rawValue: String(descr.dropFirst())),
              order == "<" || element.size == 1 else {
            throw fail("dtype '\(descr)' is not supported; expected unsigned bytes ('|u1'), little-endian integers ('<i8', ...) "
                + "or floats ('<f4', '<f8')")
        }
        guard !fortran || shape.count <= 1 else { throw fail("Fortran-ordered arrays are not supported; save it in C order") }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, dimension >= 0 else { throw fail("shape \(shape) is too large") }
            count = product
        }
        let (size, overflow) = count.multipliedReportingOverflow(by: element.size)
        let dataStart = headerStart + headerLength
        guard !overflow, size == bytes.count - dataStart else {
            throw fail("holds \(bytes.count - dataStart) data bytes, but shape \(shape) of '\(descr)' needs \(overflow ? "more than Int.max" : "\(size)")")
        }
        return NPYArray(shape: shape, element: element, data: bytes[dataStart...])
    }

    /// Reads a `.npy` file (a regular file).
    public static func read(path: String) throws -> NPYArray {
        try requireRegularFile(path, expecting: "a .npy array")
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError(path: path, reason: "cannot be read") }
        return try parse(Array(data), source: path)
    }

    /// Whether `bytes` start as a `.npy` array does.
    public static func hasMagic(_ bytes: some Collection<UInt8>) -> Bool {
        bytes.starts(with: [0x93] + Array("NUMPY".utf8))
    }

    /// The values as Float32 (float64 rounded; a value beyond Float32's range becomes infinite), or
    /// nil for an integer array.
    public func floats() -> [Float]? {
        switch element {
        case .float32:
            return (0..<count).map { index in
                let start = data.startIndex + 4 * index
                let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(data[start + $1]) << (8 * UInt32($1)) }
                return Float(bitPattern: bits)
            }
        case .float64:
            return (0..<count).map { index in
                let start = data.startIndex + 8 * index
                let bits = (0..<8).reduce(UInt64(0)) { $0 | UInt64(data[start + $1]) << (8 * UInt64($1)) }
                return Float(Double(bitPattern: bits))
            }
        default:
            return nil
        }
    }

    /// The dtype as NumPy writes it, e.g. "<f4".
    public var dtype: String { (element.size == 1 ? "|" : "<") + element.rawValue }

    /// The values as integers (little-endian), for labels.
    func integers() -> [Int64] {
        let size = element.size
        return (0..<count).map { index in
            let start = data.startIndex + index * size
            var value: UInt64 = 0
            for byte in 0..<size { value |= UInt64(data[start + byte]) << (8 * UInt64(byte)) }
            if element.signed, size < 8, value & (1 << (8 * UInt64(size) - 1)) != 0 { value |= ~0 << (8 * UInt64(size)) }
            return Int64(bitPattern: value)
        }
    }
}

/// The few Python literals a `.npy` header holds: a dict of quoted keys to quoted strings,
/// True/False, and tuples of integers.
private struct HeaderParser {
    enum Value { case text(String), flag(Bool), tuple([Int]) }
    var text: Substring

    struct Problem: Error { let message: String }

    mutating func dictionary() throws(Problem) -> [String: Value] {
        var fields: [String: Value] = [:]
        guard consume("{") else { throw Problem(message: ".npy header is not a dict: \(String(text.prefix(60)).debugDescription)") }
        while !consume("}") {
            guard let key = quoted() else { throw Problem(message: ".npy header has a key that is not a quoted string") }
            guard consume(":") else { throw Problem(message: ".npy header lacks ':' after '\(key)'") }
            guard let value = value() else {
                throw Problem(message: ".npy header has a value for '\(key)' that is not a string, True, False or a tuple of integers")
            }
            fields[key] = value
            if !consume(",") {
                guard consume("}") else { throw Problem(message: ".npy header lacks ',' or '}' after '\(key)'") }
                break
            }
        }
        return fields
    }

    private mutating func value() -> Value? {
        if let string = quoted() { return .text(string) }
        if consume("True") { return .flag(true) }
        if consume("False") { return .flag(false) }
        guard consume("(") else { return nil }
        var items: [Int] = []
        while !consume(")") {
            skipSpace()
            let digits = text.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 15, let number = Int(digits) else { return nil }
            items.append(number)
            text = text.dropFirst(digits.count)
            if !consume(",") {
                guard consume(")") else { return nil }
                break
            }
        }
        return .tuple(items)
    }

    private mutating func quoted() -> String? {
        skipSpace()
        guard let quote = text.first, quote == "'" || quote == "\"" else { return nil }
        let body = text.dropFirst()
        guard let end = body.firstIndex(of: quote) else { return nil }
        text = body[body.index(after: end)...]
        return String(body[..<end])
    }

    private mutating func consume(_ token: String) -> Bool {
        skipSpace()
        guard text.hasPrefix(token) else { return false }
        text = text.dropFirst(token.count)
        return true
    }

    private mutating func skipSpace() { text = text.drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
}

private extension String {
    /// The header for a message: at most 120 characters, quoted, escapes for newlines.
    var trimmed: String { String(trimmingCharacters(in: .whitespacesAndNewlines).prefix(120)).debugDescription }
}
