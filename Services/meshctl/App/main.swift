// meshctl: the LatentMesh command line (all logic in MeshCtlKit).
import MeshCtlKit

await MeshCtl.entry()
