//! SHA-512 on assembly (OpenSSL's or aws-lc's), ending in a `sha2` state.
//!
//! An upload is paced by its SHA-512 lane (the intake hashes on one core while the other
//! writes and hashes SHA-256). The `sha2` crate's SHA-512 runs at `sha512sum`'s speed, a
//! third slower than OpenSSL's assembly (`trs bench upload` prints both). What the C
//! libraries' Rust APIs lack is the state after the last byte: trs keeps it
//! ([`sha2::Sha512`]'s serialized state, in the blob's metadata) so that a signature over the
//! file is checked by appending the signature's trailer, without reading the file again. So
//! this hasher gives the C library whole 128-byte blocks only, keeps the tail itself, and at
//! the end hands the chaining value, the block count and that tail to a `sha2` state
//! ([`Sha512::into_sha2`]): assembly for the gigabytes, `sha2` for the few bytes after.
//!
//! Which library: with the `system-openssl` feature, the system's OpenSSL libcrypto, whose
//! AVX2 SHA-512 runs on AMD and Intel alike; without it, aws-lc (linked already for rustls),
//! whose AVX SHA-512 runs on Intel only (on AMD it is as fast as `sha2`).

use sha2::Digest;
use sha2::digest::common::hazmat::SerializableState;

#[cfg(not(feature = "system-openssl"))]
use aws_lc_sys as ffi;
#[cfg(feature = "system-openssl")]
use openssl_sys as ffi;

/// SHA-512's block: the C library is given whole blocks only.
const BLOCK: usize = 128;

/// A running SHA-512. Cloning copies the state (a plain C struct and the tail).
#[derive(Clone)]
pub struct Sha512 {
    /// Has compressed `blocks` blocks and holds nothing back (it is never given a partial one).
    ctx: ffi::SHA512_CTX,
    blocks: u128,
    tail: [u8; BLOCK],
    tail_len: usize,
}

impl Default for Sha512 {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Sha512 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sha512").field("blocks", &self.blocks).field("tail_len", &self.tail_len).finish()
    }
}

impl Sha512 {
    pub fn new() -> Self {
        // SAFETY: SHA512_CTX is a C struct of integers and arrays of integers, for which all
        // zero bytes is a valid value; SHA512_Init then only writes the exclusively borrowed
        // struct and cannot fail (it returns 1).
        #[allow(unsafe_code)]
        let ctx = unsafe {
            let mut ctx: ffi::SHA512_CTX = std::mem::zeroed();
            ffi::SHA512_Init(&mut ctx);
            ctx
        };
        Sha512 { ctx, blocks: 0, tail: [0; BLOCK], tail_len: 0 }
    }

    pub fn update(&mut self, mut data: &[u8]) {
        if self.tail_len > 0 {
            let take = (BLOCK - self.tail_len).min(data.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&data[..take]);
            self.tail_len += take;
            data = &data[take..];
            if self.tail_len < BLOCK {
                return;
            }
            let block = self.tail;
            self.compress(&block);
            self.tail_len = 0;
        }
        let whole = data.len() - data.len() % BLOCK;
        self.compress(&data[..whole]);
        let rest = &data[whole..];
        self.tail[..rest.len()].copy_from_slice(rest);
        self.tail_len = rest.len();
    }

    /// Gives the C library whole blocks, which it compresses at once (nothing stays buffered).
    fn compress(&mut self, blocks: &[u8]) {
        debug_assert_eq!(blocks.len() % BLOCK, 0);
        if blocks.is_empty() {
            return;
        }
        // SAFETY: `ctx` was initialized by SHA512_Init and is exclusively borrowed; `blocks`
        // is a live slice of `blocks.len()` bytes that SHA512_Update only reads. It returns 1
        // whatever the input.
        #[allow(unsafe_code)]
        unsafe {
            ffi::SHA512_Update(&mut self.ctx, blocks.as_ptr().cast(), blocks.len());
        }
        self.blocks += (blocks.len() / BLOCK) as u128;
    }

    /// The same state as a `sha2` hasher that was given the same bytes: go on updating it,
    /// finalize it, or serialize it (`trs_storage::blob::hash_state`).
    pub fn into_sha2(self) -> sha2::Sha512 {
        // sha2's state: the core (eight chaining words, then the count of compressed
        // blocks, little-endian) followed by the block buffer. Starting from an empty
        // hasher's serialization keeps the buffer's own encoding sha2's business.
        let mut state = sha2::Sha512::new().serialize();
        for (word, bytes) in self.ctx.h.iter().zip(state[..64].chunks_exact_mut(8)) {
            bytes.copy_from_slice(&word.to_le_bytes());
        }
        state[64..80].copy_from_slice(&self.blocks.to_le_bytes());
        let mut hasher =
            sha2::Sha512::deserialize(&state).expect("an empty buffer after any core state is a valid sha2 state");
        hasher.update(&self.tail[..self.tail_len]);
        hasher
    }

    pub fn finalize(self) -> [u8; 64] {
        self.into_sha2().finalize().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reference(data: &[u8]) -> [u8; 64] {
        sha2::Sha512::digest(data).into()
    }

    #[test]
    fn known_answers() {
        assert_eq!(
            hex(&Sha512::new().finalize()),
            "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce\
             47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
        );
        let mut h = Sha512::new();
        h.update(b"abc");
        assert_eq!(
            hex(&h.finalize()),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"
        );
    }

    #[test]
    fn a_megabyte_in_odd_chunks() {
        let data: Vec<u8> = (0..(1u32 << 20) + 77).map(|i| (i % 251) as u8).collect();
        let mut h = Sha512::new();
        for chunk in data.chunks(4093) {
            h.update(chunk);
        }
        assert_eq!(h.finalize(), reference(&data));
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    proptest! {
        /// Whatever the length and the chunking, the handed-over state finishes the hash sha2
        /// would, both as it is and with a trailer appended (the signature check), also after
        /// a round trip through its serialization (the kept metadata).
        #[test]
        fn the_handed_over_state_is_sha2s(
            data in proptest::collection::vec(any::<u8>(), 0..1200),
            cuts in proptest::collection::vec(0usize..1200, 0..6),
            trailer in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut h = Sha512::new();
            let mut at = 0;
            for cut in cuts.into_iter().chain([data.len()]) {
                h.update(&data[at..cut]);
                at = cut;
            }
            let handed = h.into_sha2();
            let mut whole = data.clone();
            whole.extend_from_slice(&trailer);
            let restored = sha2::Sha512::deserialize(&handed.serialize()).unwrap();
            prop_assert_eq!(<[u8; 64]>::from(handed.clone().finalize()), reference(&data));
            let mut appended = restored;
            appended.update(&trailer);
            prop_assert_eq!(<[u8; 64]>::from(appended.finalize()), reference(&whole));
        }
    }
}
