//! Contexts to stored objects: HTML and Atom through the Tera templates (autoescaped: `.html`
//! and `.xml`), JSON through serde, KEYS as the text trs-app renders. Headers are decided by
//! [`SiteObject::page`].

use crate::config::{SiteConfig, SiteSource};
use crate::context::{self, Builder};
use crate::load::{Foundation, ProjectData};
use crate::paths;
use serde::Serialize;
use trs_core::Release;
use trs_storage::SiteObject;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// The parsed templates and the config: built once, shared by every render (it is `Sync`).
pub struct Renderer {
    tera: tera::Tera,
    pub config: SiteConfig,
    statics: Vec<(String, Vec<u8>)>,
}

impl Renderer {
    pub fn new(source: SiteSource) -> Result<Self, RenderError> {
        let mut tera = tera::Tera::new();
        tera.add_raw_templates(source.templates.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| RenderError(format!("site templates do not parse: {e:#}")))?;
        Ok(Self { tera, config: source.config, statics: source.statics })
    }

    pub fn embedded() -> Self {
        Self::new(SiteSource::embedded()).expect("the embedded site templates parse")
    }

    pub fn builder(&self) -> Builder<'_> {
        Builder::new(&self.config)
    }

    fn template(&self, name: &str, path: String, ctx: &impl Serialize) -> Result<SiteObject, RenderError> {
        let ctx = tera::Context::from_serialize(ctx).map_err(|e| RenderError(format!("{path}: {e:#}")))?;
        let text =
            self.tera.render(name, &ctx).map_err(|e| RenderError(format!("rendering {path} ({name}): {e:#}")))?;
        Ok(SiteObject::page(path, text))
    }

    fn json(&self, path: String, value: &impl Serialize) -> Result<SiteObject, RenderError> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| RenderError(format!("{path}: {e}")))?;
        bytes.push(b'\n');
        Ok(SiteObject::page(path, bytes))
    }

    pub fn statics(&self) -> Vec<SiteObject> {
        self.statics.iter().map(|(name, bytes)| SiteObject::page(paths::static_asset(name), bytes.clone())).collect()
    }

    /// The directory page and the search index.
    pub fn directory(&self, foundation: &Foundation) -> Result<Vec<SiteObject>, RenderError> {
        let b = self.builder();
        Ok(vec![
            self.template("directory.html", paths::DIRECTORY.into(), &context::directory(&b, foundation))?,
            self.json(paths::SEARCH_INDEX.into(), &context::search_index(&b, foundation))?,
        ])
    }

    /// The page served for any unknown path.
    pub fn not_found_page(&self) -> Result<SiteObject, RenderError> {
        let b = self.builder();
        let ctx = context::DirectoryPage { site: b.info.clone(), crumbs: Vec::new(), projects: Vec::new() };
        self.template("404.html", paths::NOT_FOUND.into(), &ctx)
    }

    pub fn site_feed(&self, foundation: &Foundation) -> Result<SiteObject, RenderError> {
        self.template("feed.xml", paths::SITE_FEED.into(), &context::site_feed(&self.builder(), foundation))
    }

    pub fn project(&self, data: &ProjectData) -> Result<SiteObject, RenderError> {
        let path = paths::project_page(&data.project.name);
        self.template("project.html", path, &context::project_page(&self.builder(), data))
    }

    pub fn keys(&self, data: &ProjectData, keys_file: String) -> SiteObject {
        SiteObject::page(paths::keys(&data.project.name), keys_file)
    }

    /// A release's page, its `files.json` and its `SHA512SUMS`.
    pub fn release(&self, data: &ProjectData, release: &Release) -> Result<Vec<SiteObject>, RenderError> {
        let b = self.builder();
        let page = context::release_page(&b, data, release);
        let id = &release.id;
        Ok(vec![
            self.template("release.html", paths::release_page(id), &page)?,
            self.json(paths::release_files_json(id), &context::files_json(&b, release, &page))?,
            SiteObject::page(paths::release_sha512sums(id), context::sha512sums(&page)),
        ])
    }

    /// History pages: the index (newest events) and the numbered pages `pages` (1 = oldest).
    pub fn history(
        &self,
        data: &ProjectData,
        pages: impl IntoIterator<Item = usize>,
    ) -> Result<Vec<SiteObject>, RenderError> {
        let b = self.builder();
        let name = &data.project.name;
        let count = context::history_page_count(data.events.len(), self.config.extra.history_page_size);
        let mut out =
            vec![self.template("history.html", paths::history_index(name), &context::history_page(&b, data, count))?];
        for n in pages.into_iter().filter(|n| (1..=count).contains(n)) {
            out.push(self.template(
                "history.html",
                paths::history_page(name, n),
                &context::history_page(&b, data, n),
            )?);
        }
        Ok(out)
    }

    pub fn history_page_count(&self, data: &ProjectData) -> usize {
        context::history_page_count(data.events.len(), self.config.extra.history_page_size)
    }

    /// releases.json, latest.json, and the CLE and endoflife.date documents of each product line.
    pub fn project_json(&self, data: &ProjectData) -> Result<Vec<SiteObject>, RenderError> {
        let name = &data.project.name;
        let mut out = vec![
            self.json(paths::releases_json(name), &context::releases_json(data))?,
            self.json(paths::latest_json(name), &context::latest_json(&self.builder(), data))?,
        ];
        for line in context::json_lines(data) {
            out.push(self.json(paths::cle_json(name, line.as_ref()), &context::cle_json(data, line.as_ref()))?);
            out.push(self.json(
                paths::endoflife_json(name, line.as_ref()),
                &context::endoflife_json(&self.builder(), data, line.as_ref()),
            )?);
            out.push(self.json(
                paths::endoflife_v0_json(name, line.as_ref()),
                &context::endoflife_v0_json(data, line.as_ref()),
            )?);
        }
        Ok(out)
    }

    pub fn project_feed(&self, data: &ProjectData) -> Result<SiteObject, RenderError> {
        let path = paths::project_feed(&data.project.name);
        self.template("feed.xml", path, &context::project_feed(&self.builder(), data))
    }
}
