//! Shell commands trs shows for a person to copy and run: the site's "verify your download"
//! block, the vote email's `trs vote cast` line, the CLI's hints. They target a POSIX shell
//! (and bash or zsh pasted into interactively). Every name and URL in them is quoted here,
//! even though new file names are already limited to a portable set
//! (`trs_core::artifact_path`): names stored before that rule, and whatever rule comes next,
//! must never turn a copied command into code someone else chose.
//!
//! Quoting is `shlex`'s (a word is left bare only when it holds nothing a shell reads
//! specially, else single- or double-quoted, including bash's interactive `!` and `^`); URLs
//! are percent-encoded first ([`crate::storage_keys::url_path`]).

use crate::storage_keys::url_path;
use std::borrow::Cow;

/// One word for a POSIX shell: `word` unchanged if nothing in it is special, else quoted so
/// the shell passes exactly `word` as one argument. A NUL, which no argument can carry,
/// becomes U+FFFD.
pub fn quote(word: &str) -> Cow<'_, str> {
    match shlex::try_quote(word) {
        Ok(quoted) => quoted,
        Err(_) => {
            Cow::Owned(shlex::try_quote(&word.replace('\0', "\u{FFFD}")).map(Cow::into_owned).unwrap_or_default())
        }
    }
}

/// Where a URL in a command starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin<'a> {
    /// A configured address such as `https://downloads.example.org`.
    Url(&'a str),
    /// A shell variable the reader sets first (`SITE` → `"$SITE"`), for a site whose address
    /// is not configured.
    Variable(&'static str),
}

/// The URL of the object at `key` (e.g. `current/foo/1.0/foo-1.0.tar.gz`) under `origin`, as
/// one shell word: the origin quoted (or the variable in double quotes), the path
/// percent-encoded and quoted.
pub fn url(origin: Origin<'_>, key: &str) -> String {
    let path = url_path(key.trim_start_matches('/'));
    match origin {
        Origin::Url(base) => quote(&format!("{}{path}", base.trim_end_matches('/'))).into_owned(),
        Origin::Variable(name) => format!("\"${name}\"{}", quote(&path)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// Names a release manager could try (or could have stored before the portable set).
    const HOSTILE: [&str; 14] = [
        "apache-foo-6.2$(touch${IFS}PWNED).tar.gz",
        "a`touch PWNED`b",
        "x; touch PWNED",
        "x' ; touch PWNED ; '",
        "x\" ; touch PWNED ; \"",
        "$(touch PWNED)",
        "x|touch PWNED",
        "x&&touch PWNED",
        "{touch,PWNED}",
        "!!touch PWNED",
        "^touch^PWNED",
        "x\ntouch PWNED",
        "~root/*",
        "-rf *",
    ];

    /// Runs `line` with `sh -c` in a fresh folder; returns its output and whether PWNED exists.
    fn run(line: &str) -> (String, bool) {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("sh").arg("-c").arg(line).current_dir(dir.path()).output().expect("sh runs");
        assert!(out.status.success(), "{line}: {}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8(out.stdout).unwrap(), dir.path().join("PWNED").exists())
    }

    #[test]
    fn a_quoted_word_reaches_the_command_as_itself_and_runs_nothing() {
        for name in HOSTILE {
            let (echoed, pwned) = run(&format!("printf '%s' {}", quote(name)));
            assert_eq!(echoed, name);
            assert!(!pwned, "{name:?} ran code");
        }
        assert_eq!(quote("apache-foo-1.0.0-src.tar.gz"), "apache-foo-1.0.0-src.tar.gz", "plain names stay readable");
        assert_eq!(quote("a\0b"), quote("a\u{FFFD}b"));
    }

    #[test]
    fn a_url_is_one_word_that_runs_nothing() {
        for name in HOSTILE {
            let key = format!("current/foo/1.0/{name}");
            let (echoed, pwned) = run(&format!("printf '%s' {}", url(Origin::Url("https://d.example.org/"), &key)));
            assert_eq!(echoed, format!("https://d.example.org{}", url_path(&key)));
            assert!(!pwned, "{name:?} ran code");
            let (echoed, pwned) = run(&format!("SITE='http://s'; printf '%s' {}", url(Origin::Variable("SITE"), &key)));
            assert_eq!(echoed, format!("http://s{}", url_path(&key)));
            assert!(!pwned, "{name:?} ran code");
        }
        assert_eq!(
            url(Origin::Variable("SITE"), "current/foo/1.0/foo-1.0.tar.gz"),
            "\"$SITE\"/current/foo/1.0/foo-1.0.tar.gz"
        );
    }
}
