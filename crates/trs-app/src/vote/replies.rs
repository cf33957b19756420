//! Reading a reply to a `[VOTE]` mail: who sent it, what it answers, what its sender wrote
//! (quoted lines, attribution lines, signatures and the quoted original excluded), the vote in
//! that text, and where its OpenPGP signature is.
//!
//! The MIME work (quoted-printable, base64, charsets, multipart, HTML to text) is
//! mail-parser's. Done here, because mail-parser leaves it to the reader: `format=flowed`
//! (RFC 3676), cutting a reply down to its sender's own words, and framing the signed part
//! of a PGP/MIME mail (RFC 3156) exactly as it was signed.
//!
//! A vote is read, never guessed: `+1`, `+0`, `-0`, `-1` (and `±0`), alone or with words
//! around them (`+1 (binding)`, `+1, checked the sums`). A reply whose own text holds two
//! different values, or a value on a line that makes it conditional (`+1 if …`, `-1 unless
//! …`, `+1?`), is ambiguous: listed for the release manager, not counted. Ballot templates
//! copied into a reply count only where ticked: `[ ] +1` is ignored, `[x] +1` is a +1.

use mail_parser::{MessageParser, MimeHeaders, PartType};
use trs_core::VoteValue;

/// Largest message read (a vote reply is a few kilobytes; a larger one carries attachments
/// a vote does not need).
pub const MAX_MESSAGE_BYTES: usize = 512 * 1024;

/// A signature found in a reply, as the bytes to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoundSignature {
    /// PGP/MIME: the signed part exactly as framed, with CRLF line ends, and the signature.
    Detached { data: Vec<u8>, signature: Vec<u8> },
    /// An inline clear-signed block.
    Cleartext(Vec<u8>),
}

impl FoundSignature {
    pub fn as_mail_signature(&self) -> trs_auth::mail::MailSignature<'_> {
        match self {
            FoundSignature::Detached { data, signature } => trs_auth::mail::MailSignature::Detached { data, signature },
            FoundSignature::Cleartext(block) => trs_auth::mail::MailSignature::Cleartext(block),
        }
    }
}

/// A reply, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `<…>`, as trs writes its own ids.
    pub message_id: String,
    /// `In-Reply-To` and `References`, each `<…>`.
    pub parents: Vec<String>,
    /// The sender's address, lower case.
    pub from: Option<String>,
    /// The `Date` header (Unix seconds).
    pub date: Option<i64>,
    /// The whole text of the reply (the HTML part as text when there is no plain one).
    pub text: String,
    pub signature: Option<FoundSignature>,
}

fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

/// Reads a raw message (RFC 5322).
pub fn parse(raw: &[u8]) -> Result<Reply, String> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err(format!("the message is {} bytes, more than a vote reply's {MAX_MESSAGE_BYTES}", raw.len()));
    }
    let message = MessageParser::default().parse(raw).ok_or("not a mail message")?;
    let message_id = message.message_id().map(bracketed).ok_or("the message has no Message-ID")?;
    let mut parents = Vec::new();
    for header in [message.in_reply_to(), message.references()] {
        for id in header.as_text_list().unwrap_or_default() {
            parents.push(bracketed(id));
        }
    }
    let from = message.from().and_then(|a| a.first()).and_then(|a| a.address()).map(|a| a.trim().to_lowercase());
    let date = message.date().map(|d| d.to_timestamp());
    let (mut text, flowed) = body_text(&message);
    if let Some((delsp,)) = flowed {
        text = unflow(&text, delsp);
    }
    let signature = pgp_mime_signature(&message, raw).or_else(|| cleartext_block(&text));
    Ok(Reply { message_id, parents, from, date, text, signature })
}

/// The first text part (or the HTML one, as text, with its quoted parts removed), and its
/// `format=flowed` parameters.
fn body_text(message: &mail_parser::Message<'_>) -> (String, Option<(bool,)>) {
    let Some(part) = message.text_body.first().and_then(|id| message.parts.get(*id as usize)) else {
        return (String::new(), None);
    };
    match &part.body {
        PartType::Text(text) => {
            let flowed = part.content_type().and_then(|ct| {
                ct.attribute("format")
                    .filter(|f| f.eq_ignore_ascii_case("flowed"))
                    .map(|_| (ct.attribute("delsp").is_some_and(|d| d.eq_ignore_ascii_case("yes")),))
            });
            (text.to_string(), flowed)
        }
        PartType::Html(html) => (mail_parser::decoders::html::html_to_text(&unquoted_html(html)), None),
        _ => (String::new(), None),
    }
}

/// HTML without what the sender quoted: `<blockquote>` elements (nested ones included), and
/// everything from Outlook's reply header (`divRplyFwdMsg`) on, which quotes the original
/// without a blockquote.
fn unquoted_html(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let end = lower.find("id=\"divrplyfwdmsg\"").and_then(|i| lower[..i].rfind('<')).unwrap_or(html.len());
    let (html, lower) = (&html[..end], &lower[..end]);
    let mut out = String::with_capacity(html.len());
    let (mut depth, mut at) = (0usize, 0usize);
    while at < html.len() {
        let open = lower[at..].find("<blockquote").map(|i| i + at);
        let close = lower[at..].find("</blockquote").map(|i| i + at);
        match (open, close) {
            (Some(o), c) if c.is_none_or(|c| o < c) => {
                if depth == 0 {
                    out.push_str(&html[at..o]);
                }
                depth += 1;
                at = o + "<blockquote".len();
            }
            (_, Some(c)) => {
                if depth == 0 {
                    out.push_str(&html[at..c]);
                }
                depth = depth.saturating_sub(1);
                at = lower[c..].find('>').map(|i| c + i + 1).unwrap_or(html.len());
            }
            (None, None) => {
                if depth == 0 {
                    out.push_str(&html[at..]);
                }
                break;
            }
            (Some(_), None) => unreachable!("matched by the first arm"),
        }
    }
    out
}

/// RFC 3676: joins the soft line breaks of `format=flowed` text (a line ending in a space
/// continues on the next line of the same quote depth), undoes space-stuffing, and keeps the
/// signature separator `-- ` a line of its own.
fn unflow(text: &str, delsp: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut paragraph = String::new();
    let mut depth_of_paragraph: Option<usize> = None;
    let flush = |out: &mut String, paragraph: &mut String, depth: usize| {
        out.push_str(&">".repeat(depth));
        if depth > 0 {
            out.push(' ');
        }
        out.push_str(paragraph);
        out.push('\n');
        paragraph.clear();
    };
    for line in text.lines() {
        let depth = line.bytes().take_while(|b| *b == b'>').count();
        let content = &line[depth..];
        let content = content.strip_prefix(' ').unwrap_or(content);
        if let Some(d) = depth_of_paragraph
            && d != depth
        {
            flush(&mut out, &mut paragraph, d);
        }
        let soft = content.ends_with(' ') && content != "-- ";
        if soft && delsp {
            paragraph.push_str(&content[..content.len() - 1]);
        } else {
            paragraph.push_str(content);
        }
        if soft {
            depth_of_paragraph = Some(depth);
        } else {
            flush(&mut out, &mut paragraph, depth);
            depth_of_paragraph = None;
        }
    }
    if let Some(d) = depth_of_paragraph {
        flush(&mut out, &mut paragraph, d);
    }
    out
}

/// A PGP/MIME signature (RFC 3156): the root is `multipart/signed` with protocol
/// `application/pgp-signature`; the signed data is the first part from its first header to
/// the line break before the next boundary, with CRLF line ends.
fn pgp_mime_signature(message: &mail_parser::Message<'_>, raw: &[u8]) -> Option<FoundSignature> {
    let root = message.parts.first()?;
    let ct = root.content_type()?;
    let signed = ct.ctype().eq_ignore_ascii_case("multipart")
        && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("signed"))
        && ct.attribute("protocol").is_some_and(|p| p.eq_ignore_ascii_case("application/pgp-signature"));
    if !signed {
        return None;
    }
    let PartType::Multipart(children) = &root.body else { return None };
    let signature = match &message.parts.get(*children.get(1)? as usize)?.body {
        PartType::Binary(b) | PartType::InlineBinary(b) => b.to_vec(),
        PartType::Text(t) => t.as_bytes().to_vec(),
        _ => return None,
    };
    let boundary = format!("--{}", ct.attribute("boundary")?);
    let body = raw.get(root.offset_body as usize..root.offset_end as usize)?;
    let start = find_boundary_line(body, boundary.as_bytes(), 0)?;
    let start = start + body[start..].iter().position(|b| *b == b'\n')? + 1;
    let next = find_boundary_line(body, boundary.as_bytes(), start)?;
    // The line break before the boundary belongs to the boundary.
    let mut end = next;
    if end > start && body[end - 1] == b'\n' {
        end -= 1;
        if end > start && body[end - 1] == b'\r' {
            end -= 1;
        }
    }
    Some(FoundSignature::Detached { data: crlf(&body[start..end]), signature })
}

/// Where a line starting with `boundary` begins, at or after `from`.
fn find_boundary_line(body: &[u8], boundary: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + boundary.len() <= body.len() {
        let i = body[at..].windows(boundary.len()).position(|w| w == boundary)? + at;
        if i == 0 || body[i - 1] == b'\n' {
            return Some(i);
        }
        at = i + 1;
    }
    None
}

/// Every line end as CRLF (mail archives often store LF only; the signature was made over
/// the message as sent, with CRLF).
fn crlf(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 40);
    for (i, b) in data.iter().enumerate() {
        if *b == b'\n' && (i == 0 || data[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(*b);
    }
    out
}

const CLEARSIGN_BEGIN: &str = "-----BEGIN PGP SIGNED MESSAGE-----";
const SIGNATURE_BEGIN: &str = "-----BEGIN PGP SIGNATURE-----";
const SIGNATURE_END: &str = "-----END PGP SIGNATURE-----";

/// An inline clear-signed block in the text, from its first line to the end of its signature.
fn cleartext_block(text: &str) -> Option<FoundSignature> {
    let start = text.find(CLEARSIGN_BEGIN)?;
    let end = text[start..].find(SIGNATURE_END)? + start + SIGNATURE_END.len();
    Some(FoundSignature::Cleartext(format!("{}\n", &text[start..end]).into_bytes()))
}

/// What the sender wrote: the reply without quoted lines (`>`), attribution lines
/// (`On … wrote:`), its signature (after `-- `), the original that top-posting clients put
/// below a separator (Outlook's `From:`/`Sent:` block, `-----Original Message-----`), and
/// the armour of an inline signature.
pub fn own_text(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    let mut out: Vec<&str> = Vec::new();
    let mut in_signature_block = false;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if in_signature_block {
            in_signature_block = trimmed != SIGNATURE_END;
            continue;
        }
        if trimmed == SIGNATURE_BEGIN {
            in_signature_block = true;
            continue;
        }
        if trimmed == CLEARSIGN_BEGIN || (trimmed.starts_with("Hash: ") && i > 0 && lines[i - 1] == CLEARSIGN_BEGIN) {
            continue;
        }
        if *line == "--" || starts_original(&lines, i) {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        if is_attribution(trimmed) {
            // A long attribution wraps: `On Fri, … <list@host>` / `wrote:`.
            if out.last().is_some_and(|l| l.trim_start().starts_with("On ")) && trimmed.len() < 20 {
                out.pop();
            }
            continue;
        }
        out.push(line);
    }
    out.join("\n").trim().to_string()
}

fn is_attribution(line: &str) -> bool {
    let l = line.to_lowercase();
    ["wrote:", "writes:", "schrieb:", "a écrit :", "a écrit:", "escribió:", "scrisse:", "schreef:"]
        .iter()
        .any(|end| l.ends_with(end))
}

/// Whether line `i` starts the original that a top-posting client appends unquoted.
fn starts_original(lines: &[&str], i: usize) -> bool {
    let line = lines[i].trim();
    if line.len() >= 10 && line.chars().all(|c| c == '_') {
        return true;
    }
    let lower = line.to_lowercase();
    if lower.starts_with("-----original message-----") || lower.starts_with("-------- original message") {
        return true;
    }
    // Outlook without the rule: `From: …` followed by `Sent: …` or `Date: …`.
    lower.starts_with("from: ")
        && lines[i + 1..].iter().take(3).any(|l| {
            let l = l.trim_start().to_lowercase();
            l.starts_with("sent: ") || l.starts_with("date: ")
        })
}

/// The vote in a reply's own text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reading {
    Vote(VoteValue),
    /// Why the text cannot be read as one vote.
    Ambiguous(String),
    NoVote,
}

/// Reads the vote in the sender's own text ([`own_text`]).
pub fn read_vote(own: &str) -> Reading {
    let mut found: Vec<(VoteValue, &str)> = Vec::new();
    for line in own.lines() {
        let trimmed = line.trim_start();
        // An unticked option of a ballot template.
        if trimmed.starts_with("[ ]") || trimmed.starts_with("[]") {
            continue;
        }
        for value in tokens(line) {
            found.push((value, line));
        }
    }
    let Some((first, _)) = found.first().copied() else { return Reading::NoVote };
    if let Some((other, _)) = found.iter().find(|(v, _)| *v != first) {
        return Reading::Ambiguous(format!("the reply says both {first} and {other}"));
    }
    for (_, line) in &found {
        let lower = format!(" {} ", line.to_lowercase());
        let conditional = [" if ", " unless ", " provided ", " once ", " assuming ", " but only "]
            .iter()
            .find(|w| lower.contains(*w))
            .map(|w| w.trim().to_string())
            .or_else(|| line.contains('?').then(|| "?".to_string()));
        if let Some(word) = conditional {
            return Reading::Ambiguous(format!("the vote is conditional ({word:?}): {:?}", line.trim()));
        }
    }
    Reading::Vote(first)
}

/// The vote tokens of a line: a sign (`+`, `-`, `±`) and `1` or `0`, standing alone (not part
/// of a word, a version or a larger number).
fn tokens(line: &str) -> Vec<VoteValue> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    for i in 0..chars.len() {
        let sign = chars[i];
        if !matches!(sign, '+' | '-' | '±' | '−') {
            continue;
        }
        let Some(&digit) = chars.get(i + 1) else { continue };
        let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '+' | '-' | '.' | '_'));
        let after_ok = match chars.get(i + 2) {
            None => true,
            Some(c) => {
                !(c.is_alphanumeric()
                    || *c == '_'
                    || (*c == '.' && chars.get(i + 3).is_some_and(|d| d.is_ascii_digit())))
            }
        };
        if !(before_ok && after_ok) {
            continue;
        }
        let value = match (sign, digit) {
            ('+', '1') => VoteValue::Plus,
            ('-' | '−', '1') => VoteValue::Minus,
            (_, '0') => VoteValue::Zero,
            _ => continue,
        };
        out.push(value);
    }
    out
}

/// The replies that belong to the thread of the mail known by `roots` (its ids: trs's own
/// and the one a transport gave it): those whose `In-Reply-To` or `References` name a root
/// ([`names_root`]), or another reply of the thread (following the chain back), or one of
/// `known` (replies read before). In the order given.
pub fn in_thread<'a>(roots: &[String], known: &[String], replies: &'a [Reply]) -> Vec<&'a Reply> {
    let roots: Vec<String> = roots.iter().map(|r| bracketed(r)).collect();
    let mut ids: std::collections::BTreeSet<String> = known.iter().cloned().collect();
    ids.extend(roots.iter().cloned());
    let mut member = vec![false; replies.len()];
    loop {
        let mut grew = false;
        for (i, r) in replies.iter().enumerate() {
            if !member[i] && r.parents.iter().any(|p| ids.contains(p) || roots.iter().any(|root| names_root(p, root))) {
                member[i] = true;
                ids.insert(r.message_id.clone());
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    replies.iter().zip(member).filter_map(|(r, m)| m.then_some(r)).collect()
}

/// Whether `parent` (as a reply names it) is the mail SES sent as `root`: the same id before
/// the `@`, on any `amazonses.com` host. SES answers a send with the id alone and writes it
/// as `<ID@REGION.amazonses.com>` (`email.amazonses.com` in us-east-1); matching on the id
/// keeps the thread whichever host SES wrote. Other ids must match whole.
pub fn names_root(parent: &str, root: &str) -> bool {
    fn ses(id: &str) -> Option<&str> {
        let (local, host) = id.trim_start_matches('<').trim_end_matches('>').rsplit_once('@')?;
        let host = host.to_ascii_lowercase();
        (host == "amazonses.com" || host.ends_with(".amazonses.com")).then_some(local)
    }
    parent == root || matches!((ses(parent), ses(root)), (Some(a), Some(b)) if a == b)
}

/// Every message of a list archive: a Maildir folder (with `cur/` and `new/`), or an mbox
/// file (`>From ` quoting undone).
pub fn read_archive(path: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    if path.is_dir() {
        let mut out = Vec::new();
        for message in mail_parser::mailbox::maildir::MessageIterator::new(path)? {
            out.push(message?.unwrap_contents());
        }
        Ok(out)
    } else {
        let file = std::io::BufReader::new(std::fs::File::open(path)?);
        mail_parser::mailbox::mbox::MessageIterator::new(file).map(|m| m.map(|m| m.unwrap_contents())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(id: &str, parent: &str) -> Reply {
        Reply {
            message_id: id.into(),
            parents: vec![parent.into()],
            from: None,
            date: None,
            text: String::new(),
            signature: None,
        }
    }

    #[test]
    fn a_reply_to_the_id_ses_gave_the_vote_mail_is_in_its_thread_whatever_the_host() {
        let replies = [
            reply("<a@x>", "<0100018c-abc-000000@eu-west-1.amazonses.com>"),
            reply("<b@x>", "<a@x>"),
            reply("<c@x>", "<0100018c-other-000000@email.amazonses.com>"),
            reply("<d@x>", "<0100018c-abc-000000@amazonses.com.evil.example>"),
            reply("<e@x>", "<42.foo@trs.example>"),
        ];
        let roots = ["<42.foo@trs.example>".to_string(), "<0100018c-abc-000000@email.amazonses.com>".to_string()];
        let ids: Vec<&str> = in_thread(&roots, &[], &replies).iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(ids, ["<a@x>", "<b@x>", "<e@x>"]);
        let only_own: Vec<&str> = in_thread(&roots[..1], &[], &replies).iter().map(|r| r.message_id.as_str()).collect();
        assert_eq!(only_own, ["<e@x>"], "without the id SES gave, its replies are not in the thread");
    }

    #[test]
    fn vote_tokens_stand_alone() {
        assert_eq!(read_vote("+1"), Reading::Vote(VoteValue::Plus));
        assert_eq!(read_vote("+1 (binding)"), Reading::Vote(VoteValue::Plus));
        assert_eq!(read_vote("+1, checked the sums."), Reading::Vote(VoteValue::Plus));
        assert_eq!(read_vote("-0"), Reading::Vote(VoteValue::Zero));
        assert_eq!(read_vote("+0 no time to test"), Reading::Vote(VoteValue::Zero));
        assert_eq!(read_vote("−1 (a Unicode minus)"), Reading::Vote(VoteValue::Minus));
        assert_eq!(read_vote("[x] +1 release it\n[ ] -1 do not"), Reading::Vote(VoteValue::Plus));
        assert_eq!(read_vote("built 1.2.0-1 and vot-1.0 on x86-64"), Reading::NoVote);
        assert_eq!(read_vote("+10 from me, +1000"), Reading::NoVote);
        assert_eq!(read_vote("Thanks!"), Reading::NoVote);
    }

    #[test]
    fn two_values_or_a_condition_are_ambiguous_never_guessed() {
        assert!(matches!(read_vote("+1 from me\n\n-1 from my colleague"), Reading::Ambiguous(_)));
        assert!(matches!(read_vote("+1 if the LICENSE is added"), Reading::Ambiguous(_)));
        assert!(matches!(read_vote("-1 unless the notice is fixed"), Reading::Ambiguous(_)));
        assert!(matches!(read_vote("+1?"), Reading::Ambiguous(_)));
    }

    #[test]
    fn flowed_text_joins_soft_breaks_within_a_quote_depth() {
        let text = "a long \nline\n> quoted \n> more\nown\n-- \nsig\n";
        assert_eq!(unflow(text, false), "a long line\n> quoted more\nown\n-- \nsig\n");
        assert_eq!(unflow("ab \ncd\n", true), "abcd\n");
    }

    #[test]
    fn quoted_lines_attributions_and_signatures_are_not_the_senders_words() {
        let text =
            "On Fri, Dec 4, 2026 at 9:00 AM vot releases <r@vot.example>\nwrote:\n> [ ] +1\n\n+1\n\n-- \nMona\n-1";
        assert_eq!(own_text(text), "+1");
        let outlook = "-1\n\nFrom: vot releases <r@vot.example>\nSent: Friday\nSubject: x\n\n+1 release it";
        assert_eq!(own_text(outlook), "-1");
    }

    #[test]
    fn html_quotes_are_removed_nested_or_not() {
        let html = "<div>+0</div><blockquote>a<blockquote>+1</blockquote>-1</blockquote><p>end</p>";
        assert_eq!(unquoted_html(html), "<div>+0</div><p>end</p>");
    }
}
