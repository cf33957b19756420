//! Content codings for the text the site serves (RFC 9110 §8.4): gzip and brotli, chosen by the
//! client's `Accept-Encoding` (§12.5.3: q-values, `identity`, `*`). Which types are text is
//! [`trs_storage::headers::compressible`]'s call; release files are never encoded (a `.tar.gz`
//! downloads as the very bytes that were voted on, and its digest checks), and neither is an
//! answer to a `Range` request (ranges are of the bytes as stored).
//!
//! Each coding is its own representation with its own strong entity tag (the stored digest
//! with `-gzip` or `-br` appended), so a cache never takes gzip bytes for brotli or plain
//! ones, and `If-None-Match` revalidates the representation the client holds.
//!
//! Encoding happens per request: a page compresses in well under a millisecond at the levels
//! below (docs/site.md has the measurements), far less than writing precompressed copies of
//! every page at publish time would cost a full build, and behind CloudFront the CDN compresses.

use axum::http::{HeaderMap, header};
use std::io::Write;

/// Below this many bytes the coding's framing eats most of what it saves (a release's
/// `SHA512SUMS` of a few files, about 900 bytes, still halves).
pub const MIN_SIZE: usize = 512;

/// gzip's level: zlib's default, the usual balance of size and time.
const GZIP_LEVEL: u32 = 6;
/// brotli's quality: 5 compresses about as fast as gzip 6 and smaller; 11 (the maximum) takes
/// tens of times longer for a few per cent.
const BROTLI_QUALITY: u32 = 5;
/// brotli's window (log2 of bytes): 22, the encoder's default.
const BROTLI_WINDOW: u32 = 22;

/// A content coding trs can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Brotli,
}

impl Coding {
    /// The `Content-Encoding` token, none for identity.
    pub fn token(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Brotli => Some("br"),
        }
    }

    /// The entity tag of this coding's representation from the identity's quoted tag
    /// (`"abc"` → `"abc-br"`): strong tags of different bytes must differ.
    pub fn etag(self, identity: &str) -> String {
        match self.token() {
            None => identity.to_string(),
            Some(token) => match identity.strip_suffix('"') {
                Some(open) => format!("{open}-{token}\""),
                None => format!("{identity}-{token}"),
            },
        }
    }

    /// `bytes` in this coding.
    pub fn encode(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Coding::Identity => bytes.to_vec(),
            Coding::Gzip => {
                let mut out = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(GZIP_LEVEL));
                // Writing to memory cannot fail.
                out.write_all(bytes).expect("gzip into memory");
                out.finish().expect("gzip into memory")
            }
            Coding::Brotli => {
                let mut out = brotli::CompressorWriter::new(Vec::new(), 4096, BROTLI_QUALITY, BROTLI_WINDOW);
                out.write_all(bytes).expect("brotli into memory");
                out.into_inner()
            }
        }
    }
}

/// The coding to send for a request's `Accept-Encoding` (RFC 9110 §12.5.3): the acceptable
/// coding with the highest q-value, brotli before gzip on a tie; identity when the header is
/// absent, accepts neither, or prefers identity by an explicit higher q-value. `x-gzip` is
/// gzip, `*` stands for any coding not listed. When nothing is acceptable, not even identity,
/// the RFC has the server send identity rather than fail, as here.
pub fn negotiate(headers: &HeaderMap) -> Coding {
    let mut listed = false;
    let (mut br, mut gzip, mut identity, mut any): (Option<f32>, Option<f32>, Option<f32>, Option<f32>) =
        (None, None, None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            if name.is_empty() {
                continue;
            }
            let mut q = Some(1.0f32);
            for param in parts {
                if let Some((k, v)) = param.split_once('=')
                    && k.trim().eq_ignore_ascii_case("q")
                {
                    q = qvalue(v.trim());
                }
            }
            // An item with a malformed weight is ignored rather than guessed at.
            let Some(q) = q else { continue };
            listed = true;
            let slot = match name.as_str() {
                "br" => &mut br,
                "gzip" | "x-gzip" => &mut gzip,
                "identity" => &mut identity,
                "*" => &mut any,
                _ => continue,
            };
            *slot = Some(slot.map_or(q, |old: f32| old.max(q)));
        }
    }
    if !listed {
        return Coding::Identity;
    }
    let br = br.or(any).unwrap_or(0.0);
    let gzip = gzip.or(any).unwrap_or(0.0);
    let (best, q) = if br >= gzip { (Coding::Brotli, br) } else { (Coding::Gzip, gzip) };
    match identity {
        _ if q <= 0.0 => Coding::Identity,
        Some(identity) if identity > q => Coding::Identity,
        _ => best,
    }
}

/// A qvalue (`0`, `0.5`, `1.000`): at most three decimals, between 0 and 1.
fn qvalue(text: &str) -> Option<f32> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let ok = matches!(whole, "0" | "1")
        && fraction.len() <= 3
        && fraction.bytes().all(|b| b.is_ascii_digit())
        && (whole == "0" || fraction.bytes().all(|b| b == b'0'));
    if !ok {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn pick(values: &[&str]) -> Coding {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        negotiate(&h)
    }

    #[test]
    fn accept_encoding_is_negotiated_by_q_values() {
        use Coding::*;
        assert_eq!(pick(&[]), Identity);
        assert_eq!(pick(&["gzip, deflate, br, zstd"]), Brotli, "a browser's header");
        assert_eq!(pick(&["gzip"]), Gzip);
        assert_eq!(pick(&["x-gzip"]), Gzip);
        assert_eq!(pick(&["GZIP;Q=1"]), Gzip, "tokens and parameter names are case-insensitive");
        assert_eq!(pick(&["br;q=0.5, gzip;q=0.8"]), Gzip);
        assert_eq!(pick(&["br;q=0.8, gzip;q=0.8"]), Brotli, "brotli on a tie");
        assert_eq!(pick(&["gzip;q=0, br;q=0"]), Identity);
        assert_eq!(pick(&["identity"]), Identity);
        assert_eq!(pick(&["deflate, zstd"]), Identity, "nothing trs sends");
        assert_eq!(pick(&["*"]), Brotli);
        assert_eq!(pick(&["*;q=0.5, br;q=0"]), Gzip, "a listed coding overrides *");
        assert_eq!(pick(&["gzip;q=0.5, identity"]), Identity, "identity explicitly preferred");
        assert_eq!(pick(&["gzip, identity;q=0"]), Gzip);
        assert_eq!(pick(&["br;q=2, gzip"]), Gzip, "a malformed weight drops its item");
        assert_eq!(pick(&["br;q=0.0001"]), Identity, "more than three decimals is malformed");
        assert_eq!(pick(&["gzip;q=0.5", "br;q=0.9"]), Brotli, "several header lines are one list");
        assert_eq!(pick(&[""]), Identity);
    }

    #[test]
    fn each_coding_has_its_own_strong_tag_and_round_trips() {
        assert_eq!(Coding::Identity.etag("\"abc\""), "\"abc\"");
        assert_eq!(Coding::Gzip.etag("\"abc\""), "\"abc-gzip\"");
        assert_eq!(Coding::Brotli.etag("\"abc\""), "\"abc-br\"");
        let text = "<p>the same paragraph, again and again</p>\n".repeat(200);
        let gz = Coding::Gzip.encode(text.as_bytes());
        let mut back = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut back).unwrap();
        assert_eq!(back, text);
        let br = Coding::Brotli.encode(text.as_bytes());
        let mut back = String::new();
        std::io::Read::read_to_string(&mut brotli::Decompressor::new(&br[..], 4096), &mut back).unwrap();
        assert_eq!(back, text);
        assert!(br.len() < text.len() / 10 && gz.len() < text.len() / 10, "{} {}", br.len(), gz.len());
    }
}
