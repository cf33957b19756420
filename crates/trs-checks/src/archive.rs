//! Archive inspection for tar (plain, `.gz`/`.tgz`, `.bz2`, `.xz`, `.zst`), `.zip` and `.jar`:
//! the listing is read to the end, but no entry is ever written anywhere, and reading stops at
//! the first problem or exceeded limit, so a decompression bomb is refused, not unpacked. The
//! same rules hold for every format.
//!
//! Refused: unreadable, corrupt or truncated archives (the gzip CRC and every zip entry's CRC
//! are checked); absolute paths and `..` segments; symbolic links whose target, resolved
//! through the archive's other links, leaves the top folder; hard links outside it; device and
//! fifo entries; entries inside a symbolic link (extracting them would write through it); more
//! than one top-level entry or a top level that is not a folder; more than
//! [`ArchiveLimits::max_entries`] entries, [`ArchiveLimits::max_total_size`] uncompressed
//! bytes, or an overall expansion above [`ArchiveLimits::max_ratio`] — the ratio is
//! uncompressed bytes so far over the archive's whole size, so it is exact, never a guess,
//! and is checked against the sizes the headers declare before their data is read and again
//! against the bytes actually decompressed.
//!
//! Also refused, because extractors would disagree on what the archive holds: data after a
//! tar's end-of-archive marker (an appended archive, or one hidden in a second gzip member), and
//! a zip whose local headers differ from its central directory.
//!
//! The tar inspector reads whatever `Read` it is given: [`crate::artifact`] feeds it the
//! chunks of the single hashing pass. A zip needs random access (its central directory is at
//! the end and is authoritative), so [`inspect_zip_source`] opens it itself: that second read
//! runs on its own thread at the same time as the hashing pass, from the page cache for a
//! local file, through ranged reads of a window each for an object in S3.

use crate::revision::Source;
use flate2::read::MultiGzDecoder;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{self, Read, Seek};
use std::path::Path;
use trs_core::{CheckKind, CheckResult};

/// Default cap on an archive's uncompressed size (8 GiB).
pub const DEFAULT_MAX_TOTAL_SIZE: u64 = 8 << 30;
/// Default cap on the number of entries.
pub const DEFAULT_MAX_ENTRIES: u64 = 100_000;
/// Default cap on the overall expansion, uncompressed : compressed.
pub const DEFAULT_MAX_RATIO: u64 = 200;
/// Below this many uncompressed bytes the ratio is not enforced: tar pads every entry to
/// 512 bytes and the archive to 10 KiB with zeros, so tiny archives legitimately expand
/// several hundred times.
pub const DEFAULT_RATIO_FLOOR: u64 = 16 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct ArchiveLimits {
    pub max_total_size: u64,
    pub max_entries: u64,
    pub max_ratio: u64,
    pub ratio_floor: u64,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        Self {
            max_total_size: DEFAULT_MAX_TOTAL_SIZE,
            max_entries: DEFAULT_MAX_ENTRIES,
            max_ratio: DEFAULT_MAX_RATIO,
            ratio_floor: DEFAULT_RATIO_FLOOR,
        }
    }
}

impl ArchiveLimits {
    fn check_size(&self, uncompressed: u64, compressed: u64, what: &str) -> Result<(), String> {
        if uncompressed > self.max_total_size {
            return Err(format!(
                "{what} more than the limit of {} uncompressed; refused without unpacking",
                human_bytes(self.max_total_size)
            ));
        }
        if uncompressed > self.ratio_floor && uncompressed > self.max_ratio.saturating_mul(compressed.max(1)) {
            return Err(format!(
                "{what} {} from {} of archive, a compression ratio above {}:1; refused as a decompression bomb, nothing was unpacked",
                human_bytes(uncompressed),
                human_bytes(compressed),
                self.max_ratio
            ));
        }
        Ok(())
    }
}

/// The archive formats trs inspects, by file name. Every tar variant streams through the same
/// walker, so the rules are the same whatever the compression; `Jar` is a zip whose top level
/// is a package tree (`META-INF/`, `org/`), so the one-folder rule does not apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Tar,
    TarGz,
    TarBz2,
    TarXz,
    TarZst,
    Zip,
    Jar,
}

impl ArchiveKind {
    pub fn of(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase();
        let ends = |suffixes: &[&str]| suffixes.iter().any(|s| lower.ends_with(s));
        Some(if ends(&[".tar.gz", ".tgz"]) {
            Self::TarGz
        } else if ends(&[".tar.bz2", ".tbz2", ".tbz"]) {
            Self::TarBz2
        } else if ends(&[".tar.xz", ".txz"]) {
            Self::TarXz
        } else if ends(&[".tar.zst", ".tzst"]) {
            Self::TarZst
        } else if ends(&[".tar"]) {
            Self::Tar
        } else if ends(&[".zip"]) {
            Self::Zip
        } else if ends(&[".jar", ".war", ".ear"]) {
            Self::Jar
        } else {
            return None;
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Tar => "tar",
            Self::TarGz => "tar.gz",
            Self::TarBz2 => "tar.bz2",
            Self::TarXz => "tar.xz",
            Self::TarZst => "tar.zst",
            Self::Zip => "zip",
            Self::Jar => "jar",
        }
    }

    /// Whether the archive is read as a stream of tar entries (and can be fed the chunks of
    /// the hashing pass); zips need random access to their central directory.
    pub fn is_tar(self) -> bool {
        !matches!(self, Self::Zip | Self::Jar)
    }

    /// Whether the archive must unpack into one folder (release archives); a jar's top level
    /// is its package tree.
    fn single_top(self) -> bool {
        self != Self::Jar
    }
}

/// Build descriptions whose presence directly in an archive's top folder marks it as a
/// source distribution: what `mvn`, `gradle`, `ant`, `sbt`, autotools, CMake, meson, pip,
/// cargo, go, bundler and bazel build from. A binary distribution ships what they built.
/// `package.json` is not one: every npm tarball (`package/package.json`) has it, built or not.
const BUILD_FILES: &[&str] = &[
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "settings.gradle",
    "settings.gradle.kts",
    "build.xml",
    "build.sbt",
    "configure",
    "configure.ac",
    "configure.in",
    "Makefile",
    "GNUmakefile",
    "makefile",
    "Makefile.am",
    "Makefile.in",
    "Makefile.PL",
    "Build.PL",
    "CMakeLists.txt",
    "meson.build",
    "setup.py",
    "setup.cfg",
    "pyproject.toml",
    "Cargo.toml",
    "go.mod",
    "Gemfile",
    "Rakefile",
    "SConstruct",
    "WORKSPACE",
    "MODULE.bazel",
    "BUILD.bazel",
    "mix.exs",
    "rebar.config",
    "stack.yaml",
    "build.zig",
];

/// Build descriptions named after their project (`foo.cabal`, `foo.gemspec`, `Foo.sln`).
const BUILD_FILE_SUFFIXES: &[&str] =
    &[".cabal", ".gemspec", ".sln", ".csproj", ".fsproj", ".rockspec", ".opam", ".nimble"];

/// Source files of compiled languages: an archive holding them and nothing compiled is the
/// source a build starts from, whatever build tool (or hand-written script) it uses.
/// Interpreted languages' files (`.py`, `.js`, `.rb`) are not counted: binary distributions
/// and npm tarballs ship them as they run.
const COMPILED_SOURCE_SUFFIXES: &[&str] = &[
    ".c", ".cc", ".cpp", ".cxx", ".java", ".scala", ".kt", ".rs", ".go", ".cs", ".fs", ".swift", ".m", ".mm", ".hs",
    ".ml", ".erl", ".zig", ".f90", ".adb",
];

/// What a build produces: an archive holding any of these is (also) a binary distribution.
const BUILT_SUFFIXES: &[&str] =
    &[".class", ".jar", ".war", ".o", ".obj", ".a", ".lib", ".so", ".dll", ".dylib", ".exe", ".pyc", ".beam"];

fn has_suffix(name: &str, suffixes: &[&str]) -> bool {
    suffixes.iter().any(|s| name.ends_with(s))
}

/// Whether the license check applies: a release archive that unpacks into one folder holding
/// a build description ([`BUILD_FILES`], [`BUILD_FILE_SUFFIXES`]) or compiled-language
/// sources and nothing built ([`COMPILED_SOURCE_SUFFIXES`], [`BUILT_SUFFIXES`]), whatever its
/// name (`httpd-2.4.68.tar.gz` is a source release), or whose name says so
/// (`foo-1.0-src.tar.gz`, `foo-1.0-source-release.zip`).
/// Binary convenience archives are not required to carry the files at their top level (a jar
/// keeps them in META-INF).
/// `listing` is `None` when the archive could not be inspected: then only the name can tell.
pub fn is_source_archive(name: &str, kind: ArchiveKind, listing: Option<&Listing>) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
    kind.single_top()
        && (file.contains("src")
            || file.contains("source")
            || listing.is_some_and(|l| {
                BUILD_FILES.iter().any(|f| l.top_files.contains(*f))
                    || l.top_files.iter().any(|f| has_suffix(f, BUILD_FILE_SUFFIXES))
                    || (l.compiled_sources > 0 && l.built_files == 0)
            }))
}

/// What a successful inspection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    pub entries: u64,
    pub uncompressed: u64,
    /// The single top-level folder (empty for a jar, whose top level is its package tree).
    pub top: String,
    /// Names of the non-folder entries directly inside the top folder.
    pub top_files: BTreeSet<String>,
    /// Files anywhere in the archive that are compiled languages' sources.
    pub compiled_sources: u64,
    /// Files anywhere in the archive that a build produced (objects, libraries, classes).
    pub built_files: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Symlink,
    Hardlink,
}

/// Splits an entry name into path segments, refusing absolute paths and `..`. Both separators
/// count: Windows tools write `\` into zips, and extractors honour it.
fn segments(name: &str) -> Result<Vec<String>, String> {
    if name.starts_with(['/', '\\']) || (name.len() >= 2 && name.as_bytes()[1] == b':') {
        return Err(format!("entry {name:?} has an absolute path"));
    }
    let segs: Vec<String> =
        name.split(['/', '\\']).filter(|s| !s.is_empty() && *s != ".").map(str::to_string).collect();
    if segs.iter().any(|s| s == "..") {
        return Err(format!("entry {name:?} contains '..' and would be written outside the folder"));
    }
    Ok(segs)
}

/// Checks entries as they stream past, keeping only what the end-of-archive checks need.
struct Walker<'l> {
    limits: &'l ArchiveLimits,
    single_top: bool,
    compressed_len: u64,
    entries: u64,
    declared: u64,
    top: Option<String>,
    top_is_file: Option<String>,
    top_files: BTreeSet<String>,
    compiled_sources: u64,
    built_files: u64,
    paths: Vec<Vec<String>>,
    symlinks: HashMap<Vec<String>, (String, String)>,
}

impl<'l> Walker<'l> {
    fn new(limits: &'l ArchiveLimits, compressed_len: u64, kind: ArchiveKind) -> Self {
        Self {
            limits,
            single_top: kind.single_top(),
            compressed_len,
            entries: 0,
            declared: 0,
            top: None,
            top_is_file: None,
            top_files: BTreeSet::new(),
            compiled_sources: 0,
            built_files: 0,
            paths: Vec::new(),
            symlinks: HashMap::new(),
        }
    }

    /// Declared sizes are checked before the data is read, so a bomb is refused at its header.
    fn account(&mut self, declared_size: u64) -> Result<(), String> {
        self.declared = self.declared.saturating_add(declared_size);
        self.limits.check_size(self.declared, self.compressed_len, "the entries declare")
    }

    fn entry(&mut self, name: &str, kind: Kind, declared_size: u64, link: Option<&str>) -> Result<(), String> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(format!("more than {} entries; refused (entry limit)", self.limits.max_entries));
        }
        self.account(declared_size)?;
        let segs = segments(name)?;
        let Some(first) = segs.first() else {
            // `./` itself, as `tar czf x.tgz .` writes it.
            return if kind == Kind::Dir { Ok(()) } else { Err(format!("entry {name:?} has an empty name")) };
        };
        match &self.top {
            _ if !self.single_top => self.top = Some(String::new()),
            None => self.top = Some(first.clone()),
            Some(top) if top != first => {
                return Err(format!(
                    "more than one top-level entry ({top:?} and {first:?}); a release archive must unpack into one folder"
                ));
            }
            Some(_) => {}
        }
        if segs.len() == 1 && kind != Kind::Dir && self.single_top {
            self.top_is_file = Some(name.to_string());
        }
        if segs.len() == 2 && kind != Kind::Dir {
            self.top_files.insert(segs[1].clone());
        }
        if kind == Kind::File {
            let file = segs.last().map(|f| f.to_ascii_lowercase()).unwrap_or_default();
            if has_suffix(&file, COMPILED_SOURCE_SUFFIXES) {
                self.compiled_sources += 1;
            } else if has_suffix(&file, BUILT_SUFFIXES) {
                self.built_files += 1;
            }
        }
        match kind {
            Kind::Symlink => {
                let target = link.unwrap_or("");
                if target.is_empty()
                    || target.starts_with(['/', '\\'])
                    || (target.len() >= 2 && target.as_bytes()[1] == b':')
                {
                    return Err(format!("symlink {name:?} points to the absolute path {target:?}"));
                }
                self.symlinks.insert(segs.clone(), (name.to_string(), target.to_string()));
            }
            Kind::Hardlink => {
                // Tar hard-link targets are relative to the archive root.
                let target = link.unwrap_or("");
                let inside = segments(target).ok().is_some_and(|t| {
                    if self.single_top { t.len() >= 2 && Some(&t[0]) == self.top.as_ref() } else { !t.is_empty() }
                });
                if !inside {
                    return Err(format!("hard link {name:?} points outside the archive's folder, to {target:?}"));
                }
            }
            Kind::File | Kind::Dir => {}
        }
        self.paths.push(segs);
        Ok(())
    }

    /// Resolves a link target from `dir` through the archive's other symlinks; `None` if it
    /// leaves the top folder at any step (or loops).
    fn resolve(&self, dir: &[String], target: &str, depth: u32) -> Option<Vec<String>> {
        if depth > 40 {
            return None;
        }
        // The folder a link may not leave: the top folder, or a jar's root.
        let floor = usize::from(self.single_top);
        let mut cur = dir.to_vec();
        for seg in target.split(['/', '\\']) {
            match seg {
                "" | "." => {}
                ".." => {
                    // `cur[0]` is the top folder: popping it leaves the folder.
                    if cur.len() <= floor {
                        return None;
                    }
                    cur.pop();
                }
                s => {
                    cur.push(s.to_string());
                    if let Some((_, t)) = self.symlinks.get(&cur) {
                        cur.pop();
                        cur = self.resolve(&cur, t, depth + 1)?;
                    }
                }
            }
        }
        Some(cur)
    }

    fn finish(self, uncompressed: u64) -> Result<Listing, String> {
        let Some(top) = self.top.clone() else {
            return Err("the archive is empty".into());
        };
        if let Some(name) = &self.top_is_file {
            return Err(format!(
                "the top-level entry {name:?} is not a folder; a release archive must unpack into one folder"
            ));
        }
        for (segs, (name, target)) in &self.symlinks {
            if self.resolve(&segs[..segs.len() - 1], target, 0).is_none() {
                return Err(format!("symlink {name:?} -> {target:?} points outside the archive's folder"));
            }
        }
        if !self.symlinks.is_empty() {
            let links: HashSet<&[String]> = self.symlinks.keys().map(Vec::as_slice).collect();
            for p in &self.paths {
                if let Some(n) = (1..p.len()).find(|&n| links.contains(&p[..n])) {
                    return Err(format!(
                        "entry {:?} lies inside symlink {:?}; extracting it would write through the link",
                        p.join("/"),
                        p[..n].join("/")
                    ));
                }
            }
        }
        Ok(Listing {
            entries: self.entries,
            uncompressed,
            top,
            top_files: self.top_files,
            compiled_sources: self.compiled_sources,
            built_files: self.built_files,
        })
    }
}

/// Counts decompressed bytes and stops reading as soon as a limit is exceeded.
struct Limited<'l, R> {
    inner: R,
    count: u64,
    compressed_len: u64,
    limits: &'l ArchiveLimits,
    hit: Option<String>,
}

impl<R: Read> Read for Limited<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.hit.is_some() {
            return Err(io::Error::other("limit exceeded"));
        }
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        if let Err(reason) = self.limits.check_size(self.count, self.compressed_len, "it expands to") {
            self.hit = Some(reason);
            return Err(io::Error::other("limit exceeded"));
        }
        Ok(n)
    }
}

/// The decompressor of a tar variant. Each reads every member (gzip, bzip2), stream (xz) or
/// frame (zstd) of a concatenation, as the command-line tools do when they extract: a tar hidden
/// in a second member is decompressed here and refused by [`inspect_tar`]'s end check, never
/// left unread.
fn decompressor<'r, R: Read + 'r>(kind: ArchiveKind, reader: R) -> Result<Box<dyn Read + 'r>, String> {
    Ok(match kind {
        ArchiveKind::Tar => Box::new(reader),
        ArchiveKind::TarGz => Box::new(MultiGzDecoder::new(reader)),
        ArchiveKind::TarBz2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        ArchiveKind::TarXz => Box::new(lzma_rust2::XzReader::new(reader, true)),
        ArchiveKind::TarZst => {
            Box::new(zstd::stream::read::Decoder::new(reader).map_err(|e| format!("not a readable zstd stream: {e}"))?)
        }
        ArchiveKind::Zip | ArchiveKind::Jar => return Err(format!("a {} is not a tar archive", kind.label())),
    })
}

/// Inspects a tar archive of `kind` (plain or compressed) read from `reader`
/// (`compressed_len` is the artifact's size, for the ratio). Reads to the end of the
/// compressed stream so truncation and CRC errors show, and refuses anything but zeros after
/// the tar's end-of-archive marker: a second archive there (appended, or in a second gzip
/// member) is extracted by `tar --ignore-zeros` and by some libraries, yet would never have
/// been listed.
pub fn inspect_tar<R: Read>(
    kind: ArchiveKind,
    reader: R,
    compressed_len: u64,
    limits: &ArchiveLimits,
) -> Result<Listing, String> {
    let label = kind.label();
    let limited = Limited { inner: decompressor(kind, reader)?, count: 0, compressed_len, limits, hit: None };
    let mut archive = tar::Archive::new(limited);
    let mut walker = Walker::new(limits, compressed_len, kind);
    let walked = (|| -> Result<(), String> {
        // Raw entries: the tar crate would read GNU long-name and pax headers into memory
        // whatever their declared size; here they are size-checked first (see `read_meta`).
        let entries = archive.entries().map_err(|e| format!("not a readable {label} archive: {e}"))?.raw(true);
        let (mut long_name, mut long_link, mut pax_path, mut pax_link) = (None, None, None, None);
        let mut pax_size: Option<u64> = None;
        for entry in entries {
            let mut entry = entry.map_err(|e| format!("the archive is corrupt or truncated: {e}"))?;
            use tar::EntryType as T;
            let ty = entry.header().entry_type();
            match ty {
                T::GNULongName | T::GNULongLink | T::XHeader => {
                    walker.account(entry.size())?;
                    let data = read_meta(&mut entry)?;
                    match ty {
                        T::GNULongName => long_name = Some(data),
                        T::GNULongLink => long_link = Some(data),
                        _ => {
                            for ext in tar::PaxExtensions::new(&data) {
                                let ext = ext.map_err(|e| format!("the archive has a corrupt pax header: {e}"))?;
                                match ext.key() {
                                    Ok("path") => pax_path = Some(ext.value_bytes().to_vec()),
                                    Ok("linkpath") => pax_link = Some(ext.value_bytes().to_vec()),
                                    Ok("size") => {
                                        pax_size = ext.value().ok().and_then(|v| v.parse().ok()).or(Some(u64::MAX))
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                    continue;
                }
                // `git archive` writes the commit id into a pax global header: metadata, not a file.
                T::XGlobalHeader => {
                    walker.account(entry.size())?;
                    continue;
                }
                _ => {}
            }
            // A pax path beats a GNU long name beats the header's own (ustar prefix included).
            let name = pax_path.take().or(long_name.take()).unwrap_or_else(|| entry.path_bytes().into_owned());
            let link = pax_link.take().or(long_link.take()).or_else(|| entry.link_name_bytes().map(|b| b.into_owned()));
            (long_name, long_link) = (None, None);
            if pax_size.take().is_some_and(|n| n != entry.size()) {
                // Only entries over 8 GiB need a pax size, and those exceed the size limit.
                return Err("an entry is larger than 8 GiB (pax size header); refused".into());
            }
            let name = String::from_utf8_lossy(&name).into_owned();
            let link = link.map(|b| String::from_utf8_lossy(&b).into_owned());
            let kind = match ty {
                T::Regular | T::Continuous => Kind::File,
                T::Directory => Kind::Dir,
                T::Symlink => Kind::Symlink,
                T::Link => Kind::Hardlink,
                // Its extension headers would need GNU-specific parsing; `tar -S` is not used
                // for release archives.
                T::GNUSparse => return Err(format!("entry {name:?} is a GNU sparse file, which trs does not inspect")),
                T::Char => return Err(format!("entry {name:?} is a character device")),
                T::Block => return Err(format!("entry {name:?} is a block device")),
                T::Fifo => return Err(format!("entry {name:?} is a named pipe")),
                other => return Err(format!("entry {name:?} has the unsupported type {:?}", other.as_byte() as char)),
            };
            walker.entry(&name, kind, entry.size(), link.as_deref())?;
        }
        Ok(())
    })();
    let mut limited = archive.into_inner();
    if let Some(reason) = limited.hit.take() {
        return Err(reason);
    }
    walked?;
    // The rest of the stream: end-of-archive padding (zeros) and the compressed stream's
    // trailer with its checksum.
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match limited.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(limited.hit.take().unwrap_or_else(|| format!("the archive is corrupt or truncated: {e}")));
            }
        };
        if buf[..n].iter().any(|&b| b != 0) {
            return Err("data follows the tar archive's end marker (a second archive appended, or hidden in a \
                        second compressed member, which some tools extract); refused"
                .into());
        }
    }
    walker.finish(limited.count)
}

/// Largest GNU long-name or pax header read (real ones are a few hundred bytes).
const MAX_META_HEADER: u64 = 1 << 20;

/// Reads a long-name or pax header's data, refusing oversized ones before reading them.
fn read_meta<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Vec<u8>, String> {
    let size = entry.size();
    if size > MAX_META_HEADER {
        return Err(format!(
            "a long-name or pax header of {} is larger than {}; refused",
            human_bytes(size),
            human_bytes(MAX_META_HEADER)
        ));
    }
    let mut data = Vec::with_capacity(size as usize);
    entry.read_to_end(&mut data).map_err(|e| format!("the archive is corrupt or truncated: {e}"))?;
    // GNU long names end in NUL.
    while data.last() == Some(&0) {
        data.pop();
    }
    Ok(data)
}

/// Inspects a zip file (or a jar, `kind`): the central directory first (entry count and
/// declared sizes, so a bomb is refused before any inflation), then that every local header
/// agrees with it — the same name, no duplicate names, no overlapping entries, no local entry
/// the directory does not list — since streaming readers (Java's `ZipInputStream`) extract by
/// local headers while the rules here are checked on the directory; then every entry is
/// decompressed to nowhere to check its CRC, counting real bytes against the limits.
pub fn inspect_zip(path: &Path, kind: ArchiveKind, limits: &ArchiveLimits) -> Result<Listing, String> {
    inspect_zip_source(&Source::File(path.to_path_buf()), kind, limits)
}

/// [`inspect_zip`] of a zip wherever it is: a local file, or an object in the store read
/// through ranged reads (no copy anywhere).
pub fn inspect_zip_source(source: &Source, kind: ArchiveKind, limits: &ArchiveLimits) -> Result<Listing, String> {
    let unreadable = |e: io::Error| format!("could not read the file: {e}");
    let mut reader = source.open_seekable().map_err(unreadable)?;
    // The size of what is read, for the ratio (a seek: no read, no request).
    let compressed_len = reader.seek(io::SeekFrom::End(0)).map_err(unreadable)?;
    reader.rewind().map_err(unreadable)?;
    inspect_zip_reader(reader, compressed_len, kind, limits)
}

/// [`inspect_zip`] of a zip already open (`compressed_len` is its size, for the ratio); the
/// fuzz target reads from memory through it.
pub fn inspect_zip_reader<R: Read + Seek>(
    reader: R,
    compressed_len: u64,
    kind: ArchiveKind,
    limits: &ArchiveLimits,
) -> Result<Listing, String> {
    let mut zip =
        zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip archive (corrupt or truncated?): {e}"))?;
    if zip.len() as u64 > limits.max_entries {
        return Err(format!("{} entries, more than the limit of {}; refused", zip.len(), limits.max_entries));
    }
    zip.validate_header_consistency().map_err(|e| {
        format!(
            "its local headers disagree with its central directory ({e}); extractors would not agree on its contents"
        )
    })?;
    let mut walker = Walker::new(limits, compressed_len, kind);
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| format!("entry {i} cannot be read: {e}"))?;
        let name = entry
            .name()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(entry.name_raw()).into_owned());
        let kind = if entry.is_symlink() {
            Kind::Symlink
        } else if entry.is_dir() {
            Kind::Dir
        } else {
            Kind::File
        };
        let declared = entry.size();
        let mut target = None;
        if kind == Kind::Symlink {
            // A zip symlink's data is its target.
            let mut t = Vec::new();
            (&mut entry).take(4096).read_to_end(&mut t).map_err(|e| format!("entry {name:?} is corrupt: {e}"))?;
            target = Some(String::from_utf8_lossy(&t).into_owned());
        }
        walker.entry(&name, kind, declared, target.as_deref())?;
        let mut buf = vec![0u8; 1 << 16];
        let mut actual = target.as_ref().map_or(0, |t| t.len() as u64);
        loop {
            let n = match entry.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(format!("entry {name:?} is corrupt: {e}")),
            };
            actual += n as u64;
            total += n as u64;
            if actual > declared {
                return Err(format!("entry {name:?} holds more data than its header declares"));
            }
            limits.check_size(total, compressed_len, "it expands to")?;
        }
    }
    walker.finish(total)
}

pub(crate) fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 { format!("{n} bytes") } else { format!("{v:.1} {}", UNITS[u]) }
}

/// License file names accepted directly in the top folder.
const LICENSE_NAMES: [&str; 3] = ["LICENSE", "LICENSE.txt", "LICENSE.md"];
const NOTICE_NAMES: [&str; 3] = ["NOTICE", "NOTICE.txt", "NOTICE.md"];

/// Turns an inspection result into the `archive` check and, for source archives, the
/// `license` check.
pub(crate) fn archive_checks(name: &str, kind: ArchiveKind, result: Result<Listing, String>) -> Vec<CheckResult> {
    let source = is_source_archive(name, kind, result.as_ref().ok());
    match result {
        Ok(l) => {
            let inside = if kind.single_top() { format!(", all inside {}/", l.top) } else { String::new() };
            let mut out = vec![CheckResult::pass(
                CheckKind::Archive,
                format!(
                    "{} archive: {} entries, {} uncompressed{inside}",
                    kind.label(),
                    l.entries,
                    human_bytes(l.uncompressed)
                ),
            )];
            if source {
                let has = |names: &[&str]| names.iter().any(|n| l.top_files.contains(*n));
                let missing: Vec<&str> = [("LICENSE", has(&LICENSE_NAMES)), ("NOTICE", has(&NOTICE_NAMES))]
                    .into_iter()
                    .filter(|(_, ok)| !ok)
                    .map(|(n, _)| n)
                    .collect();
                out.push(if missing.is_empty() {
                    CheckResult::pass(CheckKind::License, format!("LICENSE and NOTICE are in {}/", l.top))
                } else {
                    CheckResult::fail(
                        CheckKind::License,
                        format!(
                            "source archive has no {} directly in {}/ (also accepted: .txt, .md)",
                            missing.join(" and no "),
                            l.top
                        ),
                    )
                });
            }
            out
        }
        Err(reason) => {
            let mut out = vec![CheckResult::fail(CheckKind::Archive, reason)];
            if source {
                out.push(CheckResult::fail(
                    CheckKind::License,
                    "LICENSE and NOTICE could not be checked because the archive could not be inspected",
                ));
            }
            out
        }
    }
}
