//! The SSRF guard for webhook targets (DESIGN.md rule 8).
//!
//! A target must be `http` or `https`; its host is resolved (each lookup bounded by a
//! short timeout) and refused when any address is private, loopback, link-local,
//! multicast, unspecified, broadcast, shared (CGNAT), documentation, or an IPv4-mapped
//! or -compatible IPv6 address — unless private targets are allowed
//! (`BAAS_WEBHOOK_ALLOW_PRIVATE=true`). The webhook provider connects only to the
//! addresses it checked ([`TargetPolicy::resolver`] is its DNS resolver), so a name
//! cannot resolve to a public address at check time and a private one at connect time.
//!
//! ```
//! use std::net::IpAddr;
//! use baas_notify::ssrf::is_refused;
//!
//! for ip in ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1", "0.0.0.0"] {
//!     assert!(is_refused(ip.parse::<IpAddr>().unwrap()), "{ip}");
//! }
//! assert!(!is_refused("93.184.216.34".parse().unwrap()));
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use baas_core::Error;
use url::{Host, Url};

use crate::error::NotifyError;

/// The environment variable that allows private targets.
pub const ALLOW_PRIVATE_ENV: &str = "BAAS_WEBHOOK_ALLOW_PRIVATE";

/// Whether a webhook may not be sent to `ip` (when private targets are not allowed).
pub fn is_refused(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240 // reserved
}

fn refused_v6(ip: Ipv6Addr) -> bool {
    let seg = ip.segments();
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible, deprecated): refused whatever
    // the IPv4 address, as the issue asks.
    let mapped_or_compatible =
        seg[..5].iter().all(|s| *s == 0) && (seg[5] == 0xffff || seg[5] == 0);
    ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || mapped_or_compatible
        || (seg[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (seg[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (seg[0] == 0x2001 && seg[1] == 0x0db8) // documentation
        || (seg[0] == 0x0064 && seg[1] == 0xff9b) // NAT64 (maps onto IPv4)
        || seg[0] == 0x2002 // 6to4 (maps onto IPv4)
}

/// Which webhook targets are allowed, and how long a DNS lookup may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetPolicy {
    allow_private: bool,
    dns_timeout: Duration,
}

impl Default for TargetPolicy {
    fn default() -> Self {
        TargetPolicy {
            allow_private: false,
            dns_timeout: Duration::from_secs(2),
        }
    }
}

impl TargetPolicy {
    /// Refuse private targets; 2 s per DNS lookup.
    pub fn new() -> Self {
        Self::default()
    }

    /// Read `BAAS_WEBHOOK_ALLOW_PRIVATE` (`true`/`1` allows private targets).
    pub fn from_env() -> Self {
        let allow = std::env::var(ALLOW_PRIVATE_ENV)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
            .unwrap_or(false);
        Self::new().allow_private(allow)
    }

    /// Allow private, loopback… targets (development and tests).
    pub fn allow_private(mut self, allow: bool) -> Self {
        self.allow_private = allow;
        self
    }

    /// Whether private targets are allowed.
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// Bound each DNS lookup by `timeout`.
    pub fn dns_timeout(mut self, timeout: Duration) -> Self {
        self.dns_timeout = timeout;
        self
    }

    /// Whether `ip` is acceptable under this policy.
    pub fn permits(&self, ip: IpAddr) -> bool {
        self.allow_private || !is_refused(ip)
    }

    /// Check a URL's shape (`http`/`https`, a host, no credentials) and, when its host
    /// is an IP literal, the address. Does not resolve names: see [`TargetPolicy::check`].
    pub fn check_syntax(&self, url: &str) -> Result<Url, Error> {
        let refuse = |m: &str| Error::from(NotifyError::TargetRefused(m.to_owned()));
        let parsed = Url::parse(url.trim()).map_err(|_| refuse("not a valid URL"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(refuse("only http and https URLs are allowed"));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(refuse("URLs with credentials are not allowed"));
        }
        match parsed.host() {
            None => return Err(refuse("the URL has no host")),
            Some(Host::Ipv4(ip)) if !self.permits(IpAddr::V4(ip)) => {
                return Err(refuse("the address is in a refused range"));
            }
            Some(Host::Ipv6(ip)) if !self.permits(IpAddr::V6(ip)) => {
                return Err(refuse("the address is in a refused range"));
            }
            _ => {}
        }
        Ok(parsed)
    }

    /// Check a URL fully: its shape, then every address its host resolves to.
    /// `Invalid` (422) with a clear message when refused.
    pub async fn check(&self, url: &str) -> Result<Url, Error> {
        let parsed = self.check_syntax(url)?;
        if let Some(Host::Domain(name)) = parsed.host() {
            self.resolve(name).await?;
        }
        Ok(parsed)
    }

    /// Resolve `name` and check every address. Refused when any is out of bounds (a
    /// name with one private address is not trusted for the others).
    pub async fn resolve(&self, name: &str) -> Result<Vec<SocketAddr>, Error> {
        let refuse = |m: String| Error::from(NotifyError::TargetRefused(m));
        let lookup = tokio::net::lookup_host((name, 0));
        let addrs: Vec<SocketAddr> = tokio::time::timeout(self.dns_timeout, lookup)
            .await
            .map_err(|_| refuse(format!("resolving `{name}` timed out")))?
            .map_err(|_| refuse(format!("`{name}` does not resolve")))?
            .collect();
        if addrs.is_empty() {
            return Err(refuse(format!("`{name}` does not resolve")));
        }
        if addrs.iter().any(|a| !self.permits(a.ip())) {
            return Err(refuse(format!(
                "`{name}` resolves to an address in a refused range"
            )));
        }
        Ok(addrs)
    }

    /// A reqwest DNS resolver that resolves through [`TargetPolicy::resolve`], so the
    /// client connects only to checked addresses (feature `webhook`).
    #[cfg(feature = "webhook")]
    pub fn resolver(&self) -> GuardedResolver {
        GuardedResolver { policy: *self }
    }
}

/// A reqwest resolver enforcing a [`TargetPolicy`]: see [`TargetPolicy::resolver`].
#[cfg(feature = "webhook")]
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    policy: TargetPolicy,
}

/// The error the [`GuardedResolver`] fails a connection with.
#[cfg(feature = "webhook")]
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TargetRefused(pub String);

#[cfg(feature = "webhook")]
impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let policy = self.policy;
        let name = name.as_str().to_owned();
        Box::pin(async move {
            match policy.resolve(&name).await {
                Ok(addrs) => Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs),
                Err(e) => {
                    Err(Box::new(TargetRefused(e.message().to_owned())) as baas_core::BoxError)
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use baas_core::ErrorKind;

    use super::*;

    #[tokio::test]
    async fn refuses_the_issue_targets_with_a_clear_error() {
        let p = TargetPolicy::new();
        for url in [
            "http://127.0.0.1/",
            "http://[::1]/",
            "http://169.254.169.254/latest/meta-data",
            "http://10.0.0.1/",
            "http://[::ffff:127.0.0.1]/",
            "http://0.0.0.0/",
            "http://localhost:8080/",
            "http://0x7f000001/",
            "ftp://example.com/",
            "http://user:pw@example.com/",
            "not a url",
        ] {
            let e = p.check(url).await.unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Invalid, "{url}");
            assert!(e.message().contains("webhook target refused"), "{url}: {e}");
        }
    }

    #[tokio::test]
    async fn allowing_private_targets_lets_loopback_through() {
        let p = TargetPolicy::new().allow_private(true);
        p.check("http://127.0.0.1:9/").await.unwrap();
        p.check("http://localhost:9/").await.unwrap();
        assert!(p.check("gopher://localhost/").await.is_err());
    }

    #[test]
    fn ranges() {
        for ip in [
            "100.64.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::",
            "::127.0.0.1",
            "64:ff9b::7f00:1",
        ] {
            assert!(is_refused(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "2606:4700::1111"] {
            assert!(!is_refused(ip.parse().unwrap()), "{ip}");
        }
    }
}
