//! Templates with [minijinja]: per template and locale, a subject, a text body and an
//! optional HTML body.
//!
//! HTML bodies are autoescaped; a variable the data does not define is an error at render
//! time ([`UndefinedBehavior::Strict`]), never blank output. A locale falls back to its
//! language (`de-AT` → `de`), then to the default locale.
//!
//! ```
//! use baas_notify::template::{Templates, TemplateSource};
//! use serde_json::json;
//!
//! let mut templates = Templates::new("en");
//! templates.add("welcome", "en", TemplateSource::new("Welcome, {{ name }}", "Hi {{ name }}!")
//!     .html("<p>Hi {{ name }}!</p>"))?;
//! let out = templates.render("welcome", "en-GB", &json!({"name": "<Ann>"}))?;
//! assert_eq!(out.subject.as_deref(), Some("Welcome, <Ann>"));
//! assert_eq!(out.html.as_deref(), Some("<p>Hi &lt;Ann&gt;!</p>"));
//! assert!(templates.render("welcome", "en", &json!({})).is_err()); // `name` is missing
//! # Ok::<(), baas_notify::core::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use baas_core::Error;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::NotifyError;

/// The sources of one template in one locale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSource {
    /// The subject (email) or title (push); `None` for channels without one.
    pub subject: Option<String>,
    /// The plain-text body.
    pub text: String,
    /// The HTML body (email), autoescaped.
    pub html: Option<String>,
}

impl TemplateSource {
    /// A subject and a text body.
    pub fn new(subject: impl Into<String>, text: impl Into<String>) -> Self {
        TemplateSource {
            subject: Some(subject.into()),
            text: text.into(),
            html: None,
        }
    }

    /// Only a text body (SMS).
    pub fn text(text: impl Into<String>) -> Self {
        TemplateSource {
            subject: None,
            text: text.into(),
            html: None,
        }
    }

    /// Add an HTML body.
    pub fn html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }
}

/// A rendered template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Rendered {
    /// The subject, if the template has one (a single line: newlines are folded).
    pub subject: Option<String>,
    /// The text body.
    pub text: String,
    /// The HTML body, if the template has one.
    pub html: Option<String>,
}

/// A set of templates, each in one or more locales.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
    default_locale: String,
    /// template name → locales it has.
    locales: BTreeMap<String, BTreeSet<String>>,
    /// (name, locale) → which parts exist.
    parts: BTreeMap<(String, String), (bool, bool)>,
}

impl Templates {
    /// An empty set whose fallback locale is `default_locale`.
    pub fn new(default_locale: impl Into<String>) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        Templates {
            env,
            default_locale: default_locale.into(),
            locales: BTreeMap::new(),
            parts: BTreeMap::new(),
        }
    }

    /// Add (or replace) `name` in `locale`. Fails with `Invalid` on a syntax error,
    /// leaving the set unchanged.
    pub fn add(&mut self, name: &str, locale: &str, source: TemplateSource) -> Result<(), Error> {
        validate_part("template", name)?;
        validate_part("locale", locale)?;
        // Compile in a scratch environment first, so a bad template changes nothing.
        let mut scratch = Environment::new();
        let check = |what: &str, src: &str, scratch: &mut Environment<'_>| {
            scratch
                .add_template_owned(format!("{name}.{what}"), src.to_owned())
                .map_err(|e| template_error(name, &e))
        };
        if let Some(s) = &source.subject {
            check("subject", s, &mut scratch)?;
        }
        check("text", &source.text, &mut scratch)?;
        if let Some(h) = &source.html {
            check("html", h, &mut scratch)?;
        }
        let key = |part: &str| format!("{name}/{locale}/{part}");
        let parts = (source.subject.is_some(), source.html.is_some());
        if let Some(s) = source.subject {
            self.env
                .add_template_owned(key("subject.txt"), s)
                .map_err(|e| template_error(name, &e))?;
        }
        self.env
            .add_template_owned(key("text.txt"), source.text)
            .map_err(|e| template_error(name, &e))?;
        if let Some(h) = source.html {
            self.env
                .add_template_owned(key("body.html"), h)
                .map_err(|e| template_error(name, &e))?;
        }
        self.locales
            .entry(name.to_owned())
            .or_default()
            .insert(locale.to_owned());
        self.parts
            .insert((name.to_owned(), locale.to_owned()), parts);
        Ok(())
    }

    /// Whether a template of this name exists in any locale.
    pub fn contains(&self, name: &str) -> bool {
        self.locales.contains_key(name)
    }

    /// The locale used for `name` when `locale` is asked for: the locale itself, its
    /// language, the default locale, or else the first one the template has.
    pub fn resolve_locale(&self, name: &str, locale: &str) -> Result<String, Error> {
        let have = self
            .locales
            .get(name)
            .ok_or_else(|| NotifyError::UnknownTemplate(name.to_owned()))?;
        let lang = locale.split(['-', '_']).next().unwrap_or(locale);
        [locale, lang, self.default_locale.as_str()]
            .into_iter()
            .find(|l| have.contains(*l))
            .map(str::to_owned)
            .or_else(|| have.iter().next().cloned())
            .ok_or_else(|| NotifyError::UnknownTemplate(name.to_owned()).into())
    }

    /// Render `name` in `locale` with `data`. `Invalid` for an unknown template or a
    /// variable `data` does not define.
    pub fn render<D: Serialize>(
        &self,
        name: &str,
        locale: &str,
        data: &D,
    ) -> Result<Rendered, Error> {
        let locale = self.resolve_locale(name, locale)?;
        let (has_subject, has_html) = self
            .parts
            .get(&(name.to_owned(), locale.clone()))
            .copied()
            .unwrap_or_default();
        let ctx = minijinja::Value::from_serialize(data);
        let run = |part: &str| -> Result<String, Error> {
            let t = self
                .env
                .get_template(&format!("{name}/{locale}/{part}"))
                .map_err(|e| template_error(name, &e))?;
            t.render(&ctx).map_err(|e| template_error(name, &e))
        };
        let subject = if has_subject {
            // A subject is one line: a newline could never start a header anyway (the
            // SMTP builder refuses it), but fold it so the result is predictable.
            Some(run("subject.txt")?.replace(['\r', '\n'], " "))
        } else {
            None
        };
        let text = run("text.txt")?;
        let html = if has_html {
            Some(run("body.html")?)
        } else {
            None
        };
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}

fn validate_part(field: &'static str, value: &str) -> Result<(), Error> {
    let ok = !value.is_empty()
        && value.len() <= 128
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(NotifyError::Invalid {
            field,
            message: "1–128 of [A-Za-z0-9_.-]".into(),
        }
        .into())
    }
}

fn template_error(name: &str, err: &minijinja::Error) -> Error {
    // The kind and the engine's short description, never the data.
    let detail = match err.detail() {
        Some(d) => format!("{}: {d}", err.kind()),
        None => err.kind().to_string(),
    };
    NotifyError::Template {
        name: name.to_owned(),
        detail,
    }
    .into()
}

#[cfg(test)]
mod tests {
    use baas_core::ErrorKind;
    use serde_json::json;

    use super::*;

    fn set() -> Templates {
        let mut t = Templates::new("en");
        t.add(
            "welcome",
            "en",
            TemplateSource::new("Welcome {{ name }}", "Hello {{ name }}").html("<b>{{ name }}</b>"),
        )
        .unwrap();
        t.add(
            "welcome",
            "de",
            TemplateSource::new("Willkommen {{ name }}", "Hallo {{ name }}"),
        )
        .unwrap();
        t
    }

    #[test]
    fn locale_falls_back_to_language_then_default() {
        let t = set();
        let d = json!({"name": "Jo"});
        assert_eq!(t.render("welcome", "de-AT", &d).unwrap().text, "Hallo Jo");
        assert_eq!(t.render("welcome", "fr", &d).unwrap().text, "Hello Jo");
        assert_eq!(t.render("welcome", "de", &d).unwrap().html, None);
    }

    #[test]
    fn html_is_escaped_text_is_not() {
        let t = set();
        let out = t
            .render("welcome", "en", &json!({"name": "<script>&"}))
            .unwrap();
        assert_eq!(out.text, "Hello <script>&");
        assert_eq!(out.html.unwrap(), "<b>&lt;script&gt;&amp;</b>");
    }

    #[test]
    fn missing_variables_and_templates_are_invalid() {
        let t = set();
        let e = t.render("welcome", "en", &json!({"nom": "x"})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        let e = t.render("nope", "en", &json!({})).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert!(e.message().contains("nope"));
    }

    #[test]
    fn syntax_errors_change_nothing() {
        let mut t = set();
        let e = t
            .add("welcome", "en", TemplateSource::new("{{ broken", "x"))
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Invalid);
        assert_eq!(
            t.render("welcome", "en", &json!({"name": "a"}))
                .unwrap()
                .text,
            "Hello a"
        );
        assert!(t.add("bad name", "en", TemplateSource::text("x")).is_err());
    }

    #[test]
    fn subjects_are_one_line() {
        let mut t = Templates::new("en");
        t.add("s", "en", TemplateSource::new("A {{ x }}", "b"))
            .unwrap();
        let out = t
            .render("s", "en", &json!({"x": "1\r\nBcc: evil@example.com"}))
            .unwrap();
        assert_eq!(out.subject.unwrap(), "A 1  Bcc: evil@example.com");
    }
}
