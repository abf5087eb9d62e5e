/// The three decoders.
public enum DecodeMode: String, Sendable, CaseIterable {
    case ar, mdm, refusion
}

/// Parameters of one decode request, with the validated ranges the service enforces.
public struct DecodeParameters: Sendable, Equatable {
    public static let maxTokensRange = 1...512
    public static let slotSizeRange = 1...32
    public static let blockSizeRange = 1...128
    public static let thresholdRange: ClosedRange<Float> = 0...1

    /// Largest number of generated tokens (EOS excluded).
    public var maxTokens: Int
    /// ReFusion slot size k (tokens per slot).
    public var slotSize: Int
    /// Block size b (ReFusion and MDM); ReFusion needs b % k == 0.
    public var blockSize: Int
    /// ReFusion tau_slot: plan selects slots whose first-token prob exceeds it (at least one).
    public var slotThreshold: Float
    /// ReFusion tau_token: verification accepts tokens whose prob exceeds it;
    /// MDM: unmask positions whose confidence exceeds it (at least one per step).
    public var tokenThreshold: Float

    public init(maxTokens: Int = 64, slotSize: Int = 4, blockSize: Int = 16, slotThreshold: Float = 0.5,
                tokenThreshold: Float = 0.7) {
        self.maxTokens = maxTokens; self.slotSize = slotSize; self.blockSize = blockSize
        self.slotThreshold = slotThreshold; self.tokenThreshold = tokenThreshold
    }

    /// A parameter outside its range: names the field, the value and the range.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var field: String
        public var message: String
        public var description: String { "\(field): \(message)" }
    }

    /// Checks every range; `field` names use the protobuf field names.
    public func validate() throws {
        func check<T: Comparable>(_ field: String, _ v: T, _ r: ClosedRange<T>) throws {
            guard r.contains(v) else {
                throw Invalid(field: field, message: "\(field) = \(v) is out of range: must be in \(r.lowerBound)...\(r.upperBound)")
            }
        }
        try check("max_tokens", maxTokens, Self.maxTokensRange)
        try check("slot_size", slotSize, Self.slotSizeRange)
        try check("block_size", blockSize, Self.blockSizeRange)
        guard slotThreshold.isFinite else { throw Invalid(field: "slot_threshold", message: "slot_threshold must be finite") }
        guard tokenThreshold.isFinite else { throw Invalid(field: "token_threshold", message: "token_threshold must be finite") }
        try check("slot_threshold", slotThreshold, Self.thresholdRange)
        try check("token_threshold", tokenThreshold, Self.thresholdRange)
        guard blockSize % slotSize == 0 else {
            throw Invalid(field: "block_size", message: "block_size = \(blockSize) must be a multiple of slot_size = \(slotSize)")
        }
    }
}

/// What a decoder produced.
public struct DecodeOutput: Sendable, Equatable {
    /// Generated tokens in position order, truncated before the first [EOS].
    public var tokens: [Int]
    /// Model forward passes (calls), including the prompt prefill.
    public var forwards: Int
    /// Whether generation ended with [EOS] (false: hit max tokens).
    public var finished: Bool
    /// Tokens committed without a causal check (ReFusion's draft-keeping variants; 0 otherwise).
    public var unverifiedCommits: Int
    /// Tokens committed by an "at least one token" fallback although their probability was not
    /// above the decoder's threshold: ReFusion II-b commits the causal argmax (the token greedy AR
    /// decoding would commit, so still causally checked); MDM unmasks its most confident position.
    /// A terminating [EOS] committed this way counts; 0 for AR, which has no threshold.
    public var belowThresholdCommits: Int

    public init(tokens: [Int], forwards: Int, finished: Bool, unverifiedCommits: Int = 0, belowThresholdCommits: Int = 0) {
        self.tokens = tokens; self.forwards = forwards; self.finished = finished
        self.unverifiedCommits = unverifiedCommits; self.belowThresholdCommits = belowThresholdCommits
    }

    public var tokensPerForward: Double { forwards > 0 ? Double(tokens.count) / Double(forwards) : 0 }
}
