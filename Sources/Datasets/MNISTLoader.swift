import Foundation

/// Loads MNIST-format IDX files (MNIST, Fashion-MNIST) into `LabeledImages`.
public enum MNISTLoader {
    /// MNIST images are this many rows and columns.
    public static let side = 28

    /// Loads `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte` (each plain or
    /// `.gz`) from `directory`, prefix `train` or `t10k`.
    ///
    /// Returns `count` images `[count, 28, 28, 1]` as byte / 255 and `[count]` labels in `0...9`.
    /// Throws `DatasetError` for a missing file, a wrong magic number, a truncated header or
    /// data, corrupt gzip, image and label counts that differ, images that are not 28 x 28
    /// or empty, and a label outside `0...9`.
    public static func load(directory: String, split: Split) throws -> LabeledImages {
        let imageFile = try locate(directory, "\(split.filePrefix)-images-idx3-ubyte")
        let labelFile = try locate(directory, "\(split.filePrefix)-labels-idx1-ubyte")
        let images = try IDXFile.read(path: imageFile.path, gzip: imageFile.gzip, rank: 3, what: "images")
        let labels = try IDXFile.read(path: labelFile.path, gzip: labelFile.gzip, rank: 1, what: "labels")

        let (count, height, width) = (images.dims[0], images.dims[1], images.dims[2])
        guard height == side && width == side else {
            throw DatasetError(path: imageFile.path, reason: "images are \(height) x \(width), expected \(side) x \(side)")
        }
        guard count > 0 else {
            throw DatasetError(path: imageFile.path, reason: "holds 0 images, expected at least 1")
        }
        guard labels.dims[0] == count else {
            throw DatasetError(path: labelFile.path, reason: "holds \(labels.dims[0]) labels but \(imageFile.path) holds \(count) images")
        }
        if let bad = labels.bytes.firstIndex(where: { $0 > 9 }) {
            throw DatasetError(path: labelFile.path, reason: "label \(labels.bytes[bad]) at index \(bad) is outside 0...9")
        }
        return LabeledImages(images: normalised(images.bytes), labels: labels.bytes.map { Int32($0) }, height: height, width: width)
    }

    /// `bytes` -> `byte / 255`, same count.
    static func normalised(_ bytes: [UInt8]) -> [Float] {
        [Float](unsafeUninitializedCapacity: bytes.count) { out, initialized in
            bytes.withUnsafeBufferPointer { source in
                for i in 0..<source.count { out[i] = Float(source[i]) / 255 }
            }
            initialized = bytes.count
        }
    }

    /// `directory/name` if it exists, else `directory/name.gz`; it must be a regular file (a FIFO
    /// would block the reader forever, a directory cannot be read).
    private static func locate(_ directory: String, _ name: String) throws -> (path: String, gzip: Bool) {
        let plain = (directory as NSString).appendingPathComponent(name)
        for (path, gzip) in [(plain, false), (plain + ".gz", true)] {
            var info = stat()
            guard stat(path, &info) == 0 else { continue }
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw DatasetError(path: path, reason: "is not a regular file (\(fileKind(info.st_mode))); expected an IDX file")
            }
            return (path, gzip)
        }
        throw DatasetError(path: plain, reason: "not found (looked for \(name) and \(name).gz in \(directory))")
    }
}

/// What a non-regular file is, for error messages.
public func fileKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "a directory"
    case S_IFIFO: return "a FIFO"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    default: return "not a regular file"
    }
}
