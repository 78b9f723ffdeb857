import Foundation

/// A named float32 tensor: row-major `values` with `values.count == shape.product`.
public struct NamedTensor: Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Reads and writes float32 tensors in the safetensors format
/// (https://github.com/huggingface/safetensors):
///
///     [u64 little-endian N][N bytes of UTF-8 JSON header][data]
///
/// The header maps each tensor name to `{"dtype":"F32","shape":[...],"data_offsets":[begin,end]}`
/// (byte offsets relative to the start of the data) and may hold `"__metadata__"`, a
/// string-to-string map. The writer pads the header with spaces so the data starts
/// 8-byte aligned and stores the tensors contiguously, in the order given, little-endian.
///
/// The reader checks everything it relies on and throws `CheckpointError` instead of
/// trapping: only `F32`, non-negative shapes, offsets inside the data, `end - begin ==
/// 4 * product(shape)`, and, as the reference implementation demands, tensors that cover
/// the data exactly (no overlaps, no holes, no trailing bytes).
public enum SafeTensors {
    /// Writes `tensors` (in order) and `metadata` to `path` atomically: the bytes go to a
    /// temporary file in the same directory, which is flushed and then renamed over `path`.
    /// Throws if a shape does not match its values, or a name is repeated or reserved.
    public static func write(_ tensors: [NamedTensor], metadata: [String: String], to path: String) throws {
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message) }

        // Header, with the tensors in storage order.
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var names = Set<String>()
        var dataLength = 0
        for tensor in tensors {
            guard tensor.name != "__metadata__" else {
                throw fail("tensor name \"__metadata__\" is reserved for the metadata")
            }
            guard names.insert(tensor.name).inserted else {
                throw fail("tensor name '\(tensor.name)' appears more than once, expected unique names")
            }
            guard let count = elementCount(tensor.shape), count == tensor.values.count else {
                throw fail("tensor '\(tensor.name)' has shape \(tensor.shape) but \(tensor.values.count) values, "
                    + "expected non-negative dimensions whose product is the value count")
            }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(tensor.name)):{\"dtype\":\"F32\",\"shape\":[\(shape)],"
                + "\"data_offsets\":[\(dataLength),\(dataLength + 4 * count)]}")
            dataLength += 4 * count
        }
        let header = Array("{\(fields.joined(separator: ","))}".utf8)
        let headerLength = header.count + (8 - header.count % 8) % 8  // data starts 8-byte aligned

        // bytes: [8 + headerLength + dataLength], padding pre-filled with spaces.
        var bytes = [UInt8](repeating: UInt8(ascii: " "), count: 8 + headerLength + dataLength)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(headerLength).littleEndian, as: UInt64.self)
            header.withUnsafeBytes { raw.baseAddress!.advanced(by: 8).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            var at = 8 + headerLength
            for tensor in tensors {
                for value in tensor.values {
                    raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: at, as: UInt32.self)
                    at += 4
                }
            }
        }

        if let problem = TemporaryFile.destinationProblem(path) ?? TemporaryFile.nameProblem(path) { throw fail(problem) }
        let temp = URL(fileURLWithPath: TemporaryFile.path(for: path))
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw fail("cannot create temporary file \(temp.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: temp)
            defer { try? handle.close() }
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw fail("cannot write temporary file \(temp.path): \(error.localizedDescription)")
        }
        guard rename(temp.path, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temp)
            throw fail("cannot rename \(temp.path) into place: \(reason)")
        }
        TemporaryFile.synchronizeDirectory(of: path)
    }

    /// Reads every tensor and the metadata from `path`. Tensors come back sorted by data
    /// offset (ties, possible only for empty tensors, by name), so a file written by
    /// `write` returns its tensors in the order they were written.
    public static func read(from path: String) throws -> (tensors: [NamedTensor], metadata: [String: String]) {
        func fail(_ message: String) -> CheckpointError { CheckpointError(path: path, message) }

        var info = stat()
        guard stat(path, &info) == 0 else { throw fail("no such file") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw fail("is not a regular file (a directory, FIFO or device)") }
        let file: Data
        do {
            file = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw fail("cannot read file: \(error.localizedDescription)")
        }
        return try file.withUnsafeBytes { raw in
            guard raw.count >= 8 else {
                throw fail("file is \(raw.count) bytes, expected at least 8 for the header length")
            }
            let declared = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
            guard declared <= UInt64(raw.count - 8) else {
                throw fail("header length is \(declared) bytes, but only \(raw.count - 8) bytes follow the length")
            }
            let dataStart = 8 + Int(declared)
            let dataLength = raw.count - dataStart

            let json: Any
            do {
                json = try JSONSerialization.jsonObject(with: Data(raw[8..<dataStart]))
            } catch {
                throw fail("header (\(declared) bytes) is not valid UTF-8 JSON")
            }
            guard let header = json as? [String: Any] else {
                throw fail("header is \(describe(json)), expected a JSON object")
            }
            // A parser keeps one of two equal keys: a tensor listed twice, or a metadata key given twice.
            if let key = JSONDuplicateKeys.first(in: Array(raw[8..<dataStart])) {
                throw fail("header lists \(key) twice; expected each tensor and metadata key once")
            }

            var metadata: [String: String] = [:]
            // entries: one per tensor, (name, shape, begin, end) with byte offsets into the data.
            var entries: [(name: String, shape: [Int], begin: Int, end: Int)] = []
            for name in header.keys.sorted() {
                let value = header[name]!
                if name == "__metadata__" {
                    guard let map = value as? [String: Any] else {
                        throw fail("\"__metadata__\" is \(describe(value)), expected an object of strings")
                    }
                    for (key, item) in map {
                        guard let string = item as? String else {
                            throw fail("metadata '\(key)' is \(describe(item)), expected a string")
                        }
                        metadata[key] = string
                    }
                    continue
                }
                guard let entry = value as? [String: Any] else {
                    throw fail("tensor '\(name)' is \(describe(value)), expected an object")
                }
                for field in ["dtype", "shape", "data_offsets"] where entry[field] == nil {
                    throw fail("tensor '\(name)' has no \"\(field)\", expected dtype, shape and data_offsets")
                }
                guard let dtype = entry["dtype"] as? String, dtype == "F32" else {
                    throw fail("tensor '\(name)' has dtype \(describe(entry["dtype"]!)), expected \"F32\"")
                }
                guard let shape = integers(entry["shape"]!), shape.allSatisfy({ $0 >= 0 }) else {
                    throw fail("tensor '\(name)' has shape \(describe(entry["shape"]!)), "
                        + "expected an array of non-negative integers")
                }
                guard let offsets = integers(entry["data_offsets"]!), offsets.count == 2 else {
                    throw fail("tensor '\(name)' has data_offsets \(describe(entry["data_offsets"]!)), "
                        + "expected [begin, end]")
                }
                let (begin, end) = (offsets[0], offsets[1])
                guard 0 <= begin, begin <= end else {
                    throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)], expected 0 <= begin <= end")
                }
                guard end <= dataLength else {
                    throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)], "
                        + "beyond the \(dataLength) bytes of data")
                }
                let expected = elementCount(shape).flatMap { count in
                    let (bytes, overflow) = count.multipliedReportingOverflow(by: 4)
                    return overflow ? nil : bytes
                }
                guard end - begin == expected else {
                    throw fail("tensor '\(name)' holds \(end - begin) bytes, expected 4 * product(\(shape)) = "
                        + (expected.map(String.init) ?? "more than Int.max"))
                }
                entries.append((name, shape, begin, end))
            }

            entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
            var covered = 0  // every byte before `covered` belongs to exactly one tensor so far
            for (index, entry) in entries.enumerated() {
                guard entry.begin == covered else {
                    throw fail(entry.begin < covered
                        ? "tensor '\(entry.name)' at bytes [\(entry.begin), \(entry.end)) overlaps "
                            + "tensor '\(entries[index - 1].name)', which ends at \(covered)"
                        : "tensor '\(entry.name)' starts at byte \(entry.begin), expected \(covered): "
                            + "bytes [\(covered), \(entry.begin)) belong to no tensor")
                }
                covered = entry.end
            }
            guard covered == dataLength else {
                throw fail("tensors cover \(covered) bytes of data, but the file holds \(dataLength)")
            }

            let tensors = entries.map { entry in
                let values = (0..<(entry.end - entry.begin) / 4).map { i in
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(
                        fromByteOffset: dataStart + entry.begin + 4 * i, as: UInt32.self)))
                }
                return NamedTensor(name: entry.name, shape: entry.shape, values: values)
            }
            return (tensors, metadata)
        }
    }

    /// The product of `shape`, or nil if a dimension is negative or the product overflows.
    private static func elementCount(_ shape: [Int]) -> Int? {
        var product = 1
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return product
    }

    /// `value` as an array of integers, or nil if it is anything else (JSON booleans included).
    private static func integers(_ value: Any) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var result: [Int] = []
        for item in array {
            // JSONSerialization gives booleans as NSNumber too; they are the two shared instances.
            guard let number = item as? NSNumber, number !== (true as NSNumber), number !== (false as NSNumber),
                  let integer = item as? Int else { return nil }
            result.append(integer)
        }
        return result
    }

    /// A short description of a parsed JSON value for error messages.
    private static func describe(_ value: Any) -> String {
        switch value {
        case let string as String: return jsonString(string)
        case is [Any]:
            let text = (try? JSONSerialization.data(withJSONObject: value)).flatMap { String(data: $0, encoding: .utf8) }
            return text.map { $0.count <= 60 ? $0 : "an array" } ?? "an array"
        case is [String: Any]: return "an object"
        case is NSNull: return "null"
        case let number as NSNumber:
            if number === (true as NSNumber) { return "true" }
            if number === (false as NSNumber) { return "false" }
            return "\(number)"
        default: return "\(value)"
        }
    }

    /// `string` as a JSON string literal.
    private static func jsonString(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
