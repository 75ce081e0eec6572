//! The server's configuration: every variable of API.md's table, read once at start-up.
//!
//! Each setting has the documented default, so `cargo run -p platform` needs no
//! configuration at all. A value that does not parse stops the start-up with an error
//! naming the variable — never a silent fallback to the default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use baas_core::rate_limit::TrustedProxies;

/// Where the embedded defaults keep their files.
pub const DATA_DIR: &str = "./data";

/// The webhook retry schedule of API.md: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
/// 14 h, 20 h, 24 h.
pub const DEFAULT_WEBHOOK_RETRY_SCHEDULE: &str = "0s,5s,5m,30m,2h,5h,10h,14h,20h,24h";

/// Which parts of the server this process runs (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The HTTP API only.
    Api,
    /// The queue workers only (deliveries, the outbox relay, sweepers).
    Worker,
    /// Both, the default.
    All,
}

impl Role {
    /// Parse `api`, `worker` or `all`.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        match value {
            "api" => Ok(Role::Api),
            "worker" => Ok(Role::Worker),
            "all" => Ok(Role::All),
            other => Err(ConfigError::new(
                "--role",
                format!("`{other}` is not one of api, worker, all"),
            )),
        }
    }

    /// Whether this process serves HTTP.
    pub fn serves_api(self) -> bool {
        matches!(self, Role::Api | Role::All)
    }

    /// Whether this process runs the workers.
    pub fn runs_workers(self) -> bool {
        matches!(self, Role::Worker | Role::All)
    }
}

/// A setting that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {message}")]
pub struct ConfigError {
    variable: String,
    message: String,
}

impl ConfigError {
    fn new(variable: impl Into<String>, message: impl Into<String>) -> Self {
        ConfigError {
            variable: variable.into(),
            message: message.into(),
        }
    }
}

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// `BAAS_BIND`.
    pub bind: SocketAddr,
    /// `BAAS_DATABASE_URL`.
    pub database_url: String,
    /// `BAAS_OBJECT_STORE_URL`.
    pub object_store_url: String,
    /// `BAAS_QUEUE_URL`; `None` = the database.
    pub queue_url: Option<String>,
    /// `BAAS_SMTP_URL`; `None` = mail to the log.
    pub smtp_url: Option<String>,
    /// `BAAS_SMTP_FROM` (an addition to API.md's table): the sender of every email,
    /// default `baas@localhost`.
    pub smtp_from: String,
    /// `BAAS_AMQP_MANAGEMENT_URL` (an addition): RabbitMQ's management API, for queue
    /// depth and age on `/metrics` and `/v1/admin/queues`; unset = those figures are null.
    pub amqp_management_url: Option<String>,
    /// `BAAS_AMQP_PREFIX` (an addition): the prefix of every RabbitMQ queue and exchange
    /// of this installation, default `baas`; installations sharing a broker (or a vhost)
    /// need different prefixes.
    pub amqp_prefix: Option<String>,
    /// `BAAS_MASTER_KEY` is read by [`baas_core::MasterKey::from_env_or_file`]; this is
    /// the file used when it is unset.
    pub master_key_file: PathBuf,
    /// `BAAS_OPERATOR_TENANT`; `None` = the first tenant created.
    pub operator_tenant: Option<String>,
    /// `BAAS_ISSUER`.
    pub issuer: String,
    /// `BAAS_AUDIENCE`.
    pub audience: String,
    /// `BAAS_ACCESS_TOKEN_TTL`.
    pub access_token_ttl: Duration,
    /// `BAAS_REFRESH_TOKEN_TTL`.
    pub refresh_token_ttl: Duration,
    /// `BAAS_MAX_JSON_BYTES`.
    pub max_json_bytes: usize,
    /// `BAAS_MAX_OBJECT_BYTES`.
    pub max_object_bytes: u64,
    /// `BAAS_TENANT_QUOTA_BYTES`.
    pub tenant_quota_bytes: u64,
    /// `BAAS_BLOB_CACHE_BYTES` (an addition, default 33554432 = 32 MiB, `0` = off):
    /// memory for the bytes of small files that were read
    /// ([`ObjectBlobStore::with_cache`](baas_store::blob::ObjectBlobStore::with_cache)).
    pub blob_cache_bytes: u64,
    /// `BAAS_RATE_LIMIT_RPS`.
    pub rate_limit_rps: u32,
    /// `BAAS_RATE_LIMIT_BURST`.
    pub rate_limit_burst: u32,
    /// `BAAS_TRUSTED_PROXIES`.
    pub trusted_proxies: TrustedProxies,
    /// `BAAS_WEBHOOK_ALLOW_PRIVATE`.
    pub webhook_allow_private: bool,
    /// `BAAS_WEBHOOK_RETRY_SCHEDULE`.
    pub webhook_retry_schedule: Vec<Duration>,
    /// The per-request timeout (also the in-flight lease of an idempotency key).
    pub request_timeout: Duration,
    /// `BAAS_SWEEP_INTERVAL` (an addition, seconds, default 600): how often the worker
    /// role runs the retention sweepers ([`crate::housekeeping`]).
    pub sweep_interval: Duration,
}

impl Config {
    /// Read the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Read settings through `lookup` (the environment in production, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let data = PathBuf::from(DATA_DIR);
        Ok(Config {
            bind: parse(&get, "BAAS_BIND", "127.0.0.1:8080")?,
            database_url: get("BAAS_DATABASE_URL")
                .unwrap_or_else(|| "sqlite://./data/baas.db?mode=rwc".to_owned()),
            object_store_url: get("BAAS_OBJECT_STORE_URL")
                .unwrap_or_else(|| "file://./data/objects".to_owned()),
            queue_url: get("BAAS_QUEUE_URL"),
            smtp_url: get("BAAS_SMTP_URL"),
            smtp_from: get("BAAS_SMTP_FROM").unwrap_or_else(|| "baas@localhost".to_owned()),
            amqp_management_url: get("BAAS_AMQP_MANAGEMENT_URL"),
            amqp_prefix: get("BAAS_AMQP_PREFIX"),
            master_key_file: data.join("master.key"),
            operator_tenant: get("BAAS_OPERATOR_TENANT"),
            issuer: get("BAAS_ISSUER").unwrap_or_else(|| "baas".to_owned()),
            audience: get("BAAS_AUDIENCE").unwrap_or_else(|| "baas".to_owned()),
            access_token_ttl: seconds(&get, "BAAS_ACCESS_TOKEN_TTL", 900)?,
            refresh_token_ttl: seconds(&get, "BAAS_REFRESH_TOKEN_TTL", 2_592_000)?,
            max_json_bytes: positive(&get, "BAAS_MAX_JSON_BYTES", 1_048_576)?,
            max_object_bytes: positive(&get, "BAAS_MAX_OBJECT_BYTES", 104_857_600)?,
            tenant_quota_bytes: positive(&get, "BAAS_TENANT_QUOTA_BYTES", 10_737_418_240)?,
            blob_cache_bytes: parse(&get, "BAAS_BLOB_CACHE_BYTES", "33554432")?,
            rate_limit_rps: parse(&get, "BAAS_RATE_LIMIT_RPS", "100")?,
            rate_limit_burst: parse(&get, "BAAS_RATE_LIMIT_BURST", "200")?,
            trusted_proxies: trusted_proxies(get("BAAS_TRUSTED_PROXIES"))?,
            webhook_allow_private: boolean(&get, "BAAS_WEBHOOK_ALLOW_PRIVATE")?,
            webhook_retry_schedule: retry_schedule(
                get("BAAS_WEBHOOK_RETRY_SCHEDULE")
                    .as_deref()
                    .unwrap_or(DEFAULT_WEBHOOK_RETRY_SCHEDULE),
            )?,
            request_timeout: Duration::from_secs(15),
            sweep_interval: seconds(&get, "BAAS_SWEEP_INTERVAL", 600)?,
        })
    }
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: &str,
) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    let raw = get(name).unwrap_or_else(|| default.to_owned());
    raw.trim()
        .parse()
        .map_err(|e| ConfigError::new(name, format!("`{raw}` does not parse: {e}")))
}

fn positive<T>(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: T,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd + Default + Copy + std::fmt::Display,
    T::Err: std::fmt::Display,
{
    let value: T = parse(get, name, &default.to_string())?;
    if value <= T::default() {
        return Err(ConfigError::new(name, "must be greater than zero"));
    }
    Ok(value)
}

fn seconds(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
    default: u64,
) -> Result<Duration, ConfigError> {
    positive(get, name, default).map(Duration::from_secs)
}

fn boolean(get: &impl Fn(&str) -> Option<String>, name: &str) -> Result<bool, ConfigError> {
    match get(name).as_deref().map(str::trim) {
        None => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some("false" | "0" | "no") => Ok(false),
        Some(other) => Err(ConfigError::new(
            name,
            format!("`{other}` is not true or false"),
        )),
    }
}

fn trusted_proxies(raw: Option<String>) -> Result<TrustedProxies, ConfigError> {
    match raw {
        None => Ok(TrustedProxies::none()),
        Some(raw) => TrustedProxies::parse(raw.split(',').filter(|s| !s.trim().is_empty()))
            .map_err(|e| ConfigError::new("BAAS_TRUSTED_PROXIES", e.to_string())),
    }
}

/// Parse a comma-separated list of durations (`0s,5s,5m,…`).
pub fn retry_schedule(raw: &str) -> Result<Vec<Duration>, ConfigError> {
    let name = "BAAS_WEBHOOK_RETRY_SCHEDULE";
    let schedule = raw
        .split(',')
        .map(|item| {
            let item = item.trim();
            humantime::parse_duration(item)
                .map_err(|e| ConfigError::new(name, format!("`{item}`: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if schedule.is_empty() {
        return Err(ConfigError::new(name, "needs at least one attempt"));
    }
    Ok(schedule)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_api_table() {
        let c = config(&[]).unwrap();
        assert_eq!(c.bind, "127.0.0.1:8080".parse::<SocketAddr>().unwrap());
        assert_eq!(c.database_url, "sqlite://./data/baas.db?mode=rwc");
        assert_eq!(c.object_store_url, "file://./data/objects");
        assert!(c.queue_url.is_none() && c.smtp_url.is_none());
        assert_eq!((c.issuer.as_str(), c.audience.as_str()), ("baas", "baas"));
        assert_eq!(c.access_token_ttl, Duration::from_secs(900));
        assert_eq!(c.refresh_token_ttl, Duration::from_secs(2_592_000));
        assert_eq!(c.max_json_bytes, 1_048_576);
        assert_eq!(c.max_object_bytes, 104_857_600);
        assert_eq!(c.tenant_quota_bytes, 10_737_418_240);
        assert_eq!((c.rate_limit_rps, c.rate_limit_burst), (100, 200));
        assert!(!c.webhook_allow_private);
        assert_eq!(c.webhook_retry_schedule.len(), 10);
        assert_eq!(c.webhook_retry_schedule[2], Duration::from_secs(300));
        assert_eq!(c.webhook_retry_schedule[9], Duration::from_secs(86_400));
        assert_eq!(c.sweep_interval, Duration::from_secs(600));
        assert_eq!(c.blob_cache_bytes, 32 << 20);
    }

    #[test]
    fn every_setting_is_read() {
        let c = config(&[
            ("BAAS_BIND", "0.0.0.0:9000"),
            ("BAAS_QUEUE_URL", "amqp://127.0.0.1:5672"),
            ("BAAS_RATE_LIMIT_RPS", "5"),
            ("BAAS_WEBHOOK_ALLOW_PRIVATE", "true"),
            ("BAAS_WEBHOOK_RETRY_SCHEDULE", "0s, 1s,2s"),
            ("BAAS_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.1"),
            ("BAAS_SWEEP_INTERVAL", "30"),
            ("BAAS_BLOB_CACHE_BYTES", "0"),
        ])
        .unwrap();
        assert_eq!(c.blob_cache_bytes, 0, "0 turns the cache off");
        assert_eq!(c.sweep_interval, Duration::from_secs(30));
        assert_eq!(c.bind.port(), 9000);
        assert_eq!(c.queue_url.as_deref(), Some("amqp://127.0.0.1:5672"));
        assert_eq!(c.rate_limit_rps, 5);
        assert!(c.webhook_allow_private);
        assert_eq!(
            c.webhook_retry_schedule,
            [0, 1, 2].map(Duration::from_secs).to_vec()
        );
        assert!(c.trusted_proxies.is_trusted("10.1.2.3".parse().unwrap()));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (var, value) in [
            ("BAAS_BIND", "nowhere"),
            ("BAAS_MAX_JSON_BYTES", "0"),
            ("BAAS_ACCESS_TOKEN_TTL", "-1"),
            ("BAAS_WEBHOOK_ALLOW_PRIVATE", "maybe"),
            ("BAAS_WEBHOOK_RETRY_SCHEDULE", "5s,soon"),
            ("BAAS_TRUSTED_PROXIES", "not-a-net"),
            ("BAAS_BLOB_CACHE_BYTES", "-5"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn roles_parse() {
        assert_eq!(Role::parse("worker").unwrap(), Role::Worker);
        assert!(Role::parse("both").is_err());
        assert!(Role::All.serves_api() && Role::All.runs_workers());
        assert!(!Role::Api.runs_workers() && !Role::Worker.serves_api());
    }
}
