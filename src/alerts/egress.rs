//! Where webhooks may go. An alert destination is a URL an operator types,
//! and the service POSTs to it from inside the deployment's network, so
//! without a policy it reaches cloud metadata (169.254.169.254), the
//! database's host and every internal service, and "Send test" becomes a
//! port scanner. The policy: `https` only, and no loopback, private,
//! link-local, unique-local, shared, multicast or unspecified address after
//! name resolution — except hosts a deployment names in
//! `TENANTATLAS_WEBHOOK_ALLOWED_HOSTS`. Redirects are not followed.
//!
//! It is checked when a destination is added, again before each send, and
//! at connect time by the HTTP client's resolver, so a name that resolves
//! to a public address when added and to an internal one later (DNS
//! rebinding) is refused too.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use crate::alerts::values::mask_url;

/// The hosts exempt from the policy (names or IP literals, case-insensitive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    allowed_hosts: Vec<String>,
}

impl EgressPolicy {
    /// From a comma-separated list (`TENANTATLAS_WEBHOOK_ALLOWED_HOSTS`).
    pub fn allowing(list: &str) -> EgressPolicy {
        EgressPolicy {
            allowed_hosts: list
                .split(',')
                .map(|h| h.trim().trim_start_matches('[').trim_end_matches(']'))
                .filter(|h| !h.is_empty())
                .map(str::to_ascii_lowercase)
                .collect(),
        }
    }

    pub fn is_allowed_host(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.allowed_hosts
            .iter()
            .any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Scheme and literal address; the name is resolved by [`Self::check`].
    pub fn check_syntax(&self, url: &str) -> Result<Url, String> {
        let parsed =
            Url::parse(url.trim()).map_err(|_| "the webhook URL is not a valid URL".to_owned())?;
        let Some(host) = parsed.host_str().map(str::to_owned) else {
            return Err("the webhook URL has no host".into());
        };
        if self.is_allowed_host(&host) {
            return match parsed.scheme() {
                "http" | "https" => Ok(parsed),
                _ => Err(format!(
                    "the webhook URL must be https, got {:?}",
                    mask_url(url.trim())
                )),
            };
        }
        if parsed.scheme() != "https" {
            return Err(format!(
                "the webhook URL must be https, got {:?}",
                mask_url(url.trim())
            ));
        }
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            && !is_public(ip)
        {
            return Err(refused(&host));
        }
        Ok(parsed)
    }

    /// The whole policy, name resolution included.
    pub async fn check(&self, url: &str) -> Result<Url, String> {
        let parsed = self.check_syntax(url)?;
        let host = parsed.host_str().unwrap_or_default().to_owned();
        if self.is_allowed_host(&host) || host.parse::<IpAddr>().is_ok() || host.starts_with('[') {
            return Ok(parsed);
        }
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| format!("the webhook host {host} does not resolve"))?
            .collect();
        if addrs.is_empty() {
            return Err(format!("the webhook host {host} does not resolve"));
        }
        if addrs.iter().any(|a| !is_public(a.ip())) {
            return Err(refused(&host));
        }
        Ok(parsed)
    }

    /// The HTTP client's resolver under this policy.
    pub fn resolver(&self) -> Arc<PolicyResolver> {
        Arc::new(PolicyResolver {
            policy: self.clone(),
        })
    }
}

fn refused(host: &str) -> String {
    format!(
        "the webhook host {host} is an internal address; allow it with TENANTATLAS_WEBHOOK_ALLOWED_HOSTS"
    )
}

/// Whether an address is on the public internet.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                // 100.64.0.0/10, carrier-grade NAT (shared address space)
                || (a == 100 && (64..128).contains(&b))
                // 192.0.0.0/24, protocol assignments
                || (a == 192 && b == 0 && v4.octets()[2] == 0)
                // 198.18.0.0/15, benchmarking
                || (a == 198 && (b == 18 || b == 19))
                // 240.0.0.0/4, reserved
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and
            // NAT64 (64:ff9b::a.b.c.d) addresses reach the IPv4 address inside.
            let seg = v6.segments();
            if let Some(v4) = v6.to_ipv4() {
                return !v6.is_loopback() && !v6.is_unspecified() && is_public(IpAddr::V4(v4));
            }
            if seg[0] == 0x64 && seg[1] == 0xff9b && seg[2..6] == [0, 0, 0, 0] {
                let [a, b] = seg[6].to_be_bytes();
                let [c, d] = seg[7].to_be_bytes();
                return is_public(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            // 6to4 (2002::/16) reaches the IPv4 address in its next 32 bits.
            if seg[0] == 0x2002 {
                let [a, b] = seg[1].to_be_bytes();
                let [c, d] = seg[2].to_be_bytes();
                return is_public(IpAddr::V4(std::net::Ipv4Addr::new(a, b, c, d)));
            }
            // Only global unicast (2000::/3) is public, less Teredo
            // (2001::/32), documentation (2001:db8::/32) and ORCHID and
            // benchmarking ranges under 2001::/23's special purposes.
            (seg[0] & 0xe000) == 0x2000
                && !(seg[0] == 0x2001 && seg[1] < 0x0200)
                && !(seg[0] == 0x2001 && seg[1] == 0x0db8)
        }
    }
}

/// Resolves names for the webhook client and drops every address the policy
/// refuses, so the connection itself cannot reach an internal address.
pub struct PolicyResolver {
    policy: EgressPolicy,
}

impl Resolve for PolicyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.policy.is_allowed_host(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allowed || is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(refused(&host).into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b::10.0.0.1",
            "::ffff:0:a9fe:a9fe",
            "2002:a9fe:a9fe::",
            "2001::1",
            "2001:db8::1",
            "fec0::1",
            "100::1",
            "ff02::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "52.1.2.3",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::",
            "2a00:1450::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn https_and_public_literals_only_unless_allowed() {
        let strict = EgressPolicy::default();
        assert!(strict.check_syntax("http://8.8.8.8/hook").is_err());
        assert!(strict.check_syntax("https://8.8.8.8/hook").is_ok());
        assert!(strict.check_syntax("https://127.0.0.1/hook").is_err());
        assert!(strict.check_syntax("https://[::1]/hook").is_err());
        assert!(
            strict
                .check_syntax("https://169.254.169.254/latest")
                .is_err()
        );
        assert!(strict.check_syntax("ftp://example.com/").is_err());
        let lenient = EgressPolicy::allowing(" 127.0.0.1 , Hooks.Internal ");
        assert!(lenient.check_syntax("http://127.0.0.1:9/hook").is_ok());
        assert!(lenient.check_syntax("https://hooks.internal/x").is_ok());
        assert!(lenient.check_syntax("http://10.0.0.1/x").is_err());
    }
}
