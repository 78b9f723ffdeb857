/// Finds a key repeated within one JSON object. Parsers keep one of the two values silently (the
/// safetensors header's tensor listed twice, a checkpoint's `role` given twice, a layer's `padding`
/// twice), so a file that says two things is refused instead.
///
/// Runs on text that a JSON parser has already accepted, so it only tracks strings and nesting.
public enum JSONDuplicateKeys {
    /// The first repeated key, as a path of the keys that lead to it (`__metadata__.role`), or nil.
    public static func first(in bytes: [UInt8]) -> String? {
        // One frame per open object or array: the object's keys so far and its path.
        var frames: [(isObject: Bool, keys: Set<String>, path: String, expectsKey: Bool)] = []
        var lastKey = ""
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let parent = frames.last
                let path = parent.map { $0.isObject ? ($0.path.isEmpty ? lastKey : "\($0.path).\(lastKey)") : $0.path } ?? ""
                frames.append((bytes[i] == UInt8(ascii: "{"), [], path, true))
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = frames.popLast()
                i += 1
            case UInt8(ascii: ","):
                if !frames.isEmpty { frames[frames.count - 1].expectsKey = true }
                i += 1
            case UInt8(ascii: "\""):
                let (text, end) = string(bytes, from: i)
                i = end
                guard let top = frames.indices.last, frames[top].isObject, frames[top].expectsKey else { continue }
                frames[top].expectsKey = false
                guard frames[top].keys.insert(text).inserted else {
                    return frames[top].path.isEmpty ? text : "\(frames[top].path).\(text)"
                }
                lastKey = text
            default:
                i += 1
            }
        }
        return nil
    }

    /// The string literal starting at `start` (its opening quote), decoded, and the index after it.
    private static func string(_ bytes: [UInt8], from start: Int) -> (String, Int) {
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []   // UTF-8 bytes of the current unescaped run
        var i = start + 1
        func flush() {
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll(keepingCapacity: true)
        }
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            return UInt32(String(decoding: bytes[at..<at + 4], as: UTF8.self), radix: 16)
        }
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            guard bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count else {
                raw.append(bytes[i])
                i += 1
                continue
            }
            flush()
            let escaped = bytes[i + 1]
            i += 2
            switch escaped {
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "b"): scalars.append("\u{8}")
            case UInt8(ascii: "f"): scalars.append("\u{C}")
            case UInt8(ascii: "u"):
                guard var code = hex4(i) else { continue }
                i += 4
                // A surrogate pair is one scalar.
                if (0xD800..<0xDC00).contains(code), i + 6 <= bytes.count, bytes[i] == UInt8(ascii: "\\"),
                   bytes[i + 1] == UInt8(ascii: "u"), let low = hex4(i + 2), (0xDC00..<0xE000).contains(low) {
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default: scalars.append(Unicode.Scalar(escaped))   // \" \\ \/
            }
        }
        flush()
        return (String(scalars), i + 1)
    }
}
