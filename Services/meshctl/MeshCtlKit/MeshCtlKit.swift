// MeshCtlKit
