// tokenizer-svc: wires configuration, transport, store and the tokenizer handlers (all logic in libraries).
import MeshKit
import ServiceHandlers

await ServiceMain.run(service: "tokenizer") { config in try ServiceCatalog.definition("tokenizer", config: config) }
