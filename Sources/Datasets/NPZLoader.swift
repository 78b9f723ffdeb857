import Foundation
import ZIPFoundation

/// Loads a data set from a NumPy `.npz` archive in the layout of Keras's `mnist.npz`: arrays
/// `x_train`, `y_train`, `x_test`, `y_test`; images `N x H x W` or `N x H x W x C` unsigned bytes,
/// labels `N` (or `N x 1`, as Keras's CIFAR-10 has them) integers `0...K-1`. The archive is read
/// with ZIPFoundation (stored or deflated members); every member read must match its CRC-32 and size.
public enum NPZLoader {
    /// Members larger than this are refused before they are inflated (a damaged size, or a zip bomb).
    static let largestMember: UInt64 = 1 << 34

    public static func load(path: String, split: Split) throws -> LabeledImages {
        try requireRegularFile(path, expecting: "an .npz archive")
        let archive: Archive
        do {
            archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
        } catch {
            throw DatasetError(path: path, reason: "is not a zip archive (.npz): \(error)")
        }
        let images = try array(archive, "x_\(split.rawValue)", path: path)
        let labels = try array(archive, "y_\(split.rawValue)", path: path)
        let imagesName = "\(path):x_\(split.rawValue)", labelsName = "\(path):y_\(split.rawValue)"
        guard images.element == .uint8, [3, 4].contains(images.shape.count) else {
            throw DatasetError(path: imagesName, reason: "is \(images.dtype) of shape \(images.shape); expected unsigned bytes N x H x W or N x H x W x C")
        }
        let (count, height, width) = (images.shape[0], images.shape[1], images.shape[2])
        let channels = images.shape.count == 4 ? images.shape[3] : 1
        guard count > 0 else { throw DatasetError(path: imagesName, reason: "holds 0 images, expected at least 1") }
        guard height > 0, width > 0, channels > 0 else {
            throw DatasetError(path: imagesName, reason: "images are \(height) x \(width) x \(channels); every dimension must be at least 1")
        }
        guard labels.element.isInteger else {
            throw DatasetError(path: labelsName, reason: "is \(labels.dtype); expected integer class ids")
        }
        guard labels.shape == [count] || labels.shape == [count, 1] else {
            throw DatasetError(path: labelsName, reason: "has shape \(labels.shape), expected [\(count)] (one label per image)")
        }
        let values = labels.integers()
        if let bad = values.firstIndex(where: { $0 < 0 || $0 > 65_535 }) {
            throw DatasetError(path: labelsName, reason: "label \(values[bad]) at index \(bad) is not a class id in 0...65535")
        }
        return LabeledImages(images: IDXLoader.normalised(Array(images.data)), labels: values.map { Int32($0) },
                             height: height, width: width, channels: channels)
    }

    private static func hex(_ value: CRC32) -> String { String(format: "%08x", value) }

    /// A member that inflates to more than its declared size.
    private struct Oversized: Error, CustomStringConvertible {
        var description: String { "it inflates to more than its declared size" }
    }

    /// The member `name.npy` parsed.
    private static func array(_ archive: Archive, _ name: String, path: String) throws -> NPYArray {
        guard let entry = archive["\(name).npy"] ?? archive[name] else {
            let members = archive.map(\.path).sorted().prefix(8).joined(separator: ", ")
            throw DatasetError(path: path, reason: "has no array \(name) (members: \(members.isEmpty ? "none" : members)); expected x_train, y_train, x_test, y_test")
        }
        guard entry.uncompressedSize <= largestMember else {
            throw DatasetError(path: "\(path):\(name)", reason: "declares \(entry.uncompressedSize) bytes, more than \(largestMember)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Int(min(entry.uncompressedSize, 1 << 28)))
        let checksum: CRC32
        do {
            checksum = try archive.extract(entry) { chunk in
                guard UInt64(bytes.count + chunk.count) <= entry.uncompressedSize else { throw Oversized() }
                bytes.append(contentsOf: chunk)
            }
        } catch {
            throw DatasetError(path: "\(path):\(name)", reason: "cannot be read from the archive: \(error)")
        }
        // ZIPFoundation computes the CRC-32 of what it read but leaves the comparison to the caller.
        guard checksum == entry.checksum else {
            throw DatasetError(path: "\(path):\(name)", reason: "its contents have CRC-32 \(hex(checksum)), but the archive records "
                + "\(hex(entry.checksum)): the member is damaged")
        }
        guard UInt64(bytes.count) == entry.uncompressedSize else {
            throw DatasetError(path: "\(path):\(name)", reason: "inflates to \(bytes.count) bytes, but the archive records \(entry.uncompressedSize)")
        }
        return try NPYArray.parse(bytes, source: "\(path):\(name)")
    }
}
