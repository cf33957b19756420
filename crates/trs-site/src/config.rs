//! The site's sources: `site/zola.toml`, `site/templates/**` and `site/static/**`, embedded
//! in the binary (a Lambda has no source tree), each file replaceable from a folder.

use serde::Deserialize;
use std::path::Path;

const EMBEDDED_CONFIG: &str = include_str!("../../../site/zola.toml");

/// Every embedded template, by its name under `templates/`.
const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../site/templates/base.html")),
    ("partials/header.html", include_str!("../../../site/templates/partials/header.html")),
    ("partials/footer.html", include_str!("../../../site/templates/partials/footer.html")),
    ("partials/release_rows.html", include_str!("../../../site/templates/partials/release_rows.html")),
    ("404.html", include_str!("../../../site/templates/404.html")),
    ("directory.html", include_str!("../../../site/templates/directory.html")),
    ("project.html", include_str!("../../../site/templates/project.html")),
    ("release.html", include_str!("../../../site/templates/release.html")),
    ("history.html", include_str!("../../../site/templates/history.html")),
    ("feed.xml", include_str!("../../../site/templates/feed.xml")),
];

/// Every embedded static file, by its name under `static/`.
const EMBEDDED_STATIC: &[(&str, &str)] = &[
    ("site.css", include_str!("../../../site/static/site.css")),
    ("search.js", include_str!("../../../site/static/search.js")),
];

/// `zola.toml`, as zola names its fields.
#[derive(Debug, Clone, Deserialize)]
pub struct SiteConfig {
    pub title: String,
    /// Prefix of every link trs makes; ends with `/`.
    pub base_url: String,
    /// Markdown shown on the directory page.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub extra: Extra,
    /// The config as zola's templates see it (`config`): `base_url` as written, `title`,
    /// `description`, `default_language`, and `extra` with exactly the keys the file has.
    #[serde(skip)]
    pub template_view: serde_json::Value,
    /// The file's text, written unchanged into a zola tree.
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Extra {
    #[serde(default = "default_history_page_size")]
    pub history_page_size: usize,
    #[serde(default = "default_feed_entries")]
    pub feed_entries: usize,
    /// Origin the verification commands download from (`https://downloads.example.org`);
    /// empty: paths only. `trs serve` sets its own URL.
    #[serde(default)]
    pub download_url: String,
}

/// zola's default language, the only one the site has (`lang` in every template).
pub const DEFAULT_LANGUAGE: &str = "en";

fn default_history_page_size() -> usize {
    50
}

fn default_feed_entries() -> usize {
    50
}

/// `text` with `extra.download_url` set to `url`: the key's line in `[extra]` replaced, or
/// added under the header, so the file keeps its comments. Should that not read back as `url`
/// (a layout the lines do not show, such as an inline `extra` table), the file is written
/// again from its parsed values, without comments.
fn with_download_url(text: &str, url: &str) -> String {
    let value = toml::Value::String(url.to_string());
    let line = format!("download_url = {value}");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let header = lines.iter().position(|l| l.trim() == "[extra]");
    let end = header.map(|h| {
        lines[h + 1..].iter().position(|l| l.trim_start().starts_with('[')).map_or(lines.len(), |i| h + 1 + i)
    });
    match (header, end) {
        (Some(h), Some(end)) => match (h + 1..end)
            .find(|&i| lines[i].split_once('=').is_some_and(|(key, _)| key.trim() == "download_url"))
        {
            Some(i) => lines[i] = line,
            None => lines.insert(h + 1, line),
        },
        _ => lines.extend(["".to_string(), "[extra]".to_string(), line]),
    }
    let edited = lines.join("\n") + "\n";
    let reads_back = |t: &str| {
        let table: Option<toml::Table> = toml::from_str(t).ok();
        table.and_then(|t| t.get("extra")?.get("download_url")?.as_str().map(str::to_string)).as_deref() == Some(url)
    };
    if reads_back(&edited) {
        return edited;
    }
    let mut table: toml::Table = toml::from_str(text).unwrap_or_default();
    let extra = table.entry("extra").or_insert_with(|| toml::Value::Table(toml::Table::new()));
    if let Some(extra) = extra.as_table_mut() {
        extra.insert("download_url".into(), value);
    }
    toml::to_string(&table).unwrap_or(edited)
}

impl Default for Extra {
    fn default() -> Self {
        Self {
            history_page_size: default_history_page_size(),
            feed_entries: default_feed_entries(),
            download_url: String::new(),
        }
    }
}

impl SiteConfig {
    /// Sets `extra.download_url` (`trs serve` sets its own URL when the config has none), in
    /// the typed config, in the templates' view of it and in the text (the `zola.toml` that
    /// `trs site zola` writes, so zola renders under the same origin).
    pub fn set_download_url(&mut self, url: &str) {
        self.extra.download_url = url.to_string();
        self.template_view["extra"]["download_url"] = url.into();
        self.text = with_download_url(&self.text, url);
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let mut config: SiteConfig = toml::from_str(text).map_err(|e| format!("zola.toml: {e}"))?;
        let raw: toml::Table = toml::from_str(text).map_err(|e| format!("zola.toml: {e}"))?;
        let field = |name: &str| raw.get(name).and_then(|v| serde_json::to_value(v).ok()).unwrap_or_default();
        config.template_view = serde_json::json!({
            "base_url": field("base_url"),
            "title": field("title"),
            "description": field("description"),
            "default_language": DEFAULT_LANGUAGE,
            "extra": raw.get("extra").and_then(|v| serde_json::to_value(v).ok()).unwrap_or_else(|| serde_json::json!({})),
        });
        config.text = text.to_string();
        if !config.base_url.ends_with('/') {
            config.base_url.push('/');
        }
        config.extra.history_page_size = config.extra.history_page_size.max(1);
        Ok(config)
    }
}

/// Everything a site is rendered from.
#[derive(Debug, Clone)]
pub struct SiteSource {
    pub config: SiteConfig,
    /// (name under `templates/`, text)
    pub templates: Vec<(String, String)>,
    /// (name under `static/`, bytes)
    pub statics: Vec<(String, Vec<u8>)>,
}

impl SiteSource {
    /// The sources built into the binary.
    pub fn embedded() -> Self {
        Self {
            config: SiteConfig::parse(EMBEDDED_CONFIG).expect("the embedded site/zola.toml parses"),
            templates: EMBEDDED_TEMPLATES.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect(),
            statics: EMBEDDED_STATIC.iter().map(|(n, t)| (n.to_string(), t.as_bytes().to_vec())).collect(),
        }
    }

    /// The embedded sources with every file found under `dir` laid on top. `dir` is either a
    /// site folder in zola's layout (`zola.toml`, or `config.toml` as zola before 0.22 named
    /// it; `templates/`, `static/`) or a templates folder on its own.
    pub fn with_overrides(mut self, dir: &Path) -> Result<Self, String> {
        if !dir.is_dir() {
            return Err(format!("template folder {} does not exist", dir.display()));
        }
        let config = [dir.join("zola.toml"), dir.join("config.toml")].into_iter().find(|c| c.is_file());
        // A site folder has a config, templates/ or static/; anything else is templates only.
        let site_folder = config.is_some() || dir.join("templates").is_dir() || dir.join("static").is_dir();
        let (templates_dir, static_dir) =
            if site_folder { (dir.join("templates"), Some(dir.join("static"))) } else { (dir.to_path_buf(), None) };
        if let Some(config) = config {
            let text = std::fs::read_to_string(&config).map_err(|e| format!("{}: {e}", config.display()))?;
            self.config = SiteConfig::parse(&text)?;
        }
        let templates = if templates_dir.is_dir() { files_under(&templates_dir)? } else { Vec::new() };
        for (name, bytes) in templates {
            // `mail/` holds the mail templates (trs-app's), not pages.
            if static_dir.is_none() && name.starts_with("mail/") {
                continue;
            }
            let text = String::from_utf8(bytes).map_err(|_| format!("template {name} is not UTF-8"))?;
            overlay(&mut self.templates, name, text);
        }
        if let Some(static_dir) = static_dir.filter(|d| d.is_dir()) {
            for (name, bytes) in files_under(&static_dir)? {
                overlay(&mut self.statics, name, bytes);
            }
        }
        Ok(self)
    }
}

fn overlay<T>(list: &mut Vec<(String, T)>, name: String, value: T) {
    match list.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = value,
        None => list.push((name, value)),
    }
}

/// Every file under `dir`, named by its `/`-separated path relative to `dir`.
fn files_under(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else if let Ok(rel) = path.strip_prefix(root) {
                let name = rel.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
                out.push((name, std::fs::read(&path)?));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out).map_err(|e| format!("reading {}: {e}", dir.display()))?;
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The written `zola.toml` names the origin wherever the key was (or was not), keeps the
    /// file's comments, and quotes the URL as TOML.
    #[test]
    fn the_download_url_is_written_into_the_config_text() {
        let read = |text: &str| SiteConfig::parse(text).unwrap().extra.download_url;
        let mut embedded = SiteSource::embedded().config;
        embedded.set_download_url("https://downloads.example.org");
        assert_eq!(read(&embedded.text), "https://downloads.example.org");
        assert!(embedded.text.contains("# Entries in the Atom feeds."), "{}", embedded.text);
        assert_eq!(embedded.text.matches("download_url").count(), 1, "{}", embedded.text);

        for (text, comment) in [
            ("title = \"T\"\nbase_url = \"/\"\n[extra]\n# ours\nfeed_entries = 5\n[markdown]\n", Some("# ours")),
            ("title = \"T\"\nbase_url = \"/\"\n", None),
            ("title = \"T\"\nbase_url = \"/\"\nextra = { feed_entries = 5 }\n", None),
        ] {
            let mut config = SiteConfig::parse(text).unwrap();
            config.set_download_url("https://dl.example.org/a \"b\"");
            assert_eq!(read(&config.text), "https://dl.example.org/a \"b\"", "{}", config.text);
            assert_eq!(SiteConfig::parse(&config.text).unwrap().title, "T");
            if let Some(comment) = comment {
                assert!(config.text.contains(comment), "{}", config.text);
                assert_eq!(SiteConfig::parse(&config.text).unwrap().extra.feed_entries, 5);
            }
        }
    }

    #[test]
    fn the_embedded_config_parses_and_files_can_be_overridden() {
        let embedded = SiteSource::embedded();
        assert_eq!(embedded.config.base_url, "/");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates/partials")).unwrap();
        std::fs::write(dir.path().join("templates/partials/footer.html"), "<footer>ours</footer>").unwrap();
        std::fs::write(dir.path().join("zola.toml"), "title = \"Ours\"\nbase_url = \"/dl\"\n").unwrap();
        let merged = SiteSource::embedded().with_overrides(dir.path()).unwrap();
        assert_eq!(merged.config.title, "Ours");
        assert_eq!(merged.config.base_url, "/dl/");
        // Templates see the config as zola shows it: as written, only the keys it has.
        assert_eq!(merged.config.template_view["base_url"], "/dl");
        assert_eq!(merged.config.template_view["extra"], serde_json::json!({}));
        let footer = merged.templates.iter().find(|(n, _)| n == "partials/footer.html").unwrap();
        assert_eq!(footer.1, "<footer>ours</footer>");
        assert_eq!(merged.templates.len(), embedded.templates.len());

        // A templates folder's `mail/` holds mail templates (trs serve's), never pages.
        let only = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(only.path().join("mail")).unwrap();
        std::fs::write(only.path().join("mail/vote-result.txt"), "Subject: {{ release_name }}").unwrap();
        std::fs::write(only.path().join("base.html"), "<html>ours</html>").unwrap();
        let merged = SiteSource::embedded().with_overrides(only.path()).unwrap();
        assert_eq!(merged.templates.len(), embedded.templates.len(), "{:?}", merged.templates);
        assert!(!merged.templates.iter().any(|(n, _)| n.starts_with("mail/")));

        // A folder with only a zola.toml is a site folder: its config is read, and it adds no
        // template (`zola.toml` is no template).
        let config_only = tempfile::tempdir().unwrap();
        std::fs::write(config_only.path().join("zola.toml"), "title = \"Cfg\"\nbase_url = \"/\"\n").unwrap();
        let merged = SiteSource::embedded().with_overrides(config_only.path()).unwrap();
        assert_eq!(merged.config.title, "Cfg");
        assert_eq!(merged.templates.len(), embedded.templates.len());
    }
}
