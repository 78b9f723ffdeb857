/// One IDX file of unsigned bytes (type code 0x08): `dims` from the big-endian header,
/// `bytes` the payload in row-major order, `dims.reduce(1, *)` of them.
///
/// Layout: magic `0x0000_08_RR` (RR = rank), then `rank` big-endian UInt32 dims, then the data.
struct IDXFile {
    let dims: [Int]
    let bytes: [UInt8]

    /// Reads `path` (gzip if `gzip`), expecting one of `ranks` dims (the magic number's last byte);
    /// `what` names the content in messages ("images", "labels"). Trailing bytes after the data are
    /// an error, which also lets zlib check the gzip trailer.
    static func read(path: String, gzip: Bool, ranks: [Int], what: String) throws -> IDXFile {
        let reader = try ByteReader(path: path, gzip: gzip)
        let start = try reader.read(count: 4)
        let magic = start.reduce(0) { $0 << 8 | UInt32($1) }
        let rank = Int(magic & 0xFF)
        let expected = ranks.map { hex(0x0800 | UInt32($0)) }.joined(separator: " or ")
        if start.count == 4 && (magic & 0xFFFF_FF00 != 0x0800 || !ranks.contains(rank)) {
            let ranksText = ranks.map(String.init).joined(separator: " or ")
            throw DatasetError(path: path, reason: "wrong magic number \(hex(magic)), expected \(expected) (IDX \(what): unsigned bytes, rank \(ranksText))")
        }
        let headerSize = 4 + 4 * (start.count == 4 ? rank : ranks[0])
        let rest = start.count == 4 ? try reader.read(count: headerSize - 4) : []
        let header = start + rest
        guard header.count == headerSize else {
            throw DatasetError(path: path, reason: "truncated header: expected \(headerSize) bytes, file has \(header.count)")
        }
        func word(_ i: Int) -> UInt32 {
            header[4 * i ..< 4 * i + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let dims = (1...rank).map { Int(word($0)) }
        var count = 1
        for d in dims {
            let (product, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow else {
                throw DatasetError(path: path, reason: "header dims \(dims) are too large")
            }
            count = product
        }
        let bytes = try reader.read(count: count)
        guard bytes.count == count else {
            throw DatasetError(path: path, reason: "truncated data: expected \(count) bytes of \(what) (dims \(dims)) after the \(headerSize)-byte header, found \(bytes.count)")
        }
        guard try reader.atEnd() else {
            throw DatasetError(path: path, reason: "unexpected data after the \(count) bytes of \(what) that the header (dims \(dims)) announces")
        }
        return IDXFile(dims: dims, bytes: bytes)
    }
}

/// `0x00000803`
private func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
