//! Printing results: JSON for scripts (`--json`), short text for people.
//!
//! Text for people goes through [`terminal_text`] (the `say!` and `say_err!` macros): what the server returns is partly text other people typed
//! or a registry answered, and a terminal acts on control characters (ESC clears the screen,
//! moves the cursor, sets the window title; a bidirectional override reorders the line). The
//! API refuses them in new text (`trs_core::text`); this is the second line, for anything
//! stored before or arriving another way. JSON output is escaped by serde already.

use serde::Serialize;
use std::borrow::Cow;

pub fn json<T: Serialize>(value: &T) {
    println!("{}", serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")));
}

/// An answer of the API, read as its `trs_api` type, printed as `--json` has always printed
/// it: through `serde_json::Value`, whose objects list their keys sorted (the CLI once read
/// these answers as `Value`, and scripts may compare the text).
pub fn answer_json<T: Serialize>(answer: &T) {
    match serde_json::to_value(answer) {
        Ok(value) => json(&value),
        Err(e) => json(&serde_json::json!({"error": e.to_string()})),
    }
}

/// An enum of the API as the API writes it (`send-mail`, `candidate-draft`, `not-sent`).
pub fn api_text(value: &impl Serialize) -> String {
    serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

/// `text` with every control character but newline and tab, and every bidirectional
/// control, written as a visible escape (`\u{1b}`), so the terminal shows it instead of
/// acting on it.
pub fn terminal_text(text: &str) -> Cow<'_, str> {
    let acts = |c: char| {
        (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.chars().map(|c| if acts(c) { c.escape_unicode().to_string() } else { c.to_string() }).collect())
}

/// `println!` for text shown to people: the formatted line through [`terminal_text`].
macro_rules! say {
    ($($arg:tt)*) => {
        println!("{}", $crate::output::terminal_text(&format!($($arg)*)))
    };
}

/// `eprintln!` for text shown to people: the formatted line through [`terminal_text`].
macro_rules! say_err {
    ($($arg:tt)*) => {
        eprintln!("{}", $crate::output::terminal_text(&format!($($arg)*)))
    };
}

#[cfg(test)]
mod tests {
    use super::terminal_text;

    #[test]
    fn terminal_controls_are_shown_not_obeyed() {
        assert_eq!(
            terminal_text("revoked: \u{1b}[2J\u{1b}]0;pwned\u{7}gone"),
            "revoked: \\u{1b}[2J\\u{1b}]0;pwned\\u{7}gone"
        );
        assert_eq!(terminal_text("csi \u{9b}2J, del \u{7f}, cr \r"), "csi \\u{9b}2J, del \\u{7f}, cr \\u{d}");
        assert_eq!(terminal_text("evil\u{202E}gnp.exe"), "evil\\u{202e}gnp.exe");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in ["foo/1.0.0  current, lts", "Zoë 李 → ok\n\tnext line", ""] {
            assert!(matches!(terminal_text(text), std::borrow::Cow::Borrowed(t) if t == text));
        }
    }
}
