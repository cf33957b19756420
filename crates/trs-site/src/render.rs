//! Contexts to stored objects: HTML pages through the Tera templates as zola renders them
//! ([`crate::zola::Document`]: autoescaped `.html` and `.xml`, zola's context), the Atom feeds
//! through `feed.xml`, JSON through serde, KEYS as the text trs-app renders. Headers are decided
//! by [`SiteObject::page`].
//!
//! Each method returns [`Output`]s: a page still to render, or a finished object. The
//! publisher renders the pages ([`Renderer::objects`]); `trs site zola` writes them as zola
//! content instead ([`crate::zola::write_tree`]).

use crate::config::{SiteConfig, SiteSource};
use crate::context::{self, Builder};
use crate::load::{Foundation, ProjectData};
use crate::paths;
use crate::zola::{self, Document, Kind};
use serde::Serialize;
use trs_core::{Release, ReleaseId};
use trs_storage::SiteObject;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RenderError(pub String);

/// What the site is made of: pages (zola sections and pages) and data objects.
#[derive(Debug, Clone)]
pub enum Output {
    Page(Document),
    Object(SiteObject),
}

/// The parsed templates and the config: built once, shared by every render (it is `Sync`).
pub struct Renderer {
    tera: tera::Tera,
    /// `feed.xml` alone, escaping as XML does (`&`, `<`, `>`, `"`, `'`): the feeds are trs's
    /// data, not zola pages, and Tera's HTML escaping would write every `/` of their URLs as
    /// `&#x2F;`.
    feeds: tera::Tera,
    pub config: SiteConfig,
    statics: Vec<(String, Vec<u8>)>,
    templates: Vec<(String, String)>,
}

impl Renderer {
    pub fn new(source: SiteSource) -> Result<Self, RenderError> {
        let mut tera = tera::Tera::default();
        tera.add_raw_templates(source.templates.iter().map(|(n, t)| (n.as_str(), t.as_str())))
            .map_err(|e| RenderError(format!("site templates do not parse: {}", trs_core::error_chain(&e))))?;
        let base_url = source.config.template_view["base_url"].as_str().unwrap_or("/").to_string();
        tera.register_function("get_url", zola::GetUrl { base_url });
        let mut feeds = tera::Tera::default();
        if let Some((name, text)) = source.templates.iter().find(|(n, _)| n == FEED_TEMPLATE) {
            feeds
                .add_raw_template(name, text)
                .map_err(|e| RenderError(format!("{name}: {}", trs_core::error_chain(&e))))?;
        }
        feeds.set_escape_fn(escape_xml);
        Ok(Self { tera, feeds, config: source.config, statics: source.statics, templates: source.templates })
    }

    pub fn embedded() -> Self {
        Self::new(SiteSource::embedded()).expect("the embedded site templates parse")
    }

    pub fn builder(&self) -> Builder<'_> {
        Builder::new(&self.config)
    }

    /// The templates, by their names under `templates/`.
    pub fn templates(&self) -> &[(String, String)] {
        &self.templates
    }

    /// The static files, by their names under `static/`.
    pub fn static_files(&self) -> &[(String, Vec<u8>)] {
        &self.statics
    }

    /// Renders the pages among `outputs`; objects pass through.
    pub fn objects(&self, outputs: Vec<Output>) -> Result<Vec<SiteObject>, RenderError> {
        outputs
            .into_iter()
            .map(|o| match o {
                Output::Page(doc) => self.render_page(&doc),
                Output::Object(object) => Ok(object),
            })
            .collect()
    }

    /// One page, with the context zola gives it.
    pub fn render_page(&self, doc: &Document) -> Result<SiteObject, RenderError> {
        let text = self.tera.render(doc.template, &doc.context(&self.config)).map_err(|e| {
            RenderError(format!("rendering {} ({}): {}", doc.path, doc.template, trs_core::error_chain(&e)))
        })?;
        Ok(SiteObject::page(doc.path.clone(), text))
    }

    fn page(kind: Kind, path: String, template: &'static str, title: String, ctx: &impl Serialize) -> Output {
        Output::Page(Document::new(kind, path, template, title, ctx))
    }

    /// An Atom feed: rendered by trs (zola's own feeds list pages, not releases) and placed
    /// beside its page as data.
    fn feed(&self, path: String, feed: &context::FeedPage) -> Result<SiteObject, RenderError> {
        let ctx = tera::Context::from_serialize(feed).map_err(|e| RenderError(format!("{path}: {e}")))?;
        let text = self
            .feeds
            .render(FEED_TEMPLATE, &ctx)
            .map_err(|e| RenderError(format!("rendering {path} ({FEED_TEMPLATE}): {}", trs_core::error_chain(&e))))?;
        Ok(SiteObject::page(path, text))
    }

    fn json(&self, path: String, value: &impl Serialize) -> Result<Output, RenderError> {
        let mut bytes = serde_json::to_vec_pretty(value).map_err(|e| RenderError(format!("{path}: {e}")))?;
        bytes.push(b'\n');
        Ok(Output::Object(SiteObject::page(path, bytes)))
    }

    pub fn statics(&self) -> Vec<SiteObject> {
        self.statics.iter().map(|(name, bytes)| SiteObject::page(paths::static_asset(name), bytes.clone())).collect()
    }

    /// The directory page (the root section) and the search index.
    pub fn directory(&self, foundation: &Foundation) -> Result<Vec<Output>, RenderError> {
        let b = self.builder();
        let title = self.config.title.clone();
        Ok(vec![
            Self::page(
                Kind::Section,
                paths::DIRECTORY.into(),
                "directory.html",
                title,
                &context::directory(&b, foundation),
            ),
            self.json(paths::SEARCH_INDEX.into(), &context::search_index(&b, foundation))?,
        ])
    }

    /// The page served for any unknown path: `404.html`, rendered as zola renders it (with
    /// `config` and `lang` only). zola writes it itself, so it is no content file.
    pub fn not_found_page(&self) -> Result<SiteObject, RenderError> {
        let text = self
            .tera
            .render("404.html", &zola::not_found_context(&self.config))
            .map_err(|e| RenderError(format!("rendering 404.html: {}", trs_core::error_chain(&e))))?;
        Ok(SiteObject::page(paths::NOT_FOUND.to_string(), text))
    }

    pub fn site_feed(&self, foundation: &Foundation) -> Result<SiteObject, RenderError> {
        self.feed(paths::SITE_FEED.into(), &context::site_feed(&self.builder(), foundation))
    }

    pub fn project(&self, data: &ProjectData) -> Output {
        let name = &data.project.name;
        let ctx = context::project_page(&self.builder(), data);
        Self::page(Kind::Section, paths::project_page(name), "project.html", name.to_string(), &ctx)
    }

    pub fn keys(&self, data: &ProjectData, keys_file: String) -> Output {
        Output::Object(SiteObject::page(paths::keys(&data.project.name), keys_file))
    }

    /// A release's page (a zola page bundle), its `files.json` and its `SHA512SUMS`.
    pub fn release(&self, data: &ProjectData, release: &Release) -> Result<Vec<Output>, RenderError> {
        let b = self.builder();
        let page = context::release_page(&b, data, release);
        let id = &release.id;
        Ok(vec![
            self.json(paths::release_files_json(id), &context::files_json(&b, release, &page))?,
            Output::Object(SiteObject::page(paths::release_sha512sums(id), context::sha512sums(&page))),
            Self::release_page_of(id, &page),
        ])
    }

    /// A release's page alone, for a change elsewhere in its line that its files do not show
    /// (the line's newest supported release).
    pub fn release_page_only(&self, data: &ProjectData, release: &Release) -> Output {
        Self::release_page_of(&release.id, &context::release_page(&self.builder(), data, release))
    }

    fn release_page_of(id: &ReleaseId, page: &context::ReleasePage) -> Output {
        Self::page(Kind::Page, paths::release_page(id), "release.html", context::release_title(id), page)
    }

    /// History pages: the index (newest events) and the numbered pages `pages` (1 = oldest),
    /// each a section (`history/_index.md`, `history/N/_index.md`).
    pub fn history(&self, data: &ProjectData, pages: impl IntoIterator<Item = usize>) -> Vec<Output> {
        let b = self.builder();
        let name = &data.project.name;
        let count = context::history_page_count(data.events.len(), self.config.extra.history_page_size);
        let doc = |path: String, n: usize| {
            let title = format!("History of {name} (page {n})");
            Self::page(Kind::Section, path, "history.html", title, &context::history_page(&b, data, n))
        };
        let mut out = vec![doc(paths::history_index(name), count)];
        for n in pages.into_iter().filter(|n| (1..=count).contains(n)) {
            out.push(doc(paths::history_page(name, n), n));
        }
        out
    }

    pub fn history_page_count(&self, data: &ProjectData) -> usize {
        context::history_page_count(data.events.len(), self.config.extra.history_page_size)
    }

    /// releases.json, latest.json, and the CLE and endoflife.date documents of each product line.
    pub fn project_json(&self, data: &ProjectData) -> Result<Vec<Output>, RenderError> {
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
        self.feed(paths::project_feed(&data.project.name), &context::project_feed(&self.builder(), data))
    }

    /// Every object of one project: pages, KEYS, feed, JSON views, history, releases.
    pub fn project_outputs(&self, data: &ProjectData, keys: String) -> Result<Vec<Output>, RenderError> {
        let mut out = vec![self.project(data), self.keys(data, keys), Output::Object(self.project_feed(data)?)];
        out.extend(self.project_json(data)?);
        out.extend(self.history(data, 1..=self.history_page_count(data)));
        for release in &data.releases {
            out.extend(self.release(data, release)?);
        }
        Ok(out)
    }
}

const FEED_TEMPLATE: &str = "feed.xml";

/// XML's escaping of text and attribute values.
fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
