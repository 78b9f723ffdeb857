/// One IDX file of unsigned bytes (type code 0x08): `dims` from the big-endian header,
/// `bytes` the payload in row-major order, `dims.reduce(1, *)` of them.
///
/// Layout: magic `0x0000_08_RR` (RR = rank), then `rank` big-endian UInt32 dims, then the data.
struct IDXFile {
    let dims: [Int]
    let bytes: [UInt8]

    /// Reads `path` (gzip if `gzip`), expecting `rank` dims; `what` names the content in messages
    /// ("images", "labels"). Trailing bytes after the data are an error, which also lets zlib
    /// check the gzip trailer.
    static func read(path: String, gzip: Bool, rank: Int, what: String) throws -> IDXFile {
        let reader = try ByteReader(path: path, gzip: gzip)
        let headerSize = 4 + 4 * rank
        let header = try reader.read(count: headerSize)
        func word(_ i: Int) -> UInt32 {
            header[4 * i ..< 4 * i + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
        let magic = 0x0800 | UInt32(rank)
        if header.count >= 4 && word(0) != magic {
            throw DatasetError(path: path, reason: "wrong magic number \(hex(word(0))), expected \(hex(magic)) (IDX \(what): unsigned bytes, rank \(rank))")
        }
        guard header.count == headerSize else {
            throw DatasetError(path: path, reason: "truncated header: expected \(headerSize) bytes, file has \(header.count)")
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
