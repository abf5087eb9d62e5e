"""Generated protobuf modules of package latentmesh.v1 (scripts/gen-protos)."""
