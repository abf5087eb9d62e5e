// generator-svc: runs GeneratorModule (handlers in GeneratorSvc, compute in its method library).
import GeneratorSvc
import MeshKit

await ServiceMain.run(GeneratorModule())
