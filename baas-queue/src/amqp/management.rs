//! The management plugin's HTTP API: the figures AMQP itself does not give.
//!
//! The broker samples these every `collect_statistics_interval` (5 s by default), so
//! they lag; they are used only for what nothing else can tell — unacknowledged counts
//! across every connection, the head message's enqueue time, the list of queues.

use std::time::Duration;

use baas_core::Error;
use reqwest::{Client, StatusCode};
use serde::Deserialize;
use url::Url;

use super::error::AmqpError;

/// A client of one broker's management API (`Debug` omits the password).
#[derive(Clone)]
pub(crate) struct Management {
    client: Client,
    /// The base URL without credentials.
    base: Url,
    username: String,
    password: String,
    vhost: String,
}

impl std::fmt::Debug for Management {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Management")
            .field("base", &self.base.as_str())
            .field("username", &self.username)
            .field("vhost", &self.vhost)
            .finish_non_exhaustive()
    }
}

/// The part of `GET /api/queues/{vhost}/{name}` used here.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct QueueInfo {
    /// The queue's name.
    pub(crate) name: String,
    /// Delivered, unacknowledged messages on every channel (sampled).
    #[serde(default)]
    pub(crate) messages_unacknowledged: Option<u64>,
    /// The `timestamp` property of the message at the head (seconds), when it has one.
    #[serde(default)]
    pub(crate) head_message_timestamp: Option<u64>,
    /// The queue's arguments.
    #[serde(default)]
    pub(crate) arguments: serde_json::Map<String, serde_json::Value>,
}

impl Management {
    /// A client for `base` (`http://user:pass@host:15672`) and `vhost`. Credentials
    /// missing from the URL default to RabbitMQ's `guest`.
    pub(crate) fn new(base: &str, vhost: &str) -> Result<Self, Error> {
        let mut base = Url::parse(base)
            .map_err(|_| Error::invalid("the management URL is not a valid URL"))?;
        let username = match base.username() {
            "" => "guest".to_owned(),
            name => percent_decode(name),
        };
        let password = base
            .password()
            .map_or_else(|| "guest".to_owned(), percent_decode);
        let _ = base.set_username("");
        let _ = base.set_password(None);
        let client = Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| {
                Error::internal("cannot build the management HTTP client").with_source(error)
            })?;
        Ok(Self {
            client,
            base,
            username,
            password,
            vhost: vhost.to_owned(),
        })
    }

    fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("api");
            for segment in segments {
                path.push(segment);
            }
        }
        url
    }

    async fn get(&self, url: Url) -> Result<Option<reqwest::Response>, Error> {
        let response = self
            .client
            .get(url)
            .basic_auth(&self.username, Some(&self.password))
            .send()
            .await
            .map_err(AmqpError::Management)?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        response
            .error_for_status()
            .map(Some)
            .map_err(|error| AmqpError::Management(error).into())
    }

    /// One queue's figures; `None` when the queue does not exist.
    pub(crate) async fn queue(&self, name: &str) -> Result<Option<QueueInfo>, Error> {
        let url = self.url(&["queues", &self.vhost, name]);
        match self.get(url).await? {
            Some(response) => Ok(Some(response.json().await.map_err(AmqpError::Management)?)),
            None => Ok(None),
        }
    }

    /// Every queue of the vhost.
    pub(crate) async fn queues(&self) -> Result<Vec<QueueInfo>, Error> {
        let mut url = self.url(&["queues", &self.vhost]);
        url.query_pairs_mut()
            .append_pair("columns", "name,arguments");
        match self.get(url).await? {
            Some(response) => Ok(response.json().await.map_err(AmqpError::Management)?),
            None => Ok(Vec::new()),
        }
    }
}

fn percent_decode(raw: &str) -> String {
    // Userinfo in a URL is percent-encoded; decode the common cases without another
    // dependency.
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(byte) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_drop_credentials_and_encode_the_vhost() {
        let management = Management::new("http://user:p%40ss@host:15672", "/").unwrap();
        assert_eq!(management.username, "user");
        assert_eq!(management.password, "p@ss");
        assert!(!format!("{management:?}").contains("p@ss"));
        assert_eq!(
            management.url(&["queues", "/", "baas.q"]).as_str(),
            "http://host:15672/api/queues/%2F/baas.q"
        );
        let management = Management::new("http://host:15672/prefix/", "v").unwrap();
        assert_eq!(management.username, "guest");
        assert_eq!(
            management.url(&["queues", "v"]).as_str(),
            "http://host:15672/prefix/api/queues/v"
        );
    }
}
