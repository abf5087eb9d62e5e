// distill-svc: wires configuration, transport, store and the distill handlers (all logic in libraries).
import MeshKit
import ServiceHandlers

await ServiceMain.run(service: "distill") { config in try ServiceCatalog.definition("distill", config: config) }
