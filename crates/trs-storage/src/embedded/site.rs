//! The site as a folder: each object is a file at its path (so the folder is the site as a
//! static host serves it). The digest is not kept on the side: it is the SHA-256 of the
//! file's bytes, computed when asked, so it can never disagree with the bytes. Writes go to a
//! temporary file in the same folder and are renamed into place, so a reader (or another
//! publisher) never sees half a page.

use crate::site::{SiteError, SiteObject, SiteStore, check_path};
use async_trait::async_trait;
use std::path::{Path, PathBuf};

/// Marks temporary files, which listing skips.
const TEMP_PREFIX: &str = ".trs-tmp-";

pub struct FolderSiteStore {
    root: PathBuf,
}

impl FolderSiteStore {
    /// Uses `root` (created if missing) as the site's folder.
    pub fn open(root: &Path) -> Result<Self, SiteError> {
        std::fs::create_dir_all(root)?;
        Ok(Self { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn file(&self, path: &str) -> Result<PathBuf, SiteError> {
        check_path(path)?;
        Ok(self.root.join(path))
    }

    async fn read(&self, path: &str) -> Result<Option<Vec<u8>>, SiteError> {
        match tokio::fs::read(self.file(path)?).await {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory) => Ok(None),
            Err(e) if e.raw_os_error() == Some(20) => Ok(None), // ENOTDIR: a parent is a file
            // A name longer than the file system takes (a reader's hostile path: `..%252f…`
            // decodes to one long segment) was never stored: absent, not a server error.
            Err(e) if e.kind() == std::io::ErrorKind::InvalidFilename => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            walk(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.push(rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/"));
        }
    }
    Ok(())
}

#[async_trait]
impl SiteStore for FolderSiteStore {
    async fn digest(&self, path: &str) -> Result<Option<String>, SiteError> {
        use sha2::Digest;
        Ok(self.read(path).await?.map(|bytes| hex::encode(sha2::Sha256::digest(&bytes))))
    }

    async fn put(&self, object: &SiteObject) -> Result<(), SiteError> {
        let target = self.file(&object.path)?;
        let dir = target.parent().ok_or_else(|| SiteError::InvalidPath(object.path.clone()))?;
        tokio::fs::create_dir_all(dir).await?;
        let temp = dir.join(format!("{TEMP_PREFIX}{:016x}", rand::random::<u64>()));
        tokio::fs::write(&temp, &object.bytes).await?;
        if let Err(e) = tokio::fs::rename(&temp, &target).await {
            let _ = tokio::fs::remove_file(&temp).await;
            return Err(e.into());
        }
        Ok(())
    }

    async fn get(&self, path: &str) -> Result<Option<SiteObject>, SiteError> {
        Ok(self.read(path).await?.map(|bytes| SiteObject::page(path, bytes)))
    }

    async fn delete(&self, path: &str) -> Result<(), SiteError> {
        match tokio::fs::remove_file(self.file(path)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self) -> Result<Option<Vec<String>>, SiteError> {
        let root = self.root.clone();
        let mut out = Vec::new();
        tokio::task::spawn_blocking(move || walk(&root, &root, &mut out).map(|_| out))
            .await
            .map_err(|e| SiteError::Backend(e.to_string()))?
            .map(|mut v| {
                v.sort();
                Some(v)
            })
            .map_err(SiteError::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn objects_round_trip_with_their_digest_and_listing() {
        let dir = tempfile::tempdir().unwrap();
        let store = FolderSiteStore::open(dir.path()).unwrap();
        let page = SiteObject::page("projects/foo/index.html", "<p>hi</p>");
        assert_eq!(store.digest(&page.path).await.unwrap(), None);
        store.put(&page).await.unwrap();
        assert_eq!(store.digest(&page.path).await.unwrap(), Some(page.digest.clone()));
        assert_eq!(store.get(&page.path).await.unwrap(), Some(page.clone()));
        store.put(&SiteObject::page("index.html", "x")).await.unwrap();
        assert_eq!(store.list().await.unwrap(), Some(vec!["index.html".into(), "projects/foo/index.html".into()]));
        store.delete(&page.path).await.unwrap();
        store.delete(&page.path).await.unwrap();
        assert_eq!(store.get(&page.path).await.unwrap(), None);
        // A directory is not an object.
        assert_eq!(store.get("projects").await.unwrap(), None);
        // Nor is a name too long for the file system (ENAMETOOLONG), whole or as a segment.
        let long = "%2e%2e%2f".repeat(40);
        assert_eq!(store.get(&long).await.unwrap(), None);
        assert_eq!(store.get(&format!("projects/{long}/index.html")).await.unwrap(), None);
    }

    #[tokio::test]
    async fn paths_outside_the_folder_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = FolderSiteStore::open(dir.path()).unwrap();
        for bad in ["../x", "/etc/passwd", "a//b", "a/./b", "", "a\\b"] {
            assert!(matches!(store.get(bad).await, Err(SiteError::InvalidPath(_))), "{bad}");
        }
    }
}
