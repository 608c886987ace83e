/// The deterministic text the mock generates: tokens `tok0`, ` tok1`, ` tok2`, …
///
/// Concatenated they read `tok0 tok1 tok2 …`, so tests can predict a response byte for byte.
enum TokenText {
    /// The text of the token at `index` (0-based).
    static func token(_ index: Int) -> String {
        index == 0 ? "tok0" : " tok\(index)"
    }

    /// The text of the first `count` tokens.
    static func text(count: Int) -> String {
        var text = ""
        for index in 0..<max(0, count) { text += token(index) }
        return text
    }
}
