"""SafeHttp: the only outbound HTTP client of the wallet (DESIGN.md §2 rule 2, SECURITY.md §0 item 1).

Every request to a URL that comes from data (badges, partner metadata, issuer APIs) goes through
`SafeHttp.request` or `SafeHttp.fetch`. For each hop it:

1. parses the URL once (`urlsplit`) and refuses userinfo, backslashes, control characters, an empty
   host, and every scheme but https (http only for an allowlisted `host:port` pair); a target that
   is not allowlisted must be https on port 443;
2. resolves the host once, checks EVERY resolved address against `address_allowed` (global AND
   outside an explicit deny list: Python 3.11.7 predates the CVE-2024-4032 fix; IPv6 only inside
   2000::/3, and any IPv4 address embedded in an IPv6 one judged by the IPv4 rules), then connects to
   one of those checked addresses: the connection is pinned, nothing resolves the name again. TLS
   SNI, certificate hostname and the Host header all use the original host name;
3. enforces a connect timeout, a read timeout and an overall deadline (a watchdog shuts the socket
   down at the deadline, so a server sending one byte a second is cut);
4. streams the body and caps the DECODED bytes (gzip/deflate are decoded here, bounded, never in
   bulk); the body of a redirect is never read nor decoded;
5. follows redirects by hand (at most `max_redirects` hops), re-validating each hop; Authorization,
   Cookie and Proxy-Authorization never cross to another origin.

No proxies, no .netrc, no environment: nothing but the arguments shapes a request. URLs under
`local_prefix` (WALLET_BASE_URL: the wallet's own issuer documents, keys, status lists) are answered
in-process by `local_handler`, never over the network.

Every failure raises `FetchError(url, reason)` with reason one of network, timeout, blocked,
too_large, scheme, redirects (see wallet/openbadges/errors.py).

Modules: policy.py (which addresses and FETCH_ALLOW pairs), resolution.py (URL vetting, one
resolution), response.py (Response, Headers, bounded decoding), client.py (SafeHttp), cache.py (the
worker's shared HTTP cache and per-host pacing, in front of SafeHttp).
"""

from __future__ import annotations

from .client import SafeHttp
from .policy import address_allowed, embedded_ipv4, parse_allow
from .response import Headers, Response

__all__ = ["Headers", "Response", "SafeHttp", "address_allowed", "embedded_ipv4", "parse_allow"]
