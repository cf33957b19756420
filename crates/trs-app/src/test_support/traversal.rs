//! Path-traversal and normalisation forms for the public download paths, made from a table of
//! building blocks (never listed one by one): every way of writing "one folder up" (dots ×
//! separators, plain, percent-encoded in either case, double-encoded, overlong UTF-8,
//! full-width, with a NUL, a space or a path parameter) repeated to climb out of a prefix, and
//! the tricks around a real file's name (`?`, `#`, `;`, NUL, trailing dots and spaces,
//! absolute paths). The same table drives the end-to-end test against `trs serve`
//! (tests/tests/e2e/path_traversal.rs) and the unit tests of the shared resolver
//! ([`crate::public::locate`]) and of the stream function's download routes (the AWS path).

/// Ways of writing `..`.
pub const DOTS: &[(&str, &str)] = &[
    ("dots", ".."),
    ("encoded dots", "%2e%2e"),
    ("upper-case encoded dots", "%2E%2E"),
    ("mixed-case encoded dots", "%2e%2E"),
    ("half-encoded dots", ".%2e"),
    ("other half encoded", "%2e."),
    ("double-encoded dots", "%252e%252e"),
    ("overlong UTF-8 dots", "%c0%ae%c0%ae"),
    ("three-byte overlong dots", "%e0%80%ae%e0%80%ae"),
    ("encoded full-width dots", "%ef%bc%8e%ef%bc%8e"),
    ("raw full-width dots", "\u{ff0e}\u{ff0e}"),
    ("IIS %u dots", "%u002e%u002e"),
    ("dots and NUL", "..%00"),
    ("dots and a space", "..%20"),
    ("three dots", "..."),
    ("four dots", "...."),
    ("dots with a path parameter", "..;"),
];

/// Ways of writing the separator after them (and between the target's segments).
pub const SEPARATORS: &[(&str, &str)] = &[
    ("slash", "/"),
    ("encoded slash", "%2f"),
    ("upper-case encoded slash", "%2F"),
    ("double-encoded slash", "%252f"),
    ("backslash", "\\"),
    ("encoded backslash", "%5c"),
    ("upper-case encoded backslash", "%5C"),
    ("double-encoded backslash", "%255c"),
    ("overlong UTF-8 slash", "%c0%af"),
    ("overlong UTF-8 backslash", "%c1%9c"),
    ("three-byte overlong slash", "%e0%80%af"),
    ("encoded full-width slash", "%ef%bc%8f"),
    ("double slash", "//"),
    ("slash dot slash", "/./"),
];

/// Forms built around the plain climb `{up}` (`../` repeated), the `{target}` and a real
/// file's name `{legit}`: query, fragment and parameter tricks, NUL, trailing dots and spaces,
/// absolute paths. None of them names the real file alone (each must be refused).
pub const AROUND: &[(&str, &str)] = &[
    ("absolute path", "/{target}"),
    ("encoded absolute path", "%2f{target}"),
    ("file URL", "file:///{target}"),
    ("dot slash first", "./{up}{target}"),
    ("through the real file", "{legit}/{up}{target}"),
    ("through the real file, one more up", "{legit}/../{up}{target}"),
    ("query after the climb", "{up}{target}?{legit}"),
    ("encoded query in the real file", "{legit}%3f/{up}{target}"),
    ("encoded query after the climb", "{up}{target}%3f{legit}"),
    ("fragment after the climb", "{up}{target}#{legit}"),
    ("encoded fragment in the real file", "{legit}%23/{up}{target}"),
    ("path parameter in the real file", "{legit};/{up}{target}"),
    ("NUL after the climb", "{up}{target}%00"),
    ("NUL and the real name", "{up}{target}%00{legit}"),
    ("NUL in the real file", "{legit}%00/{up}{target}"),
    ("trailing dot", "{up}{target}."),
    ("trailing encoded dot", "{up}{target}%2e"),
    ("trailing space", "{up}{target}%20"),
    ("trailing slash", "{up}{target}/"),
    ("NTFS stream", "{up}{target}::$DATA"),
    ("upper-case climb", "{up}{TARGET}"),
];

/// A hostile path: what it is, and the text to append to a public prefix ending with `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    pub name: String,
    pub suffix: String,
}

/// Every form aiming `up` folders above a prefix, then at `target` (relative, `/`-separated),
/// with `legit` the name of a real file under the prefix: each dot form with each separator,
/// then each of [`AROUND`]. `DOTS.len() × SEPARATORS.len() + AROUND.len()` forms.
pub fn forms(up: usize, target: &str, legit: &str) -> Vec<Form> {
    let mut all = Vec::new();
    for (dots_name, dots) in DOTS {
        for (sep_name, sep) in SEPARATORS {
            all.push(Form {
                name: format!("{dots_name}, {sep_name}"),
                suffix: format!("{}{}", format!("{dots}{sep}").repeat(up), target.replace('/', sep)),
            });
        }
    }
    let climb = "../".repeat(up);
    for (name, template) in AROUND {
        let suffix = template
            .replace("{up}", &climb)
            .replace("{TARGET}", &target.to_uppercase())
            .replace("{target}", target)
            .replace("{legit}", legit);
        all.push(Form { name: (*name).to_string(), suffix });
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_makes_distinct_forms_that_all_leave_the_prefix_or_name_another_file() {
        let all = forms(3, "etc/passwd", "foo-1.0.txt");
        assert_eq!(all.len(), DOTS.len() * SEPARATORS.len() + AROUND.len());
        assert!(all.len() >= 77, "{}", all.len());
        let distinct: std::collections::BTreeSet<&str> = all.iter().map(|f| f.suffix.as_str()).collect();
        assert_eq!(distinct.len(), all.len(), "two forms are the same text");
        assert!(all.iter().all(|f| f.suffix != "foo-1.0.txt" && !f.suffix.is_empty()));
        let plain = &all[0];
        assert_eq!((plain.name.as_str(), plain.suffix.as_str()), ("dots, slash", "../../../etc/passwd"));
        assert!(all.iter().any(|f| f.suffix == "%252e%252e%255c%252e%252e%255c%252e%252e%255cetc%255cpasswd"));
        assert!(all.iter().any(|f| f.suffix == "foo-1.0.txt%00/../../../etc/passwd"));
    }
}
