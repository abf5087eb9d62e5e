import MeshProto
import RunStore

extension Latentmesh_V1_ArtifactRef {
    /// The wire reference to a stored artifact (sha256, size, path under the root, media type).
    public init(_ record: ArtifactRecord) {
        self.init()
        sha256 = record.sha256; size = record.size; path = record.path; mediaType = record.mediaType
    }
}
