/// A fixed-size, zero-initialised block of numbers that is allocated once and reused.
///
/// Workspaces, activations, parameters and gradients all live in these, so the hot loops
/// work on raw pointers with no copy-on-write and no bounds checks.
public final class Buffer<Element: Numeric> {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Element>

    public init(count: Int) {
        precondition(count >= 0, "Buffer count must be non-negative")
        self.count = count
        pointer = .allocate(capacity: Swift.max(count, 1))
        pointer.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { pointer.deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Element> { UnsafeMutableBufferPointer(start: pointer, count: count) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public var array: [Element] { Array(buffer) }
}

public typealias FloatBuffer = Buffer<Float>
/// The Int32 indices max pooling remembers between forward and backward.
public typealias IndexBuffer = Buffer<Int32>
