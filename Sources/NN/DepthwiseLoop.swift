import CKernels

/// Which of DepthwiseConv2D's direct loops runs (CKernels' depthwise.c), by the widest instruction set it uses.
/// With one filter per channel and a multiple of 16 channels, `avx512` keeps runs of up to eight pixels (eight
/// sums) and a 3 x 3 kernel's nine gradient sums in registers, `avx2` runs of up to four pixels (four sums) and a
/// kernel row's three; `plain` (and any other shape) is the plain loop. All three add in the same order, so they
/// give the same bits; the widest the CPU has is used unless set lower (tests compare them on one machine).
public enum DepthwiseLoop: Int32, CaseIterable, Comparable, Sendable {
    case plain = 0, avx2 = 1, avx512 = 2

    /// The loop in use. Setting a level the CPU lacks uses the widest it has.
    public static var current: DepthwiseLoop {
        get { DepthwiseLoop(rawValue: distill_depthwise_level(-1))! }
        set { _ = distill_depthwise_level(newValue.rawValue) }
    }

    /// The widest loop this CPU can run.
    public static var widest: DepthwiseLoop { DepthwiseLoop(rawValue: distill_depthwise_widest())! }

    public var name: String { ["plain loop", "AVX2 runs", "AVX-512 runs"][Int(rawValue)] }

    public static func < (a: DepthwiseLoop, b: DepthwiseLoop) -> Bool { a.rawValue < b.rawValue }
}
