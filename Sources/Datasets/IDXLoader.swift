import Foundation

/// Loads IDX files of unsigned bytes into `LabeledImages`: images `N x H x W` (one channel) or
/// `N x H x W x C`, labels `N` class ids. MNIST and Fashion-MNIST are such files; so is any data
/// set written in the same format.
public enum IDXLoader {
    /// The file names MNIST uses, looked for in a directory: `<prefix>-images-idx3-ubyte` and
    /// `<prefix>-labels-idx1-ubyte` (each plain or `.gz`), prefix `train` or `t10k`.
    public static func load(directory: String, split: Split) throws -> LabeledImages {
        try load(images: try locate(directory, "\(split.filePrefix)-images-idx3-ubyte"),
                 labels: try locate(directory, "\(split.filePrefix)-labels-idx1-ubyte"))
    }

    /// Loads the images and labels at these paths (a `.gz` name or gzip magic means gzip).
    public static func load(imagesPath: String, labelsPath: String) throws -> LabeledImages {
        try load(images: try file(imagesPath), labels: try file(labelsPath))
    }

    /// Returns `count` images `[count, H, W, C]` as byte / 255 and `[count]` labels.
    /// Throws `DatasetError` for a missing file, a wrong magic number, a truncated header or
    /// data, corrupt gzip, image and label counts that differ, and empty images or sets.
    static func load(images imageFile: (path: String, gzip: Bool), labels labelFile: (path: String, gzip: Bool)) throws -> LabeledImages {
        let images = try IDXFile.read(path: imageFile.path, gzip: imageFile.gzip, ranks: [3, 4], what: "images")
        let labels = try IDXFile.read(path: labelFile.path, gzip: labelFile.gzip, ranks: [1], what: "labels")

        let (count, height, width) = (images.dims[0], images.dims[1], images.dims[2])
        let channels = images.dims.count == 4 ? images.dims[3] : 1
        guard count > 0 else {
            throw DatasetError(path: imageFile.path, reason: "holds 0 images, expected at least 1")
        }
        guard height > 0, width > 0, channels > 0 else {
            throw DatasetError(path: imageFile.path, reason: "images are \(height) x \(width) x \(channels); every dimension must be at least 1")
        }
        guard labels.dims[0] == count else {
            throw DatasetError(path: labelFile.path, reason: "holds \(labels.dims[0]) labels but \(imageFile.path) holds \(count) images")
        }
        return LabeledImages(images: normalised(images.bytes), labels: labels.bytes.map { Int32($0) },
                             height: height, width: width, channels: channels)
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
        for path in [plain, plain + ".gz"] where FileManager.default.fileExists(atPath: path) {
            return try file(path)
        }
        throw DatasetError(path: plain, reason: "not found (looked for \(name) and \(name).gz in \(directory))")
    }

    /// A regular file at `path`, gzip when its name ends in `.gz` or it starts with gzip's magic.
    private static func file(_ path: String) throws -> (path: String, gzip: Bool) {
        try requireRegularFile(path, expecting: "an IDX file")
        if path.hasSuffix(".gz") { return (path, true) }
        let handle = FileHandle(forReadingAtPath: path)
        let start = try handle?.read(upToCount: 2) ?? Data()
        try? handle?.close()
        return (path, start == Data([0x1F, 0x8B]))
    }
}

/// Throws unless `path` is a regular file: a FIFO would block a reader forever, a directory cannot be read.
func requireRegularFile(_ path: String, expecting what: String) throws {
    var info = stat()
    guard stat(path, &info) == 0 else { throw DatasetError(path: path, reason: "not found") }
    guard info.st_mode & S_IFMT == S_IFREG else {
        throw DatasetError(path: path, reason: "is not a regular file (\(fileKind(info.st_mode))); expected \(what)")
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
