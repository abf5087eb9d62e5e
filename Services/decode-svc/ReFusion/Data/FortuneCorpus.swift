import Foundation

/// The natural-language corpus: fortune cookies from the Debian package `fortunes-min`
/// (/usr/share/games/fortunes/{fortunes,literature,riddles}, ~460 short cookies) or, as the
/// larger option, every cookie file of the Debian package `fortunes` installed beside them
/// (`Source.full`, ~6,000 short cookies), one cookie per example, whitespace collapsed, kept if
/// short enough. Split into train/test by a seeded hash.
///
/// A text example's prompt is the first `promptWords` words; the response is the rest.
public struct FortuneCorpus: Sendable {
    public static let defaultDirectory = "/usr/share/games/fortunes"
    public static let defaultFiles = ["fortunes", "literature", "riddles"]

    /// Which Debian package's cookie files to read.
    public enum Source: String, Sendable, CaseIterable {
        /// `fortunes-min`: the three files of `defaultFiles`.
        case min
        /// `fortunes`: every cookie file in the directory (`fullFiles(directory:)`).
        case full

        /// The Debian package that installs this source.
        public var debianPackage: String { self == .min ? "fortunes-min" : "fortunes" }
    }

    /// Cookie files in `directory` (no `.dat`/`.u8` indexes, no `ascii-art`), sorted; with the
    /// Debian package `fortunes` installed these are its ~40 topic files plus fortunes-min's three.
    public static func fullFiles(directory: String = FortuneCorpus.defaultDirectory) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { n in
            !n.hasSuffix(".dat") && !n.hasSuffix(".u8") && !n.hasPrefix(".") && n != "ascii-art"
                && !FileManager.default.fileExists(atPath: directory + "/" + n + "/.")   // no subdirectories (off/)
        }.sorted()
    }

    /// Loads the cookies of `source` (see `init(directory:files:...)`). `.full` needs the Debian
    /// package `fortunes`: with only `fortunes-min` installed it throws `MissingCorpus`.
    public init(source: Source, directory: String = FortuneCorpus.defaultDirectory, maxCharacters: Int = 80,
                heldOutPercent: Int = 10, seed: UInt64 = 1) throws {
        switch source {
        case .min:
            try self.init(directory: directory, files: Self.defaultFiles, maxCharacters: maxCharacters,
                          heldOutPercent: heldOutPercent, seed: seed)
        case .full:
            let files = Self.fullFiles(directory: directory)
            guard files.count > Self.defaultFiles.count else {
                throw MissingCorpus(path: directory + " (only \(files.count) cookie files)", package: "fortunes")
            }
            try self.init(directory: directory, files: files, maxCharacters: maxCharacters,
                          heldOutPercent: heldOutPercent, seed: seed)
        }
    }

    public let train: [String]
    public let test: [String]

    public struct MissingCorpus: Error, CustomStringConvertible {
        public let path: String
        public var package = "fortunes-min"
        public var description: String {
            "fortune corpus not found at \(path): install the Debian package \(package) (scripts/bootstrap)"
        }
    }

    /// Loads cookies of at most `maxCharacters` characters; `heldOutPercent` of them go to `test`.
    public init(directory: String = FortuneCorpus.defaultDirectory, files: [String] = FortuneCorpus.defaultFiles,
                maxCharacters: Int = 80, heldOutPercent: Int = 10, seed: UInt64 = 1) throws {
        var all: [String] = []
        for f in files {
            let path = directory + "/" + f
            guard let data = FileManager.default.contents(atPath: path) else { throw MissingCorpus(path: path) }
            all += Self.parse(String(decoding: data, as: UTF8.self), maxCharacters: maxCharacters)
        }
        var seen = Set<String>()
        all = all.filter { seen.insert($0).inserted }
        var tr: [String] = [], te: [String] = []
        for s in all {
            var h: UInt64 = seed
            for u in s.utf8 { h = (h ^ UInt64(u)) &* 0x100_0000_01B3 }
            if SeededRandom.hash(h) % 100 < UInt64(heldOutPercent) { te.append(s) } else { tr.append(s) }
        }
        train = tr; test = te
    }

    /// Cookies in a fortune file (`%` lines separate them), normalised to one line.
    public static func parse(_ text: String, maxCharacters: Int) -> [String] {
        var out: [String] = []
        var current: [String] = []
        func flush() {
            let joined = current.joined(separator: " ")
                .split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
            current.removeAll()
            guard !joined.isEmpty, joined.count <= maxCharacters,
                  joined.unicodeScalars.allSatisfy({ $0.value >= 32 && $0.value < 127 }) else { return }
            out.append(joined)
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "%" { flush() } else { current.append(String(line)) }
        }
        flush()
        return out
    }

    /// Splits a cookie into prompt (first `promptWords` words and the following space) and response.
    public static func example(_ cookie: String, promptWords: Int = 2, vocab: CharVocabulary = CharVocabulary())
        -> SequenceExample {
        let words = cookie.split(separator: " ", omittingEmptySubsequences: false)
        let n = min(promptWords, max(words.count - 1, 0))
        let prompt = words.prefix(n).joined(separator: " ") + (n > 0 ? " " : "")
        let response = String(cookie.dropFirst(prompt.count))
        return SequenceExample(task: .text, prompt: prompt, response: response, vocab: vocab)
    }

    public func trainingExamples(promptWords: Int = 2) -> [SequenceExample] {
        train.map { Self.example($0, promptWords: promptWords) }
    }

    public func testExamples(promptWords: Int = 2) -> [SequenceExample] {
        test.map { Self.example($0, promptWords: promptWords) }
    }
}
