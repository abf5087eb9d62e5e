// swift-tools-version:6.0
import PackageDescription

// LatentMesh: five services over RabbitMQ + PostgreSQL sharing one BLAS compute core.
// Dependency direction: executables -> method libraries / MeshKit / RunStore
//   -> Models, Datasets, Evaluation -> ComputeCore -> CBLAS.

let fastMath: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo"], .when(configuration: .release))]

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
        .target(name: "CPNG", path: "Shared/CPNG",
                linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("z")]),

        // MARK: Shared libraries
        .target(name: "ComputeCore", dependencies: ["CBLAS"], path: "Shared/ComputeCore",
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
            "CRabbitMQ", "MeshProto", "RunStore",
            .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
        ], path: "Shared/MeshKit"),

        // MARK: Services: handler libraries (logic, tested) + thin executables
        .target(name: "ReFusion", dependencies: ["ComputeCore"], path: "Services/decode-svc/ReFusion",
                swiftSettings: fastMath),
        .target(name: "VTP", dependencies: ["ComputeCore", "Models", "Datasets", "Evaluation"],
                path: "Services/tokenizer-svc/VTP", swiftSettings: fastMath),
        .target(name: "ServiceHandlers", dependencies: ["MeshKit", "MeshProto", "RunStore", "ReFusion", "VTP"],
                path: "Services/Handlers"),
        .executableTarget(name: "tokenizer-svc", dependencies: ["ServiceHandlers", "MeshKit"],
                          path: "Services/tokenizer-svc/App"),
        .executableTarget(name: "generator-svc", dependencies: ["ServiceHandlers", "MeshKit"],
                          path: "Services/generator-svc/App"),
        .executableTarget(name: "personalize-svc", dependencies: ["ServiceHandlers", "MeshKit"],
                          path: "Services/personalize-svc/App"),
        .executableTarget(name: "decode-svc", dependencies: ["ServiceHandlers", "MeshKit"],
                          path: "Services/decode-svc/App"),
        .executableTarget(name: "distill-svc", dependencies: ["ServiceHandlers", "MeshKit"],
                          path: "Services/distill-svc/App"),
        .target(name: "MeshCtlKit", dependencies: [
            "ServiceHandlers", "MeshKit", "MeshProto", "RunStore", "Datasets", "Models", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Services/meshctl/MeshCtlKit"),
        .executableTarget(name: "meshctl", dependencies: ["MeshCtlKit"], path: "Services/meshctl/App"),
        .executableTarget(name: "mesh-bench", dependencies: [
            "ComputeCore", "MeshKit", "RunStore", "ServiceHandlers", "Models", "Datasets", "Evaluation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Benchmarks/mesh-bench", swiftSettings: fastMath),

        // MARK: Tests
        .testTarget(name: "ComputeCoreTests", dependencies: ["ComputeCore"], path: "Tests/ComputeCoreTests"),
        .testTarget(name: "DataKitTests", dependencies: ["Datasets", "Models", "Evaluation", "ComputeCore"],
                    path: "Tests/DataKitTests", exclude: ["Reference"]),
        .testTarget(name: "RunStoreTests", dependencies: ["RunStore"], path: "Tests/RunStoreTests"),
        .testTarget(name: "MeshKitTests", dependencies: ["MeshKit", "MeshProto", "RunStore"],
                    path: "Tests/MeshKitTests"),
        .testTarget(name: "ReFusionTests", dependencies: [
            "ReFusion", "ComputeCore", "ServiceHandlers", "MeshKit", "MeshProto", "RunStore",
        ], path: "Tests/ReFusionTests"),
        .testTarget(name: "VTPTests", dependencies: ["VTP", "ComputeCore", "Models", "Datasets", "Evaluation", "ServiceHandlers", "MeshKit", "RunStore", "MeshProto"],
                    path: "Tests/VTPTests"),
        .testTarget(name: "IntegrationTests", dependencies: [
            "MeshKit", "MeshProto", "RunStore", "ServiceHandlers", "MeshCtlKit",
        ], path: "Tests/IntegrationTests"),
    ],
    swiftLanguageModes: [.v5]
)
