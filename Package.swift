// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "swift-distill",
    products: [
        .executable(name: "distill", targets: ["distill"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Reads .npz archives (Keras's mnist.npz layout); a maintained zip reader, not a hand-written one.
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // C libraries from Debian, reached through module maps.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CGzip", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // oneDNN ships no pkg-config file: the module map names the library.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),

        // Loops Swift cannot vectorise beyond SSE2 in a portable build (depthwise convolution,
        // BatchNormalization), compiled for AVX-512, AVX2 and baseline x86-64, chosen at load time (target_clones);
        // and bench's multiply-add peak loop.
        // libmvec: glibc's vector exp and erf, for the smooth activations (smooth.c).
        .target(name: "CKernels", linkerSettings: [.linkedLibrary("mvec", .when(platforms: [.linux]))]),
        .target(name: "NN", dependencies: ["COpenBLAS", "CDNNL", "CKernels"]),
        .target(name: "Datasets", dependencies: ["CGzip", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .target(name: "Collective", dependencies: ["CMPI"]),
        // The presets are Keras model JSON files, compiled into the binary (PackageResources).
        .target(name: "Distill", dependencies: ["NN", "Datasets", "Collective", "CKernels"],
                resources: [.embedInCode("Presets")]),
        .executableTarget(name: "distill", dependencies: [
            "Distill", "NN", "Datasets", "Collective",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Run under `mpirun -np 2` by scripts/test.sh: checks the collectives across processes.
        .executableTarget(name: "collective-check", dependencies: ["Collective"]),

        // Runs built executables (under mpirun or alone) for end-to-end tests.
        .target(name: "TestSupport", dependencies: ["NN"], path: "Tests/TestSupport"),
        .testTarget(name: "NNTests", dependencies: ["NN", "TestSupport"]),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TestSupport", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        .testTarget(name: "CollectiveTests", dependencies: ["Collective", "TestSupport"]),
        // `distill` too: a test registers a loss of its own and runs a command in its process.
        .testTarget(name: "DistillTests", dependencies: ["Distill", "distill", "NN", "Datasets", "Collective", "TestSupport"]),
    ]
)

