//! Entry points for the fuzz targets (`fuzz/` at the workspace root), not an API: the readers
//! of bytes that a release manager (a wheel, an sdist, an npm tarball) or a registry (a
//! project page) sent, which the clients otherwise reach only after network calls.

use trs_distribute::{Artifact, DistributeError, Target};

/// PyPI: the Python distributions of `artifacts` for `target`, their core metadata read
/// (`METADATA` of a wheel, `PKG-INFO` of an sdist) and turned into upload form fields.
pub fn pypi_distributions(target: &Target, artifacts: &[Artifact]) -> Result<usize, DistributeError> {
    crate::pypi::fuzz_distributions(target, artifacts)
}

/// PyPI: a simple-index project page, as PEP 691 JSON and as PEP 503 HTML.
pub fn pypi_index_page(body: &str) -> usize {
    crate::pypi::fuzz_index_page(body)
}

/// npm: the package tarball of `artifacts` for `target` and the publish document made of it.
pub fn npm_tarball(target: &Target, artifacts: &[Artifact]) -> Result<usize, DistributeError> {
    crate::npm::fuzz_tarball(target, artifacts)
}
