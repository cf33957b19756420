//! The site as a zola site: each HTML page is a zola section or page, a content file whose
//! front matter carries the page's typed context (`extra`), rendered by a template that reads
//! zola's context (`config`, `section` or `page`, `current_path`, `current_url`, `lang`).
//!
//! This module owns that mapping for both sides: [`Document::context`] is what trs's
//! in-process renderer hands the templates, [`Document::content_file`] and
//! [`Document::markdown`] what `trs site zola` writes for `zola build`, so the two render the
//! same templates with the same values. Objects that are data rather than pages (JSON views,
//! feeds, KEYS, `SHA512SUMS`) are rendered by trs and written under `static/` at their site
//! paths; zola copies that folder verbatim to the same paths. (Not beside the content files as
//! page-bundle assets: zola skips an asset without an extension, such as `KEYS`, as an
//! editor's temp file.)
//!
//! The in-process context is a subset of zola's: `page`/`section` have `title`, `path`,
//! `permalink` and `extra` (not zola's `content`, `pages`, `date`, …), `config` has
//! `base_url`, `title`, `description`, `default_language` and `extra`; the functions are
//! `get_url` (plain paths, as zola makes them) only.

use crate::config::{DEFAULT_LANGUAGE, SiteConfig};
use crate::load::{self, Details};
use crate::publish::SiteBuildError;
use crate::render::{Output, RenderError, Renderer};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use trs_app::App;

/// A zola section (`DIR/_index.md`, its folder's page) or a page (`DIR/index.md`, a page
/// bundle whose folder holds its assets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Section,
    Page,
}

impl Kind {
    /// The variable zola's templates read it by.
    fn variable(self) -> &'static str {
        match self {
            Kind::Section => "section",
            Kind::Page => "page",
        }
    }
}

/// One HTML page of the site as zola content.
#[derive(Debug, Clone)]
pub struct Document {
    pub kind: Kind,
    /// Where the page is written: `projects/foo/index.html` (always a folder's `index.html`,
    /// as zola writes pages and sections).
    pub path: String,
    pub template: &'static str,
    pub title: String,
    /// The page's context, as front matter can carry it (no nulls: TOML has none).
    pub extra: serde_json::Value,
}

impl Document {
    pub fn new(kind: Kind, path: String, template: &'static str, title: String, extra: &impl Serialize) -> Self {
        debug_assert!(path == "index.html" || path.ends_with("/index.html"), "{path}");
        let mut extra = serde_json::to_value(extra).unwrap_or_default();
        drop_nulls(&mut extra);
        Self { kind, path, template, title, extra }
    }

    /// The folder the page is at, as zola's `path`: `/projects/foo/`.
    pub fn url_path(&self) -> String {
        format!("/{}", self.path.strip_suffix("index.html").unwrap_or(&self.path))
    }

    /// Its file under `content/`: `projects/foo/_index.md` for a section,
    /// `projects/foo/releases/1.0/index.md` for a page.
    pub fn content_file(&self) -> String {
        let folder = self.path.strip_suffix("index.html").unwrap_or(&self.path);
        match self.kind {
            Kind::Section => format!("{folder}_index.md"),
            Kind::Page => format!("{folder}index.md"),
        }
    }

    /// The content file: TOML front matter and no body. A page names its `path` (zola would
    /// otherwise slugify its folder's name: `1.0.0` → `1-0-0`).
    pub fn markdown(&self) -> Result<String, String> {
        #[derive(Serialize)]
        struct FrontMatter<'a> {
            title: &'a str,
            template: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            path: Option<String>,
            extra: &'a serde_json::Value,
        }
        let front = FrontMatter {
            title: &self.title,
            template: self.template,
            path: (self.kind == Kind::Page).then(|| self.url_path()),
            extra: &self.extra,
        };
        let toml = toml::to_string(&front).map_err(|e| format!("front matter of {}: {e}", self.path))?;
        Ok(format!("+++\n{toml}+++\n"))
    }

    /// The template context zola gives this page (the subset trs renders with).
    pub fn context(&self, config: &SiteConfig) -> tera::Context {
        let path = self.url_path();
        let permalink = make_permalink(config.template_view["base_url"].as_str().unwrap_or("/"), &path);
        let mut ctx = tera::Context::new();
        ctx.insert("config", &config.template_view);
        ctx.insert("current_path", &path);
        ctx.insert("current_url", &permalink);
        ctx.insert("lang", DEFAULT_LANGUAGE);
        /// zola's `page`/`section`, the fields trs knows (borrowed: the context is serialized
        /// once, by `insert`).
        #[derive(Serialize)]
        struct Entry<'a> {
            title: &'a str,
            path: &'a str,
            permalink: &'a str,
            extra: &'a serde_json::Value,
        }
        let entry = Entry { title: &self.title, path: &path, permalink: &permalink, extra: &self.extra };
        ctx.insert(self.kind.variable(), &entry);
        ctx
    }
}

/// The context zola renders `404.html` with: `config` and `lang` only.
pub fn not_found_context(config: &SiteConfig) -> tera::Context {
    let mut ctx = tera::Context::new();
    ctx.insert("config", &config.template_view);
    ctx.insert("lang", DEFAULT_LANGUAGE);
    ctx
}

/// Sections that only hold others (`projects/`, `projects/P/releases/`, a product's folder):
/// `render = false`, so zola writes no page for them, as trs writes none.
pub fn hidden_section() -> String {
    "+++\nrender = false\n+++\n".to_string()
}

/// Removes nulls (`None`) from objects, as a TOML front matter cannot hold them: the
/// in-process context then has exactly the keys zola reads from the front matter.
fn drop_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

/// zola's `Config::make_permalink` (components/config): `base_url` joined with `path`, with a
/// trailing slash unless the path is empty, ends with one or holds a `#`.
pub fn make_permalink(base_url: &str, path: &str) -> String {
    let trailing = if path.ends_with('/') || path.is_empty() || path.contains('#') { "" } else { "/" };
    if base_url.ends_with('/') && path == "/" {
        base_url.to_string()
    } else if path == "/" {
        format!("{base_url}/")
    } else if base_url.ends_with('/') && path.starts_with('/') {
        format!("{base_url}{}{trailing}", &path[1..])
    } else if base_url.ends_with('/') || path.starts_with('/') {
        format!("{base_url}{path}{trailing}")
    } else {
        format!("{base_url}/{path}{trailing}")
    }
}

/// zola's `get_url(path, trailing_slash)` for plain paths (not `@/` links, not `cachebust`:
/// those need zola's content index and output folder).
pub struct GetUrl {
    pub base_url: String,
}

impl tera::Function for GetUrl {
    fn call(&self, args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
        let path = args
            .get("path")
            .and_then(|v| v.as_str())
            .ok_or_else(|| tera::Error::msg("`get_url` requires a `path` argument with a string value"))?;
        if path.starts_with("@/") || args.get("cachebust").and_then(|v| v.as_bool()) == Some(true) {
            return Err(tera::Error::msg(format!(
                "`get_url`: trs renders plain paths only, not `@/` links or `cachebust` ({path})"
            )));
        }
        let trailing_slash = args.get("trailing_slash").and_then(|v| v.as_bool()).unwrap_or(false);
        let mut permalink = make_permalink(&self.base_url, path);
        if !trailing_slash && permalink.ends_with('/') {
            permalink.pop();
        }
        Ok(tera::Value::String(permalink))
    }

    /// As zola's: the URL is not escaped again (`/` stays `/`, not `&#x2F;`).
    fn is_safe(&self) -> bool {
        true
    }
}

/// What `trs site zola` wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TreeReport {
    /// Content files (`_index.md`, `index.md`): sections and pages.
    pub content_files: usize,
    /// Data objects (JSON, feeds, KEYS, `SHA512SUMS`), written under `static/` at their paths.
    pub assets: usize,
    pub templates: usize,
    pub statics: usize,
}

/// Writes the whole site as a zola site into `dir` (which must not exist or be empty):
/// `zola.toml`, `templates/`, `static/`, and `content/` with a section or page per HTML page of
/// [`crate::Site::full_build`] and its data objects beside it. `zola build` in `dir` then
/// writes the same objects as the full build (docs/site.md says which bytes may differ).
pub async fn write_tree(app: &App, r: &Renderer, dir: &Path) -> Result<TreeReport, SiteBuildError> {
    if dir.exists() && std::fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(RenderError(format!("{} exists and is not an empty folder", dir.display())).into());
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut report = TreeReport::default();
    let (templates, statics) = (r.templates(), r.static_files());
    files.insert("zola.toml".into(), r.config.text.clone().into_bytes());
    for (name, text) in templates {
        files.insert(format!("templates/{name}"), text.clone().into_bytes());
        report.templates += 1;
    }
    for (name, bytes) in statics {
        files.insert(format!("static/{name}"), bytes.clone());
        report.statics += 1;
    }
    let foundation = load::foundation(app).await?;
    let mut outputs = r.directory(&foundation)?;
    outputs.push(Output::Object(r.site_feed(&foundation)?));
    for (project, _) in &foundation.projects {
        let data = load::project(app, &project.name, &Details::All).await?;
        let keys = load::keys_file(app, &project.name).await?;
        outputs.extend(r.project_outputs(&data, keys)?);
    }
    for output in outputs {
        match output {
            Output::Page(doc) => {
                files.insert(
                    format!("content/{}", doc.content_file()),
                    doc.markdown().map_err(RenderError)?.into_bytes(),
                );
                report.content_files += 1;
            }
            // Data goes to static/, which zola copies verbatim to the site's root: zola would
            // drop a content asset without an extension (KEYS, SHA512SUMS) as an editor's temp
            // file (`utils::fs::is_temp_file`).
            Output::Object(object) => {
                let path = format!("static/{}", object.path);
                if files.insert(path.clone(), object.bytes.to_vec()).is_some() {
                    return Err(RenderError(format!("{path}: a static file and a data object share it")).into());
                }
                report.assets += 1;
            }
        }
    }
    // Folders that only hold others get a section that renders nothing, so every page and
    // asset has a section above it, as zola expects.
    let mut hidden = Vec::new();
    for path in files.keys().filter_map(|p| p.strip_prefix("content/")) {
        // Each ancestor folder of the file: `a/b/c.json` → `a/b`, `a`.
        let mut folder = path.rsplit_once('/').map(|(f, _)| f);
        while let Some(f) = folder {
            let (section, page) = (format!("content/{f}/_index.md"), format!("content/{f}/index.md"));
            if !files.contains_key(&section) && !files.contains_key(&page) {
                hidden.push(section);
            }
            folder = f.rsplit_once('/').map(|(up, _)| up);
        }
    }
    for section in hidden {
        report.content_files += usize::from(!files.contains_key(&section));
        files.insert(section, hidden_section().into_bytes());
    }
    for (path, bytes) in &files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| RenderError(format!("{}: {e}", parent.display())))?;
        }
        std::fs::write(&target, bytes).map_err(|e| RenderError(format!("{}: {e}", target.display())))?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permalinks_are_made_as_zola_makes_them() {
        // The cases of zola's own tests (components/config/src/config/mod.rs).
        assert_eq!(make_permalink("http://vincent.is/", "/"), "http://vincent.is/");
        assert_eq!(make_permalink("http://vincent.is", "/"), "http://vincent.is/");
        assert_eq!(make_permalink("http://vincent.is", "hello"), "http://vincent.is/hello/");
        assert_eq!(make_permalink("http://vincent.is/", "/hello/"), "http://vincent.is/hello/");
        assert_eq!(make_permalink("/", "/projects/foo/"), "/projects/foo/");
        assert_eq!(make_permalink("/dl", "site.css"), "/dl/site.css/");
    }

    #[test]
    fn front_matter_carries_the_context_without_nulls() {
        #[derive(Serialize)]
        struct Ctx {
            name: &'static str,
            gone: Option<String>,
            rows: Vec<Option<u32>>,
        }
        let doc = Document::new(
            Kind::Page,
            "projects/foo/releases/1.0.0/index.html".into(),
            "release.html",
            "foo 1.0.0".into(),
            &Ctx { name: "a \"quoted\" name", gone: None, rows: vec![Some(1)] },
        );
        assert_eq!(doc.content_file(), "projects/foo/releases/1.0.0/index.md");
        let md = doc.markdown().unwrap();
        assert!(md.starts_with("+++\n") && md.ends_with("+++\n"), "{md}");
        assert!(md.contains("path = \"/projects/foo/releases/1.0.0/\""), "{md}");
        assert!(!md.contains("gone"), "{md}");
        let back: toml::Table = toml::from_str(md.trim_end().trim_matches('+')).unwrap();
        assert_eq!(serde_json::to_value(&back["extra"]).unwrap(), doc.extra);
        let section = Document { kind: Kind::Section, path: "projects/foo/index.html".into(), ..doc };
        assert_eq!(section.content_file(), "projects/foo/_index.md");
        assert!(!section.markdown().unwrap().contains("path ="));
    }
}
