//! Printing results: JSON for scripts (`--json`), short text for people.
//!
//! Text for people goes through [`terminal_text`] (the `say!` and `say_err!` macros): what the server returns is partly text other people typed
//! or a registry answered, and a terminal acts on control characters (ESC clears the screen,
//! moves the cursor, sets the window title; a bidirectional override reorders the line). The
//! API refuses them in new text (`trs_core::text`); this is the second line, for anything
//! stored before or arriving another way (a key's user id, say). JSON output goes through
//! [`terminal_safe_json`]: serde escapes only the C0 controls.

use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write;

/// `--json` output: `value`, indented, on standard output.
pub fn json<T: Serialize>(value: &T) {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    println!("{}", terminal_safe_json(&text));
}

/// `value` as one line of JSON on standard output (NDJSON).
pub fn json_line<T: Serialize>(value: &T) {
    println!("{}", terminal_safe_json(&serde_json::to_string(value).unwrap_or_default()));
}

/// An error under `--json`: `error` as one line of JSON on standard error.
pub fn json_error(error: &crate::error::CliError) {
    eprintln!("{}", terminal_safe_json(&error.to_json().to_string()));
}

/// Serialized JSON with every character a terminal acts on that serde leaves as it is (DEL,
/// the C1 controls such as U+009B, a second way to start an escape sequence, and the
/// bidirectional controls) written as a `\uXXXX` escape. Such a character can only be inside
/// a string (JSON's own syntax is ASCII), where the escape stands for the same character: the
/// same value for a script, nothing for a terminal to obey.
pub fn terminal_safe_json(serialized: &str) -> Cow<'_, str> {
    // All of them lie in the Basic Multilingual Plane: one escape each.
    escape_what_terminals_act_on(serialized, |c, out| {
        let _ = write!(out, "\\u{:04x}", c as u32);
    })
}

/// `text` with every character a terminal acts on instead of showing it (a control but
/// newline and tab, a bidirectional control, which reorders the line) written by `escape`.
fn escape_what_terminals_act_on(text: &str, escape: impl Fn(char, &mut String)) -> Cow<'_, str> {
    let acts = |c: char| {
        (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(acts) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if acts(c) {
            escape(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
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
    escape_what_terminals_act_on(text, |c, out| out.extend(c.escape_unicode()))
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
    use super::{terminal_safe_json, terminal_text};

    #[test]
    fn terminal_controls_are_shown_not_obeyed() {
        assert_eq!(
            terminal_text("revoked: \u{1b}[2J\u{1b}]0;pwned\u{7}gone"),
            "revoked: \\u{1b}[2J\\u{1b}]0;pwned\\u{7}gone"
        );
        assert_eq!(terminal_text("csi \u{9b}2J, del \u{7f}, cr \r"), "csi \\u{9b}2J, del \\u{7f}, cr \\u{d}");
        assert_eq!(terminal_text("evil\u{202E}gnp.exe"), "evil\\u{202e}gnp.exe");
    }

    /// serde_json leaves DEL, C1 and bidirectional controls raw; `--json` output does not.
    #[test]
    fn json_output_escapes_what_serde_leaves_raw_and_keeps_the_value() {
        let value = serde_json::json!({
            "uid": "csi \u{9b}2J del \u{7f} evil\u{202E}gnp.exe",
            "esc": "\u{1b}[2J",
            "ok": "Zoë\n"
        });
        let text = serde_json::to_string_pretty(&value).unwrap();
        assert!(text.contains('\u{9b}') && text.contains('\u{202E}'), "serde_json now escapes them: {text}");
        let safe = terminal_safe_json(&text);
        assert!(!safe.chars().any(|c| c.is_control() && c != '\n'), "{safe}");
        assert!(safe.contains(r"csi \u009b2J del \u007f evil\u202egnp.exe"), "{safe}");
        assert!(safe.contains(r"\u001b[2J") && safe.contains("Zoë"), "{safe}");
        assert_eq!(serde_json::from_str::<serde_json::Value>(&safe).unwrap(), value, "the same value");
    }

    #[test]
    fn ordinary_text_is_unchanged() {
        for text in ["foo/1.0.0  current, lts", "Zoë 李 → ok\n\tnext line", ""] {
            assert!(matches!(terminal_text(text), std::borrow::Cow::Borrowed(t) if t == text));
        }
    }
}
