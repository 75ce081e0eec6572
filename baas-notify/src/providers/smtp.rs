//! The SMTP provider: lettre, pooled; STARTTLS, TLS or plain.

use std::time::Duration;

use async_trait::async_trait;
use baas_core::Error;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};

use crate::channel::{Channel, DeliveryError, EmailMessage, Message, Receipt};
use crate::error::NotifyError;
use crate::model::ChannelKind;

/// How the SMTP connection is protected.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain text (local relays and test sinks only).
    None,
    /// Plain, upgraded with STARTTLS, which is required.
    StartTls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// How to reach an SMTP server.
pub struct SmtpConfig {
    host: String,
    port: u16,
    security: SmtpSecurity,
    credentials: Option<(String, SecretString)>,
    from: String,
    pool_size: u32,
    timeout: Duration,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|c| &c.0))
            .field("from", &self.from)
            .field("pool_size", &self.pool_size)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl SmtpConfig {
    /// `host:port` with `security`, sending as `from` (`Name <addr>` or `addr`). A pool of
    /// 8 connections, 30 s per command.
    pub fn new(
        host: impl Into<String>,
        port: u16,
        security: SmtpSecurity,
        from: impl Into<String>,
    ) -> Self {
        SmtpConfig {
            host: host.into(),
            port,
            security,
            credentials: None,
            from: from.into(),
            pool_size: 8,
            timeout: Duration::from_secs(30),
        }
    }

    /// Parse `smtp://[user:pass@]host[:port]` (plain, port 25 by default;
    /// `?tls=starttls` requires STARTTLS) or `smtps://…` (TLS, port 465).
    ///
    /// ```
    /// use baas_notify::providers::{SmtpConfig, SmtpSecurity};
    /// let c = SmtpConfig::from_url("smtp://127.0.0.1:1025", "noreply@example.com")?;
    /// assert!(format!("{c:?}").contains("None"));
    /// let c = SmtpConfig::from_url("smtps://u:secret@mail.example.com", "noreply@example.com")?;
    /// assert!(!format!("{c:?}").contains("secret"));
    /// # Ok::<(), baas_notify::core::Error>(())
    /// ```
    pub fn from_url(url: &str, from: impl Into<String>) -> Result<Self, Error> {
        let invalid = |m: &str| {
            Error::from(NotifyError::Invalid {
                field: "smtp_url",
                message: m.to_owned(),
            })
        };
        let u = url::Url::parse(url).map_err(|_| invalid("not a valid URL"))?;
        let (mut security, default_port) = match u.scheme() {
            "smtp" => (SmtpSecurity::None, 25),
            "smtps" => (SmtpSecurity::Tls, 465),
            _ => return Err(invalid("the scheme must be smtp or smtps")),
        };
        if u.query_pairs().any(|(k, v)| k == "tls" && v == "starttls") {
            security = SmtpSecurity::StartTls;
        }
        let host = u.host_str().ok_or_else(|| invalid("no host"))?;
        let mut config = SmtpConfig::new(host, u.port().unwrap_or(default_port), security, from);
        if !u.username().is_empty() {
            let user = percent_decode(u.username());
            let pass = percent_decode(u.password().unwrap_or(""));
            config = config.credentials(user, pass);
        }
        Ok(config)
    }

    /// Authenticate as `user`.
    pub fn credentials(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some((user.into(), SecretString::from(password.into())));
        self
    }

    /// Keep at most `n` pooled connections.
    pub fn pool_size(mut self, n: u32) -> Self {
        self.pool_size = n.max(1);
        self
    }

    /// The time allowed per SMTP command.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Sends email through an SMTP server with a pool of connections.
///
/// Messages are built with lettre's typed builder: addresses are parsed as mailboxes
/// (a malformed one is a permanent failure) and header values are encoded by lettre, and
/// CR/LF in a subject are replaced by spaces first, so no input can add a header. A 5xx
/// reply is permanent, a 4xx or a connection failure retryable.
#[derive(Clone)]
pub struct SmtpChannel {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for SmtpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpChannel")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpChannel {
    /// Build the pooled transport (connections open lazily).
    pub fn new(config: SmtpConfig) -> Result<Self, Error> {
        let from: Mailbox = config.from.parse().map_err(|_| {
            Error::from(NotifyError::Invalid {
                field: "from",
                message: "not an email address".into(),
            })
        })?;
        let tls = |host: &str| {
            TlsParameters::new(host.to_owned())
                .map_err(|e| Error::invalid("cannot set up TLS for SMTP").with_source(e))
        };
        let tls = match config.security {
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(tls(&config.host)?),
            SmtpSecurity::Tls => Tls::Wrapper(tls(&config.host)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host)
            .port(config.port)
            .tls(tls)
            .timeout(Some(config.timeout))
            .pool_config(PoolConfig::new().max_size(config.pool_size));
        if let Some((user, pass)) = config.credentials {
            builder = builder.credentials(Credentials::new(user, pass.expose_secret().to_owned()));
        }
        Ok(SmtpChannel {
            transport: builder.build(),
            from,
        })
    }

    fn build(&self, e: &EmailMessage) -> Result<lettre::Message, DeliveryError> {
        let to: Mailbox =
            e.to.parse()
                .map_err(|_| DeliveryError::permanent("the recipient is not an email address"))?;
        let subject = e.subject.replace(['\r', '\n'], " ");
        let builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject);
        let built = match &e.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(
                e.text.clone(),
                html.clone(),
            )),
            None => builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(e.text.clone()),
            ),
        };
        built.map_err(|_| DeliveryError::permanent("the email could not be built"))
    }
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &str {
        "smtp"
    }

    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    async fn send(&self, message: &Message) -> Result<Receipt, DeliveryError> {
        let Message::Email(e) = message else {
            return Err(DeliveryError::permanent(
                "the SMTP provider sends email only",
            ));
        };
        let email = self.build(e)?;
        match self.transport.send(email).await {
            Ok(response) => Ok(Receipt {
                status_code: Some(u16::from(response.code())),
                provider_id: response.first_line().map(str::to_owned),
            }),
            Err(err) => {
                let code = err.status().map(u16::from);
                let mut out = if err.is_permanent() {
                    DeliveryError::permanent("the SMTP server refused the message")
                } else if err.is_timeout() {
                    DeliveryError::timeout("the SMTP server timed out")
                } else if err.is_transient() {
                    DeliveryError::retryable("the SMTP server deferred the message")
                } else {
                    DeliveryError::retryable("cannot reach the SMTP server")
                };
                if let Some(code) = code {
                    out = out.with_status(code);
                }
                Err(out.with_source(err))
            }
        }
    }
}
