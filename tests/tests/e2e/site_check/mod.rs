//! Checks over a built site folder (`trs site build --full --out DIR`), shared by the site
//! tests: every internal link resolves, every page has the basic accessibility structure, and
//! the stylesheet's text colours contrast enough with its backgrounds.
//!
//! Each check returns the problems it found as sentences naming the page and the element, so
//! a failing test says what to fix; an empty list means the site passed.

#![allow(dead_code)] // each test binary that includes this module uses part of it

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use scraper::{ElementRef, Html, Selector};

/// One HTML page of the build: its path under the site root (`projects/foo/index.html`) and
/// its parsed document.
pub struct Page {
    pub path: String,
    pub html: Html,
}

/// Every `.html` file under `root`, parsed, in path order.
pub fn pages(root: &Path) -> Vec<Page> {
    let mut files = Vec::new();
    walk(root, &mut files);
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|file| Page {
            path: site_path(root, &file),
            html: Html::parse_document(&std::fs::read_to_string(&file).expect("read page")),
        })
        .collect()
}

/// Every file under `root`, as site paths.
pub fn files(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    walk(root, &mut files);
    files.iter().map(|f| site_path(root, f)).collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read build folder").map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn site_path(root: &Path, file: &Path) -> String {
    file.strip_prefix(root).unwrap().components().map(|c| c.as_os_str().to_str().unwrap()).collect::<Vec<_>>().join("/")
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).unwrap_or_else(|e| panic!("selector {css}: {e:?}"))
}

/// An element as a short description for messages: `<a href="...">`.
fn describe(e: &ElementRef) -> String {
    let attrs: String = e.value().attrs().map(|(k, v)| format!(" {k}=\"{v}\"")).collect();
    format!("<{}{attrs}>", e.value().name())
}

// ---------------------------------------------------------------------------------------------
// Links
// ---------------------------------------------------------------------------------------------

/// An internal reference found on a page: where it points, as a site path without leading
/// `/` (a folder ends with `/`), and its fragment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub page: String,
    pub element: String,
    pub target: String,
    pub fragment: Option<String>,
}

/// Attributes that reference another resource.
const REFERENCES: [(&str, &str); 6] = [
    ("a[href]", "href"),
    ("link[href]", "href"),
    ("script[src]", "src"),
    ("img[src]", "src"),
    ("source[src]", "src"),
    ("form[action]", "action"),
];

/// Every internal reference on `page` (absolute URLs with a scheme, `//host` and `mailto:`
/// are external and left out).
pub fn internal_links(page: &Page) -> Vec<Link> {
    let mut links = Vec::new();
    for (css, attr) in REFERENCES {
        for e in page.html.select(&selector(css)) {
            let raw = e.value().attr(attr).unwrap_or_default().trim();
            if is_external(raw) {
                continue;
            }
            let (without_fragment, fragment) = match raw.split_once('#') {
                Some((url, f)) => (url, Some(f.to_string())),
                None => (raw, None),
            };
            let without_query = without_fragment.split('?').next().unwrap_or_default();
            let target = if without_query.is_empty() { page.path.clone() } else { resolve(&page.path, without_query) };
            links.push(Link { page: page.path.clone(), element: describe(&e), target, fragment });
        }
    }
    links
}

fn is_external(url: &str) -> bool {
    if url.starts_with("//") {
        return true;
    }
    // A scheme: letters, digits, + - . before the first `:`, and no `/` before it.
    match url.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && !scheme.contains('/')
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// `url` (absolute from the site root, or relative to the page) as a site path; `..` and `.`
/// resolved, percent-escapes decoded.
fn resolve(page: &str, url: &str) -> String {
    let base: Vec<&str> = match url.strip_prefix('/') {
        Some(_) => Vec::new(),
        None => {
            let mut dir: Vec<&str> = page.split('/').collect();
            dir.pop();
            dir
        }
    };
    let mut parts: Vec<String> = base.into_iter().map(str::to_string).collect();
    let segments: Vec<&str> = url.trim_start_matches('/').split('/').collect();
    let folder = url.ends_with('/') || segments.last().is_some_and(|s| *s == "." || *s == "..");
    for segment in segments {
        match segment {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(percent_decode(s)),
        }
    }
    let mut path = parts.join("/");
    if folder && !path.is_empty() {
        path.push('/');
    }
    path
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The file a site path is served from: a folder (`projects/foo/`, or the root `""`) by its
/// `index.html`.
pub fn served_file(target: &str) -> String {
    if target.is_empty() || target.ends_with('/') { format!("{target}index.html") } else { target.to_string() }
}

/// Whether `target` is a public release file coordinate (`current/…`, `archive/…`,
/// `candidate/…`): those are served from the release files, not from the site build.
pub fn is_release_coordinate(target: &str) -> bool {
    ["current/", "archive/", "candidate/"].iter().any(|p| target.starts_with(p))
}

/// Links to site objects that are not in the build, and fragments (`#files`) naming no
/// element of their page. Release file coordinates are returned separately, for the caller
/// to check against the server that serves them.
pub fn broken_links(root: &Path, pages: &[Page]) -> (Vec<String>, Vec<Link>) {
    let built = files(root);
    let ids: BTreeMap<&str, BTreeSet<String>> = pages.iter().map(|p| (p.path.as_str(), ids(&p.html))).collect();
    let mut problems = Vec::new();
    let mut coordinates = Vec::new();
    for page in pages {
        for link in internal_links(page) {
            if is_release_coordinate(&link.target) {
                coordinates.push(link);
                continue;
            }
            let file = served_file(&link.target);
            if !built.contains(&file) {
                problems
                    .push(format!("{}: {} points to /{}, which is not in the build", link.page, link.element, file));
                continue;
            }
            if let (Some(fragment), Some(ids)) = (&link.fragment, ids.get(file.as_str()))
                && !fragment.is_empty()
                && !ids.contains(fragment)
            {
                problems.push(format!(
                    "{}: {} points to #{fragment}, which /{file} has no element for",
                    link.page, link.element
                ));
            }
        }
    }
    (problems, coordinates)
}

fn ids(html: &Html) -> BTreeSet<String> {
    html.select(&selector("[id]")).filter_map(|e| e.value().attr("id")).map(str::to_string).collect()
}

// ---------------------------------------------------------------------------------------------
// Accessibility
// ---------------------------------------------------------------------------------------------

/// The basic structure every page needs, as problems: a language, a non-empty title, one
/// `<main>`, the header/footer/nav landmarks, one `<h1>` and no skipped heading level, alt
/// text on every image, a label for every form control, unique ids.
pub fn accessibility_problems(page: &Page) -> Vec<String> {
    let html = &page.html;
    let mut problems = Vec::new();
    let mut problem = |what: String| problems.push(format!("{}: {what}", page.path));
    let count = |css: &str| html.select(&selector(css)).count();

    let lang = html.root_element().value().attr("lang").unwrap_or_default();
    if lang.trim().is_empty() {
        problem("<html> has no lang".into());
    }
    let titles: Vec<String> = html.select(&selector("head > title")).map(|t| t.text().collect()).collect();
    if titles.len() != 1 || titles[0].trim().is_empty() {
        problem(format!("needs exactly one non-empty <title>, has {titles:?}"));
    }
    if count("main") != 1 {
        problem(format!("needs exactly one <main>, has {}", count("main")));
    }
    for landmark in ["header", "footer", "nav"] {
        if count(landmark) == 0 {
            problem(format!("has no <{landmark}> landmark"));
        }
    }

    let headings: Vec<(usize, String)> = html
        .select(&selector("h1, h2, h3, h4, h5, h6"))
        .map(|h| (h.value().name()[1..].parse().unwrap(), h.text().collect::<String>().trim().to_string()))
        .collect();
    let h1s = headings.iter().filter(|(level, _)| *level == 1).count();
    if h1s != 1 {
        problem(format!("needs exactly one <h1>, has {h1s}"));
    }
    let mut previous = 0;
    for (level, text) in &headings {
        if *level > previous + 1 {
            problem(format!("heading <h{level}> {text:?} skips a level (after <h{previous}>)"));
        }
        if text.is_empty() {
            problem(format!("heading <h{level}> is empty"));
        }
        previous = *level;
    }

    for img in html.select(&selector("img")) {
        if img.value().attr("alt").is_none() {
            problem(format!("{} has no alt", describe(&img)));
        }
    }

    let labelled: BTreeSet<String> =
        html.select(&selector("label[for]")).filter_map(|l| l.value().attr("for")).map(str::to_string).collect();
    for control in html.select(&selector("input, select, textarea")) {
        let kind = control.value().attr("type").unwrap_or("text").to_ascii_lowercase();
        if ["hidden", "submit", "button", "reset", "image"].contains(&kind.as_str()) {
            continue;
        }
        let by_for = control.value().attr("id").is_some_and(|id| labelled.contains(id));
        let wrapped = control.ancestors().filter_map(ElementRef::wrap).any(|a| a.value().name() == "label");
        let by_aria = ["aria-label", "aria-labelledby"]
            .iter()
            .any(|a| control.value().attr(a).is_some_and(|v| !v.trim().is_empty()));
        if !(by_for || wrapped || by_aria) {
            problem(format!("{} has no label", describe(&control)));
        }
    }

    let mut seen = BTreeSet::new();
    for e in html.select(&selector("[id]")) {
        let id = e.value().attr("id").unwrap_or_default();
        if !seen.insert(id.to_string()) {
            problem(format!("id {id:?} is used more than once"));
        }
    }
    problems
}

// ---------------------------------------------------------------------------------------------
// Colour contrast
// ---------------------------------------------------------------------------------------------

/// WCAG 2 AA for normal text.
pub const MIN_CONTRAST: f64 = 4.5;

/// One style rule: its selector text, the media condition it sits in (if any), and its
/// declarations (name lower-cased, value as written without `!important`).
#[derive(Debug, Clone)]
pub struct StyleRule {
    pub selector: String,
    pub media: Option<String>,
    pub declarations: Vec<(String, String)>,
}

/// The style rules of a stylesheet, `@media` blocks included (other at-rules are skipped).
pub fn style_rules(css: &str) -> Vec<StyleRule> {
    let mut input = cssparser::ParserInput::new(css);
    let mut parser = cssparser::Parser::new(&mut input);
    cssparser::StyleSheetParser::new(&mut parser, &mut css_rules::Rules).filter_map(Result::ok).flatten().collect()
}

mod css_rules {
    //! The few cssparser trait impls that turn a stylesheet into [`super::StyleRule`]s.

    use super::StyleRule;
    use cssparser::{
        AtRuleParser, CowRcStr, DeclarationParser, ParseError, Parser, ParserState, QualifiedRuleParser,
        RuleBodyItemParser, RuleBodyParser, StyleSheetParser,
    };

    /// The source text of what is left of `input`.
    fn rest<'i>(input: &mut Parser<'i, '_>) -> String {
        let start = input.position();
        while input.next().is_ok() {}
        input.slice_from(start).trim().to_string()
    }

    pub struct Rules;

    impl<'i> QualifiedRuleParser<'i> for Rules {
        type Prelude = String;
        type QualifiedRule = Vec<StyleRule>;
        type Error = ();

        fn parse_prelude<'t>(&mut self, input: &mut Parser<'i, 't>) -> Result<String, ParseError<'i, ()>> {
            Ok(rest(input))
        }

        fn parse_block<'t>(
            &mut self,
            selector: String,
            _start: &ParserState,
            input: &mut Parser<'i, 't>,
        ) -> Result<Vec<StyleRule>, ParseError<'i, ()>> {
            let declarations = RuleBodyParser::new(input, &mut Declarations).filter_map(Result::ok).collect();
            Ok(vec![StyleRule { selector, media: None, declarations }])
        }
    }

    impl<'i> AtRuleParser<'i> for Rules {
        type Prelude = String;
        type AtRule = Vec<StyleRule>;
        type Error = ();

        fn parse_prelude<'t>(
            &mut self,
            name: CowRcStr<'i>,
            input: &mut Parser<'i, 't>,
        ) -> Result<String, ParseError<'i, ()>> {
            Ok(format!("@{name} {}", rest(input)))
        }

        fn rule_without_block(&mut self, _prelude: String, _start: &ParserState) -> Result<Vec<StyleRule>, ()> {
            Ok(Vec::new())
        }

        fn parse_block<'t>(
            &mut self,
            prelude: String,
            _start: &ParserState,
            input: &mut Parser<'i, 't>,
        ) -> Result<Vec<StyleRule>, ParseError<'i, ()>> {
            if !prelude.starts_with("@media") {
                return Ok(Vec::new());
            }
            Ok(StyleSheetParser::new(input, &mut Rules)
                .filter_map(Result::ok)
                .flatten()
                .map(|rule| StyleRule { media: Some(prelude.clone()), ..rule })
                .collect())
        }
    }

    struct Declarations;

    impl<'i> DeclarationParser<'i> for Declarations {
        type Declaration = (String, String);
        type Error = ();

        fn parse_value<'t>(
            &mut self,
            name: CowRcStr<'i>,
            input: &mut Parser<'i, 't>,
            _start: &ParserState,
        ) -> Result<(String, String), ParseError<'i, ()>> {
            let value = rest(input);
            let value = value.strip_suffix("!important").unwrap_or(&value).trim().to_string();
            Ok((name.to_ascii_lowercase(), value))
        }
    }

    impl<'i> AtRuleParser<'i> for Declarations {
        type Prelude = ();
        type AtRule = (String, String);
        type Error = ();
    }

    impl<'i> QualifiedRuleParser<'i> for Declarations {
        type Prelude = ();
        type QualifiedRule = (String, String);
        type Error = ();
    }

    impl<'i> RuleBodyItemParser<'i, (String, String), ()> for Declarations {
        fn parse_declarations(&self) -> bool {
            true
        }
        fn parse_qualified(&self) -> bool {
            false
        }
    }
}

/// A colour as the WCAG formula needs it (sRGB, opaque).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f64, pub f64, pub f64);

impl Rgb {
    /// WCAG 2 relative luminance.
    pub fn luminance(self) -> f64 {
        let channel = |c: f64| if c <= 0.04045 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    fn over(self, alpha: f64, below: Rgb) -> Rgb {
        Rgb(
            self.0 * alpha + below.0 * (1.0 - alpha),
            self.1 * alpha + below.1 * (1.0 - alpha),
            self.2 * alpha + below.2 * (1.0 - alpha),
        )
    }
}

/// WCAG 2 contrast ratio, 1 to 21.
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.luminance(), b.luminance());
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

const NOT_A_COLOUR: [&str; 7] = ["inherit", "initial", "unset", "currentcolor", "transparent", "none", "revert"];

/// `value` with every `var(--name)` / `var(--name, fallback)` replaced by its definition.
fn substitute(value: &str, vars: &BTreeMap<String, String>) -> String {
    let mut value = value.to_string();
    for _ in 0..10 {
        let Some(start) = value.find("var(") else { break };
        let Some(len) = value[start..].find(')') else { break };
        let inner = &value[start + 4..start + len];
        let (name, fallback) = match inner.split_once(',') {
            Some((n, f)) => (n.trim(), Some(f.trim())),
            None => (inner.trim(), None),
        };
        let replacement = vars.get(name).map(String::as_str).or(fallback).unwrap_or("").to_string();
        value.replace_range(start..start + len + 1, &replacement);
    }
    value
}

/// The colour in a `color`, `background-color` or `background` value: the whole value, or
/// the first of its words that is a colour. `None` for keywords that are not colours.
fn colour_in(value: &str, page_background: Rgb) -> Option<Rgb> {
    let parse = |s: &str| -> Option<Rgb> {
        if NOT_A_COLOUR.contains(&s.to_ascii_lowercase().as_str()) {
            return None;
        }
        let c = csscolorparser::parse(s).ok()?;
        Some(Rgb(c.r as f64, c.g as f64, c.b as f64).over(c.a as f64, page_background))
    };
    parse(value.trim()).or_else(|| value.split_whitespace().find_map(parse))
}

/// Every text colour of the stylesheet against every background colour of it (text may sit on
/// any background: a link inside a warning box, muted text in a code block), each pair below
/// [`MIN_CONTRAST`] as a problem. Custom properties come from `:root` (and `html`); the page's
/// own colours from `body` (black on white where the sheet sets none). Returns the pairs
/// checked too, for the test's log.
pub fn contrast_problems(css: &str) -> (Vec<String>, Vec<(String, String, f64)>) {
    let rules = style_rules(css);
    let mut problems = Vec::new();
    if rules.iter().any(|r| r.media.as_deref().is_some_and(|m| m.contains("prefers-color-scheme"))) {
        problems.push("the stylesheet has a prefers-color-scheme block; extend this check to cover it".to_string());
    }
    let plain = || rules.iter().filter(|r| r.media.is_none());
    let vars: BTreeMap<String, String> = plain()
        .filter(|r| r.selector.split(',').any(|s| matches!(s.trim(), ":root" | "html")))
        .flat_map(|r| r.declarations.iter().filter(|(n, _)| n.starts_with("--")).cloned())
        .collect();
    let declared = |rule: &StyleRule, names: &[&str], background: Rgb| {
        rule.declarations
            .iter()
            .filter(|(n, _)| names.contains(&n.as_str()))
            .find_map(|(_, v)| colour_in(&substitute(v, &vars), background))
    };
    let white = Rgb(1.0, 1.0, 1.0);
    let body =
        plain().filter(|r| r.selector.split(',').any(|s| matches!(s.trim(), "body" | "html"))).collect::<Vec<_>>();
    let page_bg = body.iter().find_map(|r| declared(r, &["background-color", "background"], white)).unwrap_or(white);
    let page_fg = body.iter().find_map(|r| declared(r, &["color"], page_bg)).unwrap_or(Rgb(0.0, 0.0, 0.0));

    let mut foregrounds = vec![("body text".to_string(), page_fg)];
    let mut backgrounds = vec![("page background".to_string(), page_bg)];
    for rule in &rules {
        if let Some(fg) = declared(rule, &["color"], page_bg) {
            foregrounds.push((format!("color of {}", rule.selector), fg));
        }
        if let Some(bg) = declared(rule, &["background-color", "background"], page_bg) {
            backgrounds.push((format!("background of {}", rule.selector), bg));
        }
    }
    let mut pairs = Vec::new();
    for (fg_name, fg) in &foregrounds {
        for (bg_name, bg) in &backgrounds {
            let ratio = contrast(*fg, *bg);
            if ratio < MIN_CONTRAST {
                problems.push(format!("{fg_name} on {bg_name}: contrast {ratio:.2} < {MIN_CONTRAST}"));
            }
            pairs.push((fg_name.clone(), bg_name.clone(), ratio));
        }
    }
    (problems, pairs)
}

/// The stylesheets the pages link to, as site paths.
pub fn stylesheets(pages: &[Page]) -> BTreeSet<String> {
    pages
        .iter()
        .flat_map(|p| {
            p.html
                .select(&selector("link[rel~=stylesheet][href]"))
                .filter_map(|l| l.value().attr("href"))
                .filter(|href| !is_external(href))
                .map(|href| resolve(&p.path, href.split(['?', '#']).next().unwrap_or_default()))
                .collect::<Vec<_>>()
        })
        .collect()
}
