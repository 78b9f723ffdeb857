import Foundation

/// Reads the allocation count of scripts/alloc-counter.c when it is preloaded
/// (scripts/check-allocations.sh does that); absent otherwise.
public struct AllocationCounter {
    private let read: @convention(c) () -> Int

    public init?() {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "distill_allocation_count") else { return nil }
        read = unsafeBitCast(symbol, to: (@convention(c) () -> Int).self)
    }

    public var count: Int { read() }
}
