/// One supervised sequence: a prompt (starting with [BOS]) and the response the model
/// must produce (without [EOS]; builders append it). `answer` is the verifiable part of
/// the response (empty for free text).
public struct SequenceExample: Sendable, Equatable {
    /// `arithmetic` (`ArithmeticTask`), `text` (`FortuneCorpus`), and the longer exact-match
    /// tasks `longAddition` (`LongAdditionTask`) and `sorting` (`SortingTask`).
    public enum Task: String, Sendable, CaseIterable { case arithmetic, text, longAddition, sorting }

    public var task: Task
    public var prompt: [Int]
    public var response: [Int]
    public var promptText: String
    public var responseText: String
    public var answer: String

    public init(task: Task, prompt: [Int], response: [Int], promptText: String, responseText: String,
                answer: String = "") {
        self.task = task; self.prompt = prompt; self.response = response
        self.promptText = promptText; self.responseText = responseText; self.answer = answer
    }

    /// Encodes `prompt`/`response` with `vocab`, prefixing [BOS] to the prompt.
    public init(task: Task, prompt: String, response: String, answer: String = "",
                vocab: CharVocabulary = CharVocabulary()) {
        self.init(task: task, prompt: [CharVocabulary.bos] + vocab.encode(prompt), response: vocab.encode(response),
                  promptText: prompt, responseText: response, answer: answer)
    }

    /// Prompt + response + [EOS] length.
    public var totalLength: Int { prompt.count + response.count + 1 }
}
