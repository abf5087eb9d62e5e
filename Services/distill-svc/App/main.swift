// distill-svc: runs DistillModule (handlers in DistillSvc, compute in its method library).
import DistillSvc
import MeshKit

await ServiceMain.run(DistillModule())
