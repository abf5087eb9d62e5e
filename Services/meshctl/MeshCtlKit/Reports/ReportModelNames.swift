import Evaluation

/// Names of the models a report trains in its cache home, derived from their training recipe, so
/// a report whose plan changed (another preset, budget, seed, data limit or tokenizer) trains
/// new models instead of silently reusing the old plan's: `<prefix>-<8 hex digits of FNV-1a of
/// the recipe>`. A recipe may include the preset's resolved configuration (`config`, its JSON),
/// so an edited preset also gets new models.
public enum ReportModelNames {
    /// The tokenizer trained with `preset` for `steps` steps from `seed`.
    public static func tokenizer(_ prefix: String, preset: String, steps: Int, seed: UInt64, config: String = "") -> String {
        name(prefix, ["tokenizer", preset, String(steps), String(seed)] + (config.isEmpty ? [] : [config]))
    }

    /// The generator trained on `tokenizer`'s latents with `preset` for `steps` steps.
    public static func generator(_ prefix: String, preset: String, steps: Int, trainLimit: Int, seed: UInt64,
                                 tokenizer: String, config: String = "") -> String {
        name(prefix, ["generator", preset, String(steps), String(trainLimit), String(seed), tokenizer] + (config.isEmpty ? [] : [config]))
    }

    static func name(_ prefix: String, _ recipe: [String]) -> String { RecipeName.name(prefix, recipe) }
}
