/// Sixteen floats at a time (one AVX-512 register, two AVX2 ones) for the loops around the GEMMs.
/// Each lane does exactly the scalar operation, in the same order, so results match the scalar
/// code bit for bit; loads and stores are unaligned.
typealias Float16x = SIMD16<Float>

@inline(__always)
func load16(_ p: UnsafePointer<Float>) -> Float16x { UnsafeRawPointer(p).loadUnaligned(as: Float16x.self) }

@inline(__always)
func store16(_ value: Float16x, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: value, as: Float16x.self) }

/// `destination[i] = source[i]` for `count` floats: inline, so short rows (one channel) cost no call.
@inline(__always)
func copyFloats(_ source: UnsafePointer<Float>, to destination: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        store16(load16(source + i), destination + i)
        i += 16
    }
    while i < count {
        destination[i] = source[i]
        i += 1
    }
}

/// `destination[i] += source[i]` for `count` floats.
@inline(__always)
func accumulate(_ source: UnsafePointer<Float>, into destination: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + 16 <= count {
        store16(load16(destination + i) + load16(source + i), destination + i)
        i += 16
    }
    while i < count {
        destination[i] += source[i]
        i += 1
    }
}
