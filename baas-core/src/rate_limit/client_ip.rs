//! The client's IP address, trusting forwarding headers only from known proxies.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use ipnet::IpNet;

use crate::error::Error;

/// The header proxies append the address they received a request from to.
pub const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The networks whose `X-Forwarded-For` is believed.
///
/// ```
/// use baas_core::rate_limit::TrustedProxies;
/// use http::HeaderMap;
///
/// let trusted = TrustedProxies::parse(["10.0.0.0/8", "::1/128"])?;
/// let mut headers = HeaderMap::new();
/// headers.insert("x-forwarded-for", "203.0.113.9, 10.1.2.3".parse().unwrap());
/// // From a trusted load balancer: the right-most untrusted hop is the client.
/// assert_eq!(trusted.client_ip("10.0.0.2".parse().unwrap(), &headers), "203.0.113.9".parse::<std::net::IpAddr>().unwrap());
/// // From anyone else: the header is ignored.
/// assert_eq!(trusted.client_ip("198.51.100.1".parse().unwrap(), &headers), "198.51.100.1".parse::<std::net::IpAddr>().unwrap());
/// # Ok::<(), baas_core::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trust no proxy: the TCP peer is always the client.
    pub fn none() -> Self {
        TrustedProxies::default()
    }

    /// Trust these networks.
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        TrustedProxies {
            nets: nets.into_iter().collect(),
        }
    }

    /// Parse CIDR networks (`10.0.0.0/8`) or single addresses (`192.0.2.1`).
    pub fn parse<I, S>(cidrs: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut nets = Vec::new();
        for cidr in cidrs {
            let cidr = cidr.as_ref().trim();
            let net = match cidr.parse::<IpNet>() {
                Ok(net) => net,
                Err(_) => match cidr.parse::<IpAddr>() {
                    Ok(ip) => IpNet::from(ip),
                    Err(_) => {
                        return Err(Error::field(
                            "trusted_proxies",
                            format!("`{cidr}` is not an IP network"),
                        ));
                    }
                },
            };
            nets.push(net);
        }
        Ok(TrustedProxies { nets })
    }

    /// Whether `ip` is a trusted proxy.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request from TCP peer `peer`: the peer itself unless it
    /// is trusted; else the right-most `X-Forwarded-For` hop that is not a trusted
    /// proxy (hops left of it could be forged by the client). An unparseable hop stops
    /// the walk at the last trusted address.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.is_trusted(client) {
            return client;
        }
        let hops: Vec<&str> = headers
            .get_all(X_FORWARDED_FOR)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .collect();
        for hop in hops.into_iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.is_trusted(ip) {
                return ip;
            }
        }
        client
    }
}

fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// One bucket per client IP address (IPv6 grouped by prefix, /64 by default, since one
/// host usually holds a whole /64).
///
/// The TCP peer comes from axum's `ConnectInfo<SocketAddr>` (serve the router with
/// `into_make_service_with_connect_info::<SocketAddr>()`); without it the request is not
/// limited. `X-Forwarded-For` is used only when the peer is a [`TrustedProxies`] member.
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[derive(Debug, Clone)]
pub struct ByClientIp {
    trusted: std::sync::Arc<TrustedProxies>,
    ipv6_prefix: u8,
}

#[cfg(feature = "http")]
impl ByClientIp {
    /// Key by client IP, believing forwarding headers from `trusted`.
    pub fn new(trusted: TrustedProxies) -> Self {
        ByClientIp {
            trusted: std::sync::Arc::new(trusted),
            ipv6_prefix: 64,
        }
    }

    /// Group IPv6 clients by this prefix length (128 = one bucket per address).
    pub fn ipv6_prefix(mut self, len: u8) -> Self {
        self.ipv6_prefix = len.min(128);
        self
    }

    /// The client IP of a request, as the key sees it (before IPv6 grouping).
    pub fn client_ip<B>(&self, req: &http::Request<B>) -> Option<IpAddr> {
        let axum::extract::ConnectInfo(peer) = req
            .extensions()
            .get::<axum::extract::ConnectInfo<SocketAddr>>()?;
        Some(self.trusted.client_ip(peer.ip(), req.headers()))
    }
}

#[cfg(feature = "http")]
impl<B> super::key::KeyExtractor<http::Request<B>> for ByClientIp {
    type Key = IpAddr;

    fn extract(&self, req: &http::Request<B>) -> Option<IpAddr> {
        let ip = self.client_ip(req)?;
        Some(match ip {
            IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, self.ipv6_prefix)
                .map(|net| IpAddr::V6(net.network()))
                .unwrap_or(ip),
            v4 => v4,
        })
    }
}
