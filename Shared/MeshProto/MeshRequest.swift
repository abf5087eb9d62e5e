import SwiftProtobuf

/// A request message: every request carries `RequestMeta` at field 1. Each request type's
/// conformance sits here, beside the generated protos, so a new service adds one line.
public protocol MeshRequest: SwiftProtobuf.Message {
    var meta: Latentmesh_V1_RequestMeta { get set }
}

// Backbone (every service).
extension Latentmesh_V1_DescribeRequest: MeshRequest {}
extension Latentmesh_V1_HealthRequest: MeshRequest {}
extension Latentmesh_V1_PingRequest: MeshRequest {}
// tokenizer
extension Latentmesh_V1_TokenizerTrainRequest: MeshRequest {}
extension Latentmesh_V1_EncodeRequest: MeshRequest {}
extension Latentmesh_V1_DecodeLatentsRequest: MeshRequest {}
// generator
extension Latentmesh_V1_GenerateRequest: MeshRequest {}
extension Latentmesh_V1_GeneratorTrainRequest: MeshRequest {}
extension Latentmesh_V1_GeneratorEvaluateRequest: MeshRequest {}
// personalize
extension Latentmesh_V1_LearnConceptRequest: MeshRequest {}
extension Latentmesh_V1_BlendConceptsRequest: MeshRequest {}
// decode
extension Latentmesh_V1_DecodeRunRequest: MeshRequest {}
extension Latentmesh_V1_DecodeTrainRequest: MeshRequest {}
// distill
extension Latentmesh_V1_DistillTrainRequest: MeshRequest {}
extension Latentmesh_V1_DistillEvaluateRequest: MeshRequest {}
