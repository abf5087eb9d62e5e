// mesh-bench AREA: measures one area of LatentMesh (release build). The last stdout line is
// one JSON object with the area's figures. All logic lives in the per-area files.
import Foundation

let areas: [String: (String, ([String]) async throws -> Void)] = [
    "kernels": ("fixed-order GEMM (batch-invariant sampling) vs sgemm on flowgen-s products, GFLOP/s", { try KernelBench.run(arguments: $0) }),
    "mesh": ("transport round trips (RabbitMQ and in-process) and audit writes", { try await MeshBench.run(arguments: $0) }),
    "compute": ("sgemm GFLOPS and a reference ViT training step (MFU)", { try ComputeBench.run(arguments: $0) }),
    "data": ("MiniLM sentences/s, EfficientNet images/s, 10k-image FD wall time", { try DataBench.run(arguments: $0) }),
    "decode": ("AR / MDM / ReFusion decoders and decode-svc replica scaling", { try await DecodeBench.run(arguments: $0) }),
    "distill": ("28-step teacher with guidance vs 1/2/4-step students: ms per image and speedup", { try DistillBench.run(arguments: $0) }),
    "generator": ("reference DiT step (MFU), sampling and generate latency in process / over RabbitMQ", { try await GeneratorBench.run(arguments: $0) }),
    "serving": ("urgent-lane wait behind a queue of normal requests (priority_wait_ms)", { try await ServingBench.run(arguments: $0) }),
    "tokenizer": ("VTP training throughput and encode/decode latency", { try await TokenizerBench.run(arguments: $0) }),
]

let args = Array(CommandLine.arguments.dropFirst())
guard let area = args.first, let entry = areas[area] else {
    var usage = "usage: mesh-bench AREA [options]\nareas:\n"
    for (k, v) in areas.sorted(by: { $0.key < $1.key }) { usage += "  \(k.padding(toLength: 10, withPad: " ", startingAt: 0)) \(v.0)\n" }
    FileHandle.standardError.write(Data(usage.utf8))
    exit(args.first == nil || args.first == "--help" ? 0 : 2)
}
do {
    try await entry.1(Array(args.dropFirst()))
} catch {
    FileHandle.standardError.write(Data("mesh-bench \(area): \(error)\n".utf8))
    exit(1)
}
