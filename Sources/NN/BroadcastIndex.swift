/// For each element of a tensor of `shape` (row-major), the index of the element of a tensor of `broadcast` shape
/// it reads when that one is broadcast over it: `broadcast` has `shape`'s rank, each axis its size or 1, and an axis
/// of 1 is read at position 0. Dropout's `noise_shape` keeps and PReLU's shared slopes (per sample).
func broadcastIndices(of shape: [Int], reading broadcast: [Int]) -> [Int32] {
    precondition(shape.count == broadcast.count && zip(shape, broadcast).allSatisfy { $1 == $0 || $1 == 1 })
    return (0..<shape.reduce(1, *)).map { j in
        var (rest, index, stride) = (j, 0, 1)
        for axis in shape.indices.reversed() {
            let position = rest % shape[axis]
            rest /= shape[axis]
            if broadcast[axis] != 1 { index += position * stride }
            stride *= broadcast[axis]
        }
        return Int32(index)
    }
}
