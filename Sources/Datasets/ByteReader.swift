import CGzip
import Foundation

/// Reads a file front to back through zlib: gzip data is inflated, other data passes
/// through unchanged. zlib errors (corrupt or truncated gzip) become `DatasetError`s.
final class ByteReader {
    let path: String
    private let file: gzFile

    /// Opens `path`; with `gzip` true the file must hold gzip data.
    init(path: String, gzip: Bool) throws {
        guard let file = gzopen(path, "rb") else {
            throw DatasetError(path: path, reason: "cannot open: \(String(cString: strerror(errno)))")
        }
        self.path = path
        self.file = file
        gzbuffer(file, 1 << 17)
        if gzip && gzdirect(file) != 0 {
            throw DatasetError(path: path, reason: "corrupt gzip: the file does not start with a gzip header")
        }
    }

    deinit { gzclose(file) }

    /// Fills `buffer` from the file; returns the byte count read, short only at the end of the data.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let want = UInt32(min(buffer.count - done, 1 << 30))
            let got = gzread(file, buffer.baseAddress! + done, want)
            if got < 0 { throw zlibError() }
            if got == 0 { break }
            done += Int(got)
        }
        if done < buffer.count {
            var code: Int32 = Z_OK
            _ = gzerror(file, &code)
            if code != Z_OK { throw zlibError() }  // Z_BUF_ERROR: the gzip stream ends early
        }
        return done
    }

    /// Reads up to `count` bytes: fewer only if the data ends first.
    func read(count: Int) throws -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(count, 1 << 28))  // a bogus header must not reserve terabytes
        var chunk = [UInt8](repeating: 0, count: min(count, 1 << 20))
        while bytes.count < count {
            let want = min(count - bytes.count, chunk.count)
            let got = try chunk.withUnsafeMutableBytes { try read(into: UnsafeMutableRawBufferPointer(rebasing: $0[..<want])) }
            bytes.append(contentsOf: chunk[..<got])
            if got < want { break }
        }
        return bytes
    }

    /// True if the data has ended (reads one byte to find out; checks the gzip trailer).
    func atEnd() throws -> Bool {
        var byte: UInt8 = 0
        return try withUnsafeMutableBytes(of: &byte) { try read(into: $0) } == 0
    }

    private func zlibError() -> DatasetError {
        var code: Int32 = Z_OK
        var message = String(cString: gzerror(file, &code))
        if message.hasPrefix(path + ": ") { message.removeFirst(path.count + 2) }  // zlib prepends the path
        switch code {
        case Z_ERRNO: return DatasetError(path: path, reason: "read failed: \(String(cString: strerror(errno)))")
        case Z_BUF_ERROR: return DatasetError(path: path, reason: "corrupt gzip: the stream is truncated (\(message))")
        default: return DatasetError(path: path, reason: "corrupt gzip: \(message.isEmpty ? "zlib error \(code)" : message)")
        }
    }
}
