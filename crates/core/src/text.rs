//! Text from elsewhere (server replies, runbook text, operator names) made safe to show a
//! person: the one sanitiser for the screen, `warroom status` and the markdown export.

use std::borrow::Cow;

/// Whether a character must never reach a terminal or a document a person reads: control
/// characters (C0, DEL, C1), bidi overrides, embeddings, isolates and marks (which can make
/// text read differently from what it is), and zero-width characters (which hide text).
pub fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{200B}'..='\u{200D}'
                | '\u{2060}'
                | '\u{FEFF}'
        )
}

/// `s` without unsafe characters. Line breaks and tabs become a space (words stay apart and a
/// foreign string cannot start a line of its own); everything else unsafe is dropped.
/// Borrows when there is nothing to clean.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_unsafe) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter_map(|c| {
                if !is_unsafe(c) {
                    Some(c)
                } else if c.is_whitespace() {
                    Some(' ')
                } else {
                    None
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_controls_bidi_and_zero_width() {
        assert!(matches!(clean("plain text, ünïcode ✓"), Cow::Borrowed(_)));
        assert_eq!(clean("a\u{1b}[2Jb"), "a[2Jb");
        assert_eq!(clean("one\ntwo\tthree\r"), "one two three ");
        assert_eq!(clean("x\u{7f}\u{9b}y"), "xy");
        assert_eq!(clean("admin\u{202E}txt.exe"), "admintxt.exe");
        assert_eq!(clean("\u{2066}a\u{2069}\u{200F}"), "a");
        assert_eq!(clean("pa\u{200B}ss\u{200D}\u{2060}\u{FEFF}"), "pass");
    }
}
