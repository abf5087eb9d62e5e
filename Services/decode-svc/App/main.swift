// decode-svc: runs DecodeModule (handlers in DecodeSvc, compute in its method library).
import DecodeSvc
import MeshKit

await ServiceMain.run(DecodeModule())
