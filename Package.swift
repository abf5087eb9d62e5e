// swift-tools-version:6.0
import PackageDescription

// LatentMesh: five services over RabbitMQ + PostgreSQL sharing one BLAS compute core.
// Dependency direction: executables -> method libraries / MeshKit / RunStore
//   -> Models, Datasets, Evaluation -> ComputeCore -> CBLAS, CKernels (fixed-order GEMM).

let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]
/// Service executables and meshctl link the Swift standard library and Foundation statically (lld,
/// order-independent archive resolution; Foundation's own archives named, as swiftc's
/// -static-stdlib autolinking misses them in a package build), so the compose image needs no
/// Swift runtime, only the system C libraries it installs.
let staticStdlib: [LinkerSetting] = [.unsafeFlags(["-static-stdlib", "-use-ld=lld"] + ["Foundation", "CoreFoundation", "FoundationEssentials", "FoundationInternationalization", "_FoundationICU", "_FoundationCShims", "_FoundationCollections"].flatMap { ["-Xlinker", "-l" + $0] })]

let package = Package(
    name: "LatentMesh",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tokenizer-svc", targets: ["tokenizer-svc"]),
        .executable(name: "generator-svc", targets: ["generator-svc"]),
        .executable(name: "personalize-svc", targets: ["personalize-svc"]),
        .executable(name: "decode-svc", targets: ["decode-svc"]),
        .executable(name: "distill-svc", targets: ["distill-svc"]),
        .executable(name: "meshctl", targets: ["meshctl"]),
        .executable(name: "mesh-bench", targets: ["mesh-bench"]),
        .library(name: "ComputeCore", targets: ["ComputeCore"]),
        .library(name: "MeshKit", targets: ["MeshKit"]),
        .library(name: "RunStore", targets: ["RunStore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    ],
    targets: [
        // MARK: C modules (system libraries + small shims)
        .systemLibrary(name: "CBLAS", path: "Shared/CBLAS"),
        .systemLibrary(name: "CSQLite", path: "Shared/CSQLite"),
        .systemLibrary(name: "CLibPQ", path: "Shared/CLibPQ"),
        .systemLibrary(name: "CCrypto", path: "Shared/CCrypto"),
        .target(name: "CRabbitMQ", path: "Shared/CRabbitMQ",
                linkerSettings: [.linkedLibrary("rabbitmq")]),
        .target(name: "CKernels", path: "Shared/CKernels",
                cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "CPNG", path: "Shared/CPNG",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z")]),

        // MARK: Shared libraries
        .target(name: "ComputeCore", dependencies: ["CBLAS", "CKernels"], path: "Shared/ComputeCore",
                swiftSettings: fastMath + [.unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .release))]),
        .target(name: "Models", dependencies: ["ComputeCore"], path: "Shared/Models",
                swiftSettings: fastMath),
        .target(name: "Datasets", dependencies: ["ComputeCore", "CPNG"], path: "Shared/Datasets",
                swiftSettings: fastMath),
        .target(name: "Evaluation", dependencies: ["ComputeCore", "Models", "Datasets", "CBLAS"],
                path: "Shared/Evaluation", swiftSettings: fastMath),
        .target(name: "MeshProto", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Shared/MeshProto"),
        .target(name: "RunStore", dependencies: [
            "CLibPQ", "CSQLite", "CCrypto",
            .product(name: "Logging", package: "swift-log"),
        ], path: "Shared/RunStore", exclude: ["README.md"]),
        .target(name: "MeshKit", dependencies: [
            "CRabbitMQ", "MeshProto", "RunStore", "ComputeCore",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
        ], path: "Shared/MeshKit"),

        // MARK: Services: one folder each = method library (pure compute) + service module
        // (handlers; MeshKit + its own method library) + thin App/main.swift.
        .target(name: "VTP", dependencies: ["ComputeCore", "Models", "Datasets", "Evaluation"],
                path: "Services/tokenizer-svc/VTP", swiftSettings: fastMath),
        // RecTok (METHODS.md §2) reuses VTP's ViT encoder, pixel decoder, patches and data, and
        // FlowGen's FlowSchedule: the tokenizer's latent noise uses the generator's own shift.
        .target(name: "RecTok", dependencies: ["VTP", "FlowGen", "ComputeCore", "Models", "Datasets", "Evaluation"],
                path: "Services/tokenizer-svc/RecTok", swiftSettings: fastMath),
        // TokenizerSvc serves both tokenizer methods of tokenizer-svc (VTP, RecTok); Evaluation only
        // for `EvaluationCache`, the store-backed cache of RecTok's teacher features.
        .target(name: "TokenizerSvc", dependencies: ["MeshKit", "MeshProto", "VTP", "RecTok", "Evaluation", "ComputeCore"],
                path: "Services/tokenizer-svc/TokenizerSvc"),
        .executableTarget(name: "tokenizer-svc", dependencies: ["TokenizerSvc", "MeshKit"],
                          path: "Services/tokenizer-svc/App", linkerSettings: staticStdlib),

        .target(name: "FlowGen", dependencies: ["ComputeCore", "Models", "Datasets"],
                path: "Services/generator-svc/FlowGen", swiftSettings: fastMath),
        // Departure: GeneratorSvc also links VTP and RecTok to encode/decode latents in process with
        // the tokenizer the generator names, of either kind (`LatentTokenizers.load`; the co-hosted
        // path; no RPC client in RunContext yet).
        .target(name: "GeneratorSvc", dependencies: ["MeshKit", "MeshProto", "RunStore", "FlowGen", "Distill", "VTP", "RecTok", "Datasets", "Evaluation", "Models", "ComputeCore"],
                path: "Services/generator-svc/GeneratorSvc"),
        .executableTarget(name: "generator-svc", dependencies: ["GeneratorSvc", "MeshKit"],
                          path: "Services/generator-svc/App", linkerSettings: staticStdlib),

        .target(name: "DTI", dependencies: ["ComputeCore", "Models", "FlowGen", "Datasets", "Evaluation"],
                path: "Services/personalize-svc/DTI", swiftSettings: fastMath),
        .target(name: "PersonalizeSvc", dependencies: ["MeshKit", "MeshProto", "RunStore", "DTI", "FlowGen", "VTP", "RecTok", "Models", "Datasets", "ComputeCore"],
                path: "Services/personalize-svc/PersonalizeSvc"),
        .executableTarget(name: "personalize-svc", dependencies: ["PersonalizeSvc", "MeshKit"],
                          path: "Services/personalize-svc/App", linkerSettings: staticStdlib),

        .target(name: "ReFusion", dependencies: ["ComputeCore", "Evaluation", "Datasets"], path: "Services/decode-svc/ReFusion",
                swiftSettings: fastMath),
        .target(name: "DecodeSvc", dependencies: ["ComputeCore", "MeshKit", "MeshProto", "ReFusion"],
                path: "Services/decode-svc/DecodeSvc"),
        .executableTarget(name: "decode-svc", dependencies: ["DecodeSvc", "MeshKit"],
                          path: "Services/decode-svc/App", linkerSettings: staticStdlib),

        .target(name: "Distill", dependencies: ["ComputeCore", "FlowGen", "Datasets"], path: "Services/distill-svc/Distill",
                swiftSettings: fastMath),
        // Departure: DistillSvc links GeneratorSvc to sample and decode students and teachers for
        // `distill.evaluate` exactly as `generator.generate` serves them (ServedModel).
        .target(name: "DistillSvc", dependencies: ["MeshKit", "MeshProto", "RunStore", "Distill", "FlowGen", "GeneratorSvc", "VTP",
                                                   "Evaluation", "Models", "Datasets", "ComputeCore"],
                path: "Services/distill-svc/DistillSvc"),
        .executableTarget(name: "distill-svc", dependencies: ["DistillSvc", "MeshKit"],
                          path: "Services/distill-svc/App", linkerSettings: staticStdlib),

        // The one list of service modules (embedded host, mesh-bench, tests).
        .target(name: "ServiceCatalog", dependencies: [
            "MeshKit", "TokenizerSvc", "GeneratorSvc", "PersonalizeSvc", "DecodeSvc", "DistillSvc",
        ], path: "Services/ServiceCatalog"),

        .target(name: "MeshCtlKit", dependencies: [
            "ServiceCatalog", "TokenizerSvc", "DecodeSvc", "GeneratorSvc", "DistillSvc", "Distill", "FlowGen", "VTP", "RecTok", "ReFusion",
            "MeshKit", "MeshProto", "RunStore", "Datasets", "Models", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ], path: "Services/meshctl/MeshCtlKit"),
        .executableTarget(name: "meshctl", dependencies: ["MeshCtlKit"], path: "Services/meshctl/App",
                          linkerSettings: staticStdlib),
        .executableTarget(name: "mesh-bench", dependencies: [
            "ComputeCore", "MeshKit", "RunStore", "ServiceCatalog", "ReFusion", "DecodeSvc", "VTP", "Models", "Datasets", "Evaluation",
            "FlowGen", "Distill",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/mesh-bench", swiftSettings: fastMath),

        // MARK: Test kit: TestKit (missing pieces fail under scripts/test; no mesh imports) and
        // MeshTesting (in-process mesh, service processes, stack environment, error assertions).
        .target(name: "TestKit", path: "Tests/TestKit"),
        .target(name: "MeshTesting", dependencies: ["TestKit", "MeshKit", "MeshProto", "RunStore",
                                                     .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Tests/MeshTesting"),

        // MARK: Tests (method-library tests depend on no mesh or store target)
        .testTarget(name: "ComputeCoreTests", dependencies: ["ComputeCore"], path: "Tests/ComputeCoreTests"),
        .testTarget(name: "DataKitTests", dependencies: ["Datasets", "Models", "Evaluation", "ComputeCore", "TestKit"],
                    path: "Tests/DataKitTests", exclude: ["Reference"]),
        .testTarget(name: "RunStoreTests", dependencies: ["RunStore"], path: "Tests/RunStoreTests"),
        .testTarget(name: "MeshKitTests", dependencies: ["MeshKit", "MeshProto", "RunStore", "ComputeCore"],
                    path: "Tests/MeshKitTests"),
        .testTarget(name: "ReFusionTests", dependencies: ["ReFusion", "ComputeCore", "Evaluation", "TestKit"], path: "Tests/ReFusionTests"),
        .testTarget(name: "DecodeSvcTests", dependencies: ["DecodeSvc", "ReFusion", "MeshTesting"], path: "Tests/DecodeSvcTests"),
        .testTarget(name: "VTPTests", dependencies: ["VTP", "ComputeCore", "Models", "Datasets", "Evaluation", "TestKit"],
                    path: "Tests/VTPTests"),
        .testTarget(name: "RecTokTests", dependencies: ["RecTok", "VTP", "FlowGen", "ComputeCore", "Datasets", "Evaluation", "TestKit"],
                    path: "Tests/RecTokTests"),
        .testTarget(name: "FlowGenTests", dependencies: ["FlowGen", "ComputeCore", "Datasets"], path: "Tests/FlowGenTests"),
        .testTarget(name: "DTITests", dependencies: ["DTI", "FlowGen", "Models", "ComputeCore"], path: "Tests/DTITests"),
        .testTarget(name: "PersonalizeSvcTests", dependencies: [
            "PersonalizeSvc", "GeneratorSvc", "TokenizerSvc", "DTI", "FlowGen", "VTP", "Models", "Datasets", "ComputeCore",
            "MeshKit", "MeshProto", "RunStore", "MeshTesting", "MeshCtlKit",
        ], path: "Tests/PersonalizeSvcTests"),
        .testTarget(name: "TokenizerSvcTests", dependencies: ["TokenizerSvc", "VTP", "RecTok", "MeshTesting"],
                    path: "Tests/TokenizerSvcTests"),
        .testTarget(name: "GeneratorSvcTests", dependencies: [
            "GeneratorSvc", "TokenizerSvc", "FlowGen", "VTP", "RecTok", "MeshKit", "MeshProto", "RunStore", "Datasets", "Evaluation", "ComputeCore", "MeshTesting",
        ], path: "Tests/GeneratorSvcTests"),
        .testTarget(name: "DistillTests", dependencies: [
            "Distill", "DistillSvc", "GeneratorSvc", "TokenizerSvc", "VTP", "FlowGen", "Datasets", "ComputeCore", "MeshKit",
            "MeshProto", "RunStore", "MeshTesting",
        ], path: "Tests/DistillTests"),
        .testTarget(name: "IntegrationTests", dependencies: [
            "MeshKit", "MeshProto", "RunStore", "ServiceCatalog", "MeshCtlKit", "MeshTesting", "TokenizerSvc",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Tests/IntegrationTests"),
    ],
    swiftLanguageModes: [.v5]
)
