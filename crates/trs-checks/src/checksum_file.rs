//! Parsing `.sha512` / `.sha256` checksum files in every format release managers produce.
//!
//! Release managers make these files with whatever tool is at hand, so all of these are
//! accepted (digest letters in any case):
//! - bare hex, possibly wrapped over lines or with a trailing newline;
//! - GNU `sha512sum`/`sha256sum` and perl `shasum`: `HEX  name`, `HEX *name` (binary mode),
//!   `HEX ^name`, `\HEX  escaped\\name`, one line per file;
//! - BSD tag style (`sha512sum --tag`, BSD `sha512`): `SHA512 (name) = HEX`;
//! - OpenSSL `openssl dgst -sha512`: `SHA512(name)= HEX` / `SHA2-512(name)= HEX`;
//! - GnuPG `gpg --print-md SHA512 name`: `name: 8A5B3C2D …` uppercase groups, wrapped over
//!   indented lines;
//! - Windows `certutil -hashfile name SHA512` (header line, hex line, `CertUtil:` footer);
//! - PowerShell `Get-FileHash … | Format-List` (`Hash : …` / `Path : …`), also as UTF-16,
//!   which is what PowerShell 5 writes with `>`: see [`decode_text`].
//!
//! A file listing several files is searched for the artifact's line, comparing file names
//! only (a leading `./`, `dist/` or `C:\build\` is ignored), because release managers often
//! run `sha512sum` from another folder.

use std::borrow::Cow;
use std::fmt;

/// The checksum algorithms trs reads. A release's checksum is SHA-512 or SHA-256; MD5 and
/// SHA-1 are broken and never accepted as one: they are read only to check the files of an
/// existing release history on import ([`crate::legacy`]), where the signature vouches for
/// the file and the old checksum only has to agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algo {
    Sha512,
    Sha256,
    Md5,
    Sha1,
}

impl Algo {
    /// Human name, e.g. `SHA-512`.
    pub fn name(self) -> &'static str {
        match self {
            Algo::Sha512 => "SHA-512",
            Algo::Sha256 => "SHA-256",
            Algo::Md5 => "MD5",
            Algo::Sha1 => "SHA-1",
        }
    }

    /// The sidecar file extension without the dot, e.g. `sha512`.
    pub fn extension(self) -> &'static str {
        match self {
            Algo::Sha512 => "sha512",
            Algo::Sha256 => "sha256",
            Algo::Md5 => "md5",
            Algo::Sha1 => "sha1",
        }
    }

    pub fn digest_len(self) -> usize {
        match self {
            Algo::Sha512 => 64,
            Algo::Sha256 => 32,
            Algo::Md5 => 16,
            Algo::Sha1 => 20,
        }
    }

    /// Whether a tool's label (`SHA512`, `SHA-512`, `SHA2-512`, `sha512`) names this algorithm.
    fn matches_label(self, label: &str) -> bool {
        let l: String = label.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_uppercase();
        match self {
            Algo::Sha512 => l == "SHA512" || l == "SHA2512",
            Algo::Sha256 => l == "SHA256" || l == "SHA2256",
            Algo::Md5 => l == "MD5",
            Algo::Sha1 => l == "SHA1",
        }
    }
}

impl fmt::Display for Algo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Decodes a checksum file's bytes: UTF-8 (with or without BOM) or UTF-16 with a BOM, which
/// Windows PowerShell 5 writes for `Get-FileHash … > file.sha512`.
pub fn decode_text(bytes: &[u8]) -> Result<Cow<'_, str>, String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest).map(Cow::Borrowed).map_err(|_| "is not UTF-8 text".to_string());
    }
    let utf16 = |rest: &[u8], le: bool| -> Result<Cow<'_, str>, String> {
        if rest.len() & 1 == 1 {
            return Err("is truncated UTF-16 text".into());
        }
        let units = rest
            .chunks_exact(2)
            .map(|c| if le { u16::from_le_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], c[1]]) });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .map(Cow::Owned)
            .map_err(|_| "is not valid UTF-16 text".to_string())
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false);
    }
    std::str::from_utf8(bytes)
        .map(Cow::Borrowed)
        .map_err(|_| "is not text (neither UTF-8 nor UTF-16 with a byte order mark)".to_string())
}

/// One digest found in a checksum file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    /// The file name the line is for; `None` for a bare digest.
    name: Option<String>,
    /// Hex digits only, no spaces.
    hex: String,
    /// The algorithm the tool wrote beside it (`SHA512`, `SHA2-256`…), when it did.
    label: Option<String>,
}

/// Parses a checksum file and returns the digest for `artifact_name` (raw bytes), or a
/// reason that can be shown to the release manager as is.
pub fn parse_checksum_file(text: &str, artifact_name: &str, algo: Algo) -> Result<Vec<u8>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let records = records(text)?;
    let record = select(&records, artifact_name)?;
    if let Some(label) = record.label.as_ref().filter(|l| !algo.matches_label(l)) {
        return Err(format!(
            "the file holds a {label} checksum, but a .{} file must hold {}",
            algo.extension(),
            algo.name()
        ));
    }
    let want = algo.digest_len() * 2;
    if record.hex.len() != want {
        let hint = match record.hex.len() {
            32 if algo != Algo::Md5 => " (that is the length of an MD5 digest)",
            40 if algo != Algo::Sha1 => " (that is the length of a SHA-1 digest)",
            64 if algo == Algo::Sha512 => " (that is the length of a SHA-256 digest)",
            128 if algo == Algo::Sha256 => " (that is the length of a SHA-512 digest)",
            _ => "",
        };
        return Err(format!(
            "the checksum has {} hex digits, but {} needs {want}{hint}",
            record.hex.len(),
            algo.name()
        ));
    }
    hex::decode(&record.hex).map_err(|e| format!("the checksum is not valid hex: {e}"))
}

/// The last path segment, with either separator, so `./dist/x.tar.gz` and `C:\b\x.tar.gz`
/// both compare as `x.tar.gz`.
fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

fn select<'r>(records: &'r [Record], artifact_name: &str) -> Result<&'r Record, String> {
    let want = base_name(artifact_name);
    match records {
        [] => Err("no checksum found in the file".into()),
        [only] => match &only.name {
            Some(name) if base_name(name) != want => {
                Err(format!("the checksum file is for {name:?}, not for {want:?}"))
            }
            _ => Ok(only),
        },
        many => {
            let matching: Vec<&Record> =
                many.iter().filter(|r| r.name.as_deref().map(base_name) == Some(want)).collect();
            match matching.as_slice() {
                [] => {
                    let names: Vec<&str> = many.iter().filter_map(|r| r.name.as_deref()).take(5).collect();
                    if names.is_empty() {
                        Err("the file holds several digests without file names".into())
                    } else {
                        Err(format!("no line for {want:?} among the {} entries ({})", many.len(), names.join(", ")))
                    }
                }
                [first, rest @ ..] => {
                    if rest.iter().any(|r| !r.hex.eq_ignore_ascii_case(&first.hex)) {
                        Err(format!("the file lists different checksums for {want:?}"))
                    } else {
                        Ok(first)
                    }
                }
            }
        }
    }
}

fn is_hex_or_space(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii_hexdigit() || c.is_whitespace())
}

fn strip_space(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Shortest hex run taken for a digest: shorter tokens are words, not (wrong) digests.
const MIN_DIGEST_HEX: usize = 16;

fn records(text: &str) -> Result<Vec<Record>, String> {
    // Bare digest, possibly wrapped or grouped (`gpg --print-md` on standard input).
    if !text.trim().is_empty() && is_hex_or_space(text) {
        return Ok(vec![Record { name: None, hex: strip_space(text), label: None }]);
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    // certutil prints `SHA512 hash of NAME:` and the digest on the next line.
    let mut certutil: Option<(String, String)> = None;
    // PowerShell Format-List prints `Algorithm`, `Hash` and `Path` lines per file.
    let mut ps_label: Option<String> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let t = line.trim();
        i += 1;
        if t.is_empty() || t.starts_with('#') || t.starts_with("CertUtil:") {
            continue;
        }
        // Indented continuation lines of a PowerShell value, appended without separator.
        let continued = |first: &str, i: &mut usize| {
            let mut v = first.trim().to_string();
            while *i < lines.len() && lines[*i].starts_with(char::is_whitespace) && !lines[*i].trim().is_empty() {
                v.push_str(lines[*i].trim());
                *i += 1;
            }
            v
        };
        let powershell =
            t.split_once(':').map(|(k, v)| (k.trim(), v)).filter(|(k, _)| matches!(*k, "Algorithm" | "Hash" | "Path"));
        if let Some((key, value)) = powershell {
            let value = continued(value, &mut i);
            match key {
                "Algorithm" => ps_label = Some(value),
                "Hash" => out.push(Record { name: None, hex: strip_space(&value), label: ps_label.take() }),
                _ => {
                    if let Some(last) = out.last_mut().filter(|r| r.name.is_none()) {
                        last.name = Some(value);
                    }
                }
            }
            continue;
        }
        if let Some(header) = parse_certutil_header(t) {
            certutil = Some(header);
            continue;
        }
        if let Some((label, name)) = certutil.take() {
            if is_hex_or_space(t) {
                out.push(Record { name: Some(name), hex: strip_space(t), label: Some(label) });
                continue;
            }
            certutil = Some((label, name));
        }
        if let Some(r) = parse_tag(t).or_else(|| parse_gnu(line)) {
            out.push(r);
            continue;
        }
        if !line.starts_with(char::is_whitespace) {
            // GnuPG: `name: HEX HEX …` with the digest wrapped over indented lines.
            let mut joined = line.to_string();
            let mut j = i;
            while j < lines.len()
                && lines[j].starts_with(char::is_whitespace)
                && is_hex_or_space(lines[j])
                && !lines[j].trim().is_empty()
            {
                joined.push(' ');
                joined.push_str(lines[j]);
                j += 1;
            }
            if let Some(r) = parse_gpg(&joined) {
                out.push(r);
                i = j;
                continue;
            }
        }
        let shown: String = t.chars().take(80).collect();
        return Err(format!("line {i} is not in a checksum format trs understands: {shown:?}"));
    }
    Ok(out)
}

/// `SHA512 hash of NAME:` (certutil).
fn parse_certutil_header(t: &str) -> Option<(String, String)> {
    let (label, rest) = t.split_once(" hash of ")?;
    let name = rest.strip_suffix(':')?;
    (!label.contains(' ') && !name.is_empty()).then(|| (label.to_string(), name.to_string()))
}

/// `SHA512 (name) = HEX` (BSD / `--tag`) and `SHA2-512(name)= HEX` (OpenSSL).
fn parse_tag(t: &str) -> Option<Record> {
    let open = t.find('(')?;
    let close = t.rfind(')')?;
    let label = t[..open].trim();
    if close < open || label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return None;
    }
    let hex = t[close + 1..].trim_start().strip_prefix('=')?.trim();
    if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    Some(Record { name: Some(t[open + 1..close].to_string()), hex: hex.to_string(), label: Some(label.to_string()) })
}

/// `HEX  name`, `HEX *name` (GNU, shasum), a lone `HEX`, and GNU's escaped form `\HEX  a\\b`.
fn parse_gnu(line: &str) -> Option<Record> {
    let s = line.trim_start();
    let (escaped, s) = match s.strip_prefix('\\') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let hex_len = s.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(s.len());
    if hex_len < MIN_DIGEST_HEX {
        return None;
    }
    let (hex, rest) = s.split_at(hex_len);
    let rest = rest.trim_end();
    if rest.is_empty() {
        return Some(Record { name: None, hex: hex.to_string(), label: None });
    }
    let rest = rest.strip_prefix([' ', '\t'])?;
    let rest = rest.strip_prefix([' ', '*', '^']).unwrap_or(rest);
    if rest.is_empty() {
        return None;
    }
    let name = if escaped { rest.replace("\\n", "\n").replace("\\\\", "\\") } else { rest.to_string() };
    Some(Record { name: Some(name), hex: hex.to_string(), label: None })
}

/// `name: 8A5B3C2D 1E0F…` (GnuPG `--print-md`). The name may itself contain `: `, so the
/// digest starts after the first colon that is followed by nothing but hex and spaces.
fn parse_gpg(joined: &str) -> Option<Record> {
    for (pos, _) in joined.match_indices(':') {
        let after = &joined[pos + 1..];
        let name = joined[..pos].trim();
        if !name.is_empty() && is_hex_or_space(after) && strip_space(after).len() >= MIN_DIGEST_HEX {
            return Some(Record { name: Some(name.to_string()), hex: strip_space(after), label: None });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const NAME: &str = "apache-foo-1.0.0-src.tar.gz";
    const H512: &str = "f67260d1f00de71ff1f15f7801ce300f9207cc402afa48ef32a49e82d837c70ae92748536702001ad28a98020b966cb04034285da5f6b2498416c09cb843d6b3";

    fn ok(text: &str) -> String {
        hex::encode(parse_checksum_file(text, NAME, Algo::Sha512).unwrap_or_else(|e| panic!("{text:?}: {e}")))
    }

    fn err(text: &str) -> String {
        parse_checksum_file(text, NAME, Algo::Sha512).unwrap_err()
    }

    #[test]
    fn bare_hex_with_and_without_newline_and_upper_case() {
        assert_eq!(ok(H512), H512);
        assert_eq!(ok(&format!("{H512}\n")), H512);
        assert_eq!(ok(&format!("{}\r\n", H512.to_uppercase())), H512);
        assert_eq!(ok(&format!("{}\n{}\n", &H512[..64], &H512[64..])), H512);
    }

    #[test]
    fn gnu_text_binary_and_escaped_lines() {
        assert_eq!(ok(&format!("{H512}  {NAME}\n")), H512);
        assert_eq!(ok(&format!("{H512} *{NAME}\n")), H512);
        assert_eq!(ok(&format!("{H512} ^{NAME}\n")), H512);
        assert_eq!(ok(&format!("{H512} {NAME}\n")), H512);
        assert_eq!(ok(&format!("{H512}  ./dist/{NAME}\n")), H512);
        assert_eq!(ok(&format!("\\{H512}  dir\\\\{NAME}\n")), H512);
    }

    #[test]
    fn several_lines_pick_the_artifact() {
        let other = "0".repeat(128);
        let text = format!("{other}  apache-foo-1.0.0-bin.tar.gz\n{H512}  {NAME}\n{other}  apache-foo-1.0.0.zip\n");
        assert_eq!(ok(&text), H512);
        let none = err(&format!("{other}  a.tar.gz\n{other}  b.tar.gz\n"));
        assert!(none.contains("no line for") && none.contains("a.tar.gz"), "{none}");
    }

    #[test]
    fn single_line_for_another_file_names_both() {
        let e = err(&format!("{H512}  apache-foo-0.9.0-src.tar.gz\n"));
        assert!(e.contains("apache-foo-0.9.0-src.tar.gz") && e.contains(NAME), "{e}");
    }

    #[test]
    fn bsd_tag_and_openssl_styles() {
        assert_eq!(ok(&format!("SHA512 ({NAME}) = {H512}\n")), H512);
        assert_eq!(ok(&format!("SHA2-512({NAME})= {H512}\n")), H512);
        assert_eq!(ok(&format!("SHA512(./x/{NAME})= {H512}\n")), H512);
        let e = err(&format!("SHA256 ({NAME}) = {}\n", &H512[..64]));
        assert!(e.contains("SHA256 checksum"), "{e}");
    }

    #[test]
    fn gpg_print_md_grouped_and_wrapped() {
        let up = H512.to_uppercase();
        let groups: Vec<&str> = (0..16).map(|i| &up[i * 8..i * 8 + 8]).collect();
        let pad = " ".repeat(NAME.len() + 2);
        let text = format!(
            "{NAME}: {}\n{pad}{}\n{pad}{}\n{pad}{}\n",
            groups[0..4].join(" "),
            groups[4..8].join(" "),
            groups[8..12].join(" "),
            groups[12..16].join(" ")
        );
        assert_eq!(ok(&text), H512);
        // Groups of 4 (older GnuPG) and a name with a colon in it.
        let fours: Vec<&str> = (0..32).map(|i| &up[i * 4..i * 4 + 4]).collect();
        let text = format!("odd: {NAME}: {}\n    {}\n", fours[..16].join(" "), fours[16..].join(" "));
        assert_eq!(parse_checksum_file(&text, &format!("odd: {NAME}"), Algo::Sha512).map(hex::encode).unwrap(), H512);
    }

    #[test]
    fn certutil_and_powershell() {
        let spaced: Vec<&str> = (0..64).map(|i| &H512[i * 2..i * 2 + 2]).collect();
        let text = format!(
            "SHA512 hash of {NAME}:\r\n{}\r\nCertUtil: -hashfile command completed successfully.\r\n",
            spaced.join(" ")
        );
        assert_eq!(ok(&text), H512);
        let up = H512.to_uppercase();
        let text = format!(
            "\r\nAlgorithm : SHA512\r\nHash      : {}\r\n            {}\r\nPath      : C:\\rel\\{NAME}\r\n\r\n",
            &up[..100],
            &up[100..]
        );
        assert_eq!(ok(&text), H512);
        // PowerShell 5 `>` writes UTF-16LE with a byte order mark.
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert_eq!(ok(&decode_text(&bytes).unwrap()), H512);
    }

    #[test]
    fn wrong_lengths_and_garbage_have_reasons() {
        assert!(err(&H512[..127]).contains("127 hex digits"));
        assert!(err(&format!("{}  {NAME}", &H512[..64])).contains("length of a SHA-256"));
        assert!(err(&format!("{}  {NAME}", &H512[..32])).contains("MD5"));
        assert!(err("").contains("no checksum"));
        assert!(err("hello world\n").contains("not in a checksum format"));
        assert!(decode_text(b"\xff\x00\x01garbage").is_err());
    }

    // --- Real tool output, generated on a temp file. ---

    fn run(cmd: &str, args: &[&str], dir: &std::path::Path) -> String {
        let out = Command::new(cmd).args(args).current_dir(dir).output().unwrap_or_else(|e| panic!("{cmd}: {e}"));
        assert!(out.status.success(), "{cmd} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    fn real_file() -> (tempfile::TempDir, String, String) {
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        std::fs::write(dir.path().join(NAME), &data).unwrap();
        use sha2::Digest;
        (dir, hex::encode(sha2::Sha512::digest(&data)), hex::encode(sha2::Sha256::digest(&data)))
    }

    #[test]
    fn real_sha512sum_tag_and_multi_file_output() {
        let (dir, h512, _) = real_file();
        std::fs::write(dir.path().join("other.zip"), b"x").unwrap();
        assert_eq!(ok(&run("sha512sum", &[NAME], dir.path())), h512);
        assert_eq!(ok(&run("sha512sum", &["-b", NAME], dir.path())), h512);
        assert_eq!(ok(&run("sha512sum", &["--tag", NAME], dir.path())), h512);
        assert_eq!(ok(&run("sha512sum", &["other.zip", NAME], dir.path())), h512);
        assert_eq!(ok(&run("sha512sum", &[&format!("./{NAME}")], dir.path())), h512);
    }

    #[test]
    fn real_sha256sum_output() {
        let (dir, _, h256) = real_file();
        let text = run("sha256sum", &[NAME], dir.path());
        assert_eq!(hex::encode(parse_checksum_file(&text, NAME, Algo::Sha256).unwrap()), h256);
        // A .sha512 holding sha256sum output is refused with a hint.
        assert!(err(&text).contains("SHA-256"));
    }

    #[test]
    fn real_gpg_print_md_output() {
        let (dir, h512, h256) = real_file();
        let home = tempfile::tempdir().unwrap();
        let home = home.path().to_str().unwrap();
        let text = run("gpg", &["--homedir", home, "--print-md", "SHA512", NAME], dir.path());
        assert!(text.lines().count() > 1, "gpg wraps a long name's digest: {text}");
        assert_eq!(ok(&text), h512);
        let text = run("gpg", &["--homedir", home, "--print-md", "SHA256", NAME], dir.path());
        assert_eq!(hex::encode(parse_checksum_file(&text, NAME, Algo::Sha256).unwrap()), h256);
        std::fs::copy(dir.path().join(NAME), dir.path().join("a")).unwrap();
        let text = run("gpg", &["--homedir", home, "--print-md", "SHA512", "a", NAME], dir.path());
        assert_eq!(ok(&text), h512);
    }
}
