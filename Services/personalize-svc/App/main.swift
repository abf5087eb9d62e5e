// personalize-svc: runs PersonalizeModule (handlers in PersonalizeSvc, compute in its method library).
import PersonalizeSvc
import MeshKit

await ServiceMain.run(PersonalizeModule())
