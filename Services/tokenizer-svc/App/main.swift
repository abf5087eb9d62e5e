// tokenizer-svc: runs TokenizerModule (handlers in TokenizerSvc, compute in its method library).
import TokenizerSvc
import MeshKit

await ServiceMain.run(TokenizerModule())
