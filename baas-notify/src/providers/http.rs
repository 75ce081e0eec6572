//! The generic HTTP provider for SMS and push (Twilio-, FCM-style APIs).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use baas_core::Error;
use baas_core::clock::{self, SharedClock};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};

use super::webhook::transport_error;
use crate::channel::{Channel, DeliveryError, Message, Receipt, parse_retry_after};
use crate::error::NotifyError;
use crate::model::ChannelKind;

/// How to reach one HTTP provider.
///
/// The body template is minijinja, rendered with `id`, `to`, `title`, `text` and
/// `data`. With a JSON content type, values are written as JSON (`{"to": {{ to }}}`
/// yields `{"to": "+15550100"}`); for forms use the `urlencode` filter.
///
/// ```
/// use baas_notify::providers::HttpChannelConfig;
/// use baas_notify::model::ChannelKind;
///
/// let twilio_like = HttpChannelConfig::new("twilio", ChannelKind::Sms, "https://api.example.com/Messages")
///     .auth_header("Authorization", "Basic c2VjcmV0")
///     .form_body("To={{ to|urlencode }}&Body={{ text|urlencode }}");
/// let fcm_like = HttpChannelConfig::new("fcm", ChannelKind::Push, "https://push.example.com/send")
///     .json_body(r#"{"token": {{ to }}, "notification": {"title": {{ title }}, "body": {{ text }}}}"#);
/// # let _ = (twilio_like, fcm_like);
/// ```
pub struct HttpChannelConfig {
    name: String,
    kind: ChannelKind,
    url: String,
    auth: Option<(String, SecretString)>,
    body: String,
    content_type: String,
    timeout: Duration,
}

impl std::fmt::Debug for HttpChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpChannelConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("auth", &self.auth.as_ref().map(|(h, _)| (h, "[REDACTED]")))
            .field("content_type", &self.content_type)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl HttpChannelConfig {
    /// A provider `name` for `kind` POSTing to `url`; a JSON body of `id`, `to`,
    /// `title`, `text` and `data` until told otherwise; 15 s per attempt.
    pub fn new(name: impl Into<String>, kind: ChannelKind, url: impl Into<String>) -> Self {
        HttpChannelConfig {
            name: name.into(),
            kind,
            url: url.into(),
            auth: None,
            body: r#"{"id": {{ id }}, "to": {{ to }}, "title": {{ title }}, "text": {{ text }}, "data": {{ data }}}"#.into(),
            content_type: "application/json".into(),
            timeout: Duration::from_secs(15),
        }
    }

    /// Send this header (e.g. `Authorization`) with a secret value.
    pub fn auth_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.auth = Some((name.into(), SecretString::from(value.into())));
        self
    }

    /// A JSON body template (values JSON-escaped).
    pub fn json_body(mut self, template: impl Into<String>) -> Self {
        self.body = template.into();
        self.content_type = "application/json".into();
        self
    }

    /// A form body template (`application/x-www-form-urlencoded`; use `|urlencode`).
    pub fn form_body(mut self, template: impl Into<String>) -> Self {
        self.body = template.into();
        self.content_type = "application/x-www-form-urlencoded".into();
        self
    }

    /// The time allowed per attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// An SMS or push provider reached over HTTP. A 2xx is success; 408 and 429 and 5xx
/// are retryable (with `Retry-After`); any other 4xx is permanent. The provider URL is
/// operator configuration, so it is not put through the SSRF guard; redirects are not
/// followed.
#[derive(Clone)]
pub struct HttpChannel {
    name: Arc<str>,
    kind: ChannelKind,
    url: reqwest::Url,
    auth: Option<(HeaderName, Arc<SecretString>)>,
    content_type: HeaderValue,
    env: Arc<Environment<'static>>,
    client: reqwest::Client,
    clock: SharedClock,
}

impl std::fmt::Debug for HttpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpChannel")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl HttpChannel {
    /// Build the provider; `Invalid` for a bad URL, header or template.
    pub fn new(config: HttpChannelConfig) -> Result<Self, Error> {
        let invalid = |field, message: &str| {
            Error::from(NotifyError::Invalid {
                field,
                message: message.to_owned(),
            })
        };
        let url =
            reqwest::Url::parse(&config.url).map_err(|_| invalid("url", "not a valid URL"))?;
        let auth = match config.auth {
            Some((name, value)) => Some((
                HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| invalid("auth_header", "not a header name"))?,
                Arc::new(value),
            )),
            None => None,
        };
        let json = config.content_type.contains("json");
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(move |_| {
            if json {
                AutoEscape::Json
            } else {
                AutoEscape::None
            }
        });
        env.add_template_owned("body", config.body)
            .map_err(|_| invalid("body", "the body template does not compile"))?;
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::internal("cannot build the HTTP client").with_source(e))?;
        Ok(HttpChannel {
            name: config.name.into(),
            kind: config.kind,
            url,
            auth,
            content_type: HeaderValue::from_str(&config.content_type)
                .map_err(|_| invalid("content_type", "not a header value"))?,
            env: Arc::new(env),
            client,
            clock: clock::system(),
        })
    }

    /// Read `Retry-After` dates against `clock`.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }
}

#[async_trait]
impl Channel for HttpChannel {
    fn name(&self) -> &str {
        &self.name
    }

    fn kind(&self) -> ChannelKind {
        self.kind
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        let Message::Text(t) = message else {
            return Err(DeliveryError::permanent(
                "the HTTP provider sends SMS and push only",
            ));
        };
        let body = self
            .env
            .get_template("body")
            .and_then(|tpl| {
                tpl.render(minijinja::context! {
                    id => t.id, to => t.to, title => t.title, text => t.text, data => t.data,
                })
            })
            .map_err(|e| DeliveryError::permanent(format!("body template: {}", e.kind())))?;
        let mut req = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, self.content_type.clone())
            .body(body);
        if let Some((name, value)) = &self.auth {
            let mut v = HeaderValue::from_str(value.expose_secret())
                .map_err(|_| DeliveryError::permanent("the auth header value is not sendable"))?;
            v.set_sensitive(true);
            req = req.header(name.clone(), v);
        }
        let response = req.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            return Ok(Receipt {
                status_code: Some(status),
                provider_id: None,
            });
        }
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, self.clock.now()));
        Err(DeliveryError::from_status(status, false, retry_after))
    }
}
