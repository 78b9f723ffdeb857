/// A checksum over a safetensors file's tensors and metadata, kept in its metadata as `checksum`:
/// model checkpoints and training states carry one, so a flipped byte or an edited model JSON is
/// refused instead of loaded.
extension SafeTensors {
    /// FNV-1a (`ContentHash`) over each tensor's name, shape and values, in file order, then the
    /// metadata's keys and values in key order; 16 hex digits.
    public static func checksum(_ tensors: [NamedTensor], _ metadata: [String: String]) -> String {
        var hash = ContentHash()
        for tensor in tensors {
            hash.mix(tensor.name)
            for dimension in tensor.shape { hash.mix(UInt64(dimension)) }
            hash.mix(tensor.values)
        }
        for key in metadata.keys.sorted() {
            hash.mix(key)
            hash.mix(metadata[key]!)
        }
        return hash.hex
    }

    /// Writes `tensors` and `metadata` plus the checksum of both.
    public static func writeChecksummed(_ tensors: [NamedTensor], metadata: [String: String], to path: String) throws {
        var signed = metadata
        signed["checksum"] = checksum(tensors, metadata)
        try write(tensors, metadata: signed, to: path)
    }

    /// Whether the file's `checksum` matches its other contents; nil when it has none.
    public static func checksumMatches(_ tensors: [NamedTensor], _ metadata: [String: String]) -> Bool? {
        guard let stored = metadata["checksum"] else { return nil }
        var unsigned = metadata
        unsigned["checksum"] = nil
        return stored == checksum(tensors, unsigned)
    }
}
