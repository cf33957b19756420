//! Text a person typed that others will read: a revocation reason, a vote comment, a person's
//! name or email address. It reaches terminals (`trs releases`, `trs status`, `trs events`),
//! emails and pages, so it may not carry anything a terminal or a text renderer acts on: C0
//! and C1 control characters (ESC starts the sequences that clear a screen, move the cursor
//! or set a window title), and the bidirectional embedding, override and isolate characters
//! that make text display in another order than it reads. Newlines and tabs are kept where
//! the field is multi-line. This is the one rule for every free-text field; the API refuses
//! what breaks it (`invalid-text`).

/// Whether a field may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lines {
    /// A name, an address, a reason shown on one line of a listing.
    One,
    /// A comment: newlines and tabs are allowed.
    Many,
}

/// `None` if `text` may be stored, else why not (naming the first offending character).
pub fn refusal(text: &str, lines: Lines) -> Option<String> {
    let bad = text.chars().find(|&c| match c {
        '\n' | '\t' => lines == Lines::One,
        // LINE and PARAGRAPH SEPARATOR break lines as a newline does.
        '\u{2028}' | '\u{2029}' => lines == Lines::One,
        c if c.is_control() => true,
        // Bidirectional embeddings, overrides and isolates ("Trojan Source").
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    })?;
    let what = match bad {
        '\n' | '\u{2028}' | '\u{2029}' => "a line break".to_string(),
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => format!("U+{:04X}, a bidirectional control", bad as u32),
        _ => format!("U+{:04X}, a control character", bad as u32),
    };
    Some(format!("contains {what}, which could change how the text shows on someone else's terminal"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_passes_in_any_script() {
        for text in ["CVE-2026-0001: remote code execution", "Ada Lovelace", "Zoë Ñúñez 李小龍", "a <b> & 'c'"] {
            assert_eq!(refusal(text, Lines::One), None, "{text}");
        }
        assert_eq!(refusal("line one\n\tline two", Lines::Many), None);
    }

    #[test]
    fn terminal_controls_are_refused_on_any_field() {
        for text in [
            "\u{1b}[2J",
            "bell\u{7}",
            "nul\0",
            "del\u{7f}",
            "csi\u{9b}2J",
            "cr\rover",
            "evil\u{202E}txt",
            "iso\u{2066}x",
        ] {
            for lines in [Lines::One, Lines::Many] {
                assert!(refusal(text, lines).is_some(), "{text:?} {lines:?}");
            }
        }
        assert!(refusal("\u{1b}[2J", Lines::One).unwrap().contains("U+001B, a control character"));
    }

    #[test]
    fn line_breaks_are_refused_on_one_line_fields_only() {
        for text in ["a\nb", "a\tb", "a\u{2028}b"] {
            assert!(refusal(text, Lines::One).is_some(), "{text:?}");
        }
        assert_eq!(refusal("a\nb", Lines::Many), None);
    }
}
