//! Text from outside (server answers, task IDs, files) made safe to print on a terminal: the one
//! escaping path every human-readable line goes through. JSON output needs none of this; the JSON
//! encoder escapes what it must.

use std::borrow::Cow;

/// Would printing `c` do something other than show a glyph? Control characters (terminal escape
/// sequences start with one), bidirectional overrides and isolates (they reorder what follows, so
/// a line can read differently from what it holds), zero-width characters (invisible, so two
/// different IDs look the same), and the Unicode line and paragraph separators.
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{061c}'                      // Arabic letter mark (bidi)
            | '\u{200b}'..='\u{200f}'       // zero-width space/joiners, LRM, RLM
            | '\u{2028}' | '\u{2029}'       // line and paragraph separators
            | '\u{202a}'..='\u{202e}'       // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}'       // word joiner and invisible operators
            | '\u{2066}'..='\u{2069}'       // bidi isolates
            | '\u{feff}') // zero-width no-break space (BOM)
}

/// `text` with every hazardous character written as a visible escape (`\u{1b}`, `\u{202e}`,
/// `\n`); borrowed unchanged when there is none, which is nearly always.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hazard) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_hazard(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `escape(text)` cut to about `max` characters (an ellipsis marks the cut), for quoting a long
/// server message or a bad input in one line.
pub fn excerpt(text: &str, max: usize) -> String {
    let escaped = escape(text);
    match escaped.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_as_is() {
        for text in [
            "t-aaa",
            "任务-01",
            "a,b",
            "ProjectNotExist: Project p does not exist.",
        ] {
            assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
        }
    }

    #[test]
    fn terminal_sequences_bidi_and_invisible_characters_are_shown_escaped() {
        assert_eq!(escape("\u{1b}]0;pwned\u{7}id"), "\\u{1b}]0;pwned\\u{7}id");
        assert_eq!(escape("\u{1b}[2J"), "\\u{1b}[2J");
        assert_eq!(escape("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(escape("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(
            escape("\u{feff}x\u{2066}y\u{2069}"),
            "\\u{feff}x\\u{2066}y\\u{2069}"
        );
        assert_eq!(escape("line\nnext\r\t"), "line\\nnext\\r\\t");
        assert_eq!(escape("\u{85}\u{2028}"), "\\u{85}\\u{2028}");
        for c in ('\u{0}'..='\u{10ffff}').filter(|&c| is_hazard(c)) {
            let shown = escape(&c.to_string()).into_owned();
            assert!(!shown.chars().any(is_hazard), "{c:?} -> {shown:?}");
        }
    }

    #[test]
    fn excerpts_are_cut_after_escaping() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt(&"x".repeat(30), 10), format!("{}…", "x".repeat(10)));
        let cut = excerpt(&"\u{1b}".repeat(100), 20);
        assert_eq!(cut.chars().count(), 21, "{cut}");
        assert!(!cut.contains('\u{1b}'));
    }
}
