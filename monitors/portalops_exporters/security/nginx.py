"""nginx's access log (Debian's ``combined`` format): responses by status class and the attack
signatures a request carries.

    198.18.5.7 - - [02/Mar/2026:10:15:42 +0700] "GET /tra-cuu?q=1%27%20OR%201=1-- HTTP/1.1" 403 153 "-" "sqlmap/1.7"

nginx escapes ``"``, ``\\`` and control bytes in what it logs (``\\x22``), so a quoted
field never holds a quote. Signatures are looked for in the request line after
percent-decoding (twice: scanners double-encode), lower-cased; scanners by their
User-Agent. Each is a small fixed pattern set: it counts what probes the portal, it
is not a WAF (ModSecurity is, see :mod:`.modsecurity`).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from portalops_exporters.security.events import Event

_COMBINED = re.compile(r'\S+ \S+ \S+ \[[^\]]{1,64}\] "([^"]*)" ([1-5])\d\d (?:\d+|-) "[^"]*" "([^"]*)"')

# Only patterns Go's RE2 also takes (no look-around), so bench/mtail can apply the same ones.
REQUEST_SIGNATURES = {
    "sql_injection": r"union(?:\s|/\*.*?\*/)+(?:all\s+)?select|'\s*(?:or|and)\s+'?\w*'?\s*=|\bor\s+1\s*=\s*1"
                     r"|(?:sleep|benchmark|pg_sleep)\s*\(|information_schema|xp_cmdshell|'\s*(?:--|#|;)",
    "path_traversal": r"\.\.[/\\]|/etc/(?:passwd|shadow|hosts)|win\.ini|/proc/self/",
    "xss": r"<script|javascript:|\bon(?:error|load|mouseover|focus)\s*=|<svg|<iframe|document\.cookie",
    "command_injection": r"[;|]\s*(?:wget|curl|sh|bash|nc|cat|id|uname|whoami)\b|\$\(|`|/bin/(?:sh|bash)|cmd\.exe",
    "jndi_injection": r"\$\{(?:jndi|lower|upper|env|::-)",
    "sensitive_file_probe": r"/\.(?:env|git|svn|aws|ssh|htpasswd)\b|/wp-(?:admin|login|content|includes)"
                            r"|/phpmyadmin|/xmlrpc\.php|/server-status|/actuator|/vendor/phpunit|/cgi-bin/"
                            r"|\.(?:bak|sql|swp)(?:\s|\?|$)",
}
SCANNER_AGENTS = (r"sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|dirbuster|gobuster|ffuf|acunetix|nessus"
                  r"|openvas|wfuzz|netsparker|jaeles|whatweb")
_SIGNATURES = [(name, re.compile(pattern)) for name, pattern in REQUEST_SIGNATURES.items()]
# Most requests are plain: one pass of the union tells which lines need the patterns one by one.
_ANY = re.compile("|".join(f"(?:{pattern})" for pattern in REQUEST_SIGNATURES.values()))
_SCANNER = re.compile(SCANNER_AGENTS, re.IGNORECASE)
_JNDI = re.compile(REQUEST_SIGNATURES["jndi_injection"], re.IGNORECASE)
_CLASSES = {digit: f"{digit}xx" for digit in "12345"}


def decoded(request: str) -> str:
    """The request line as an application would read it: percent-decoded (twice), ``+`` as space, lower case."""
    if "%" in request:
        request = unquote(request)
        if "%" in request:
            request = unquote(request)
    return request.replace("+", " ").lower()


def signatures(request: str, agent: str) -> set[str]:
    """The attack signatures one request carries."""
    found = set()
    text = decoded(request)
    if _ANY.search(text):
        found.update(name for name, pattern in _SIGNATURES if pattern.search(text))
    if _SCANNER.search(agent):
        found.add("scanner")
    if _JNDI.search(agent):  # Log4Shell probes hide in the User-Agent as often as in the URL
        found.add("jndi_injection")
    return found


def access_line(line: str) -> list[Event]:
    """The response and the attack signatures one access-log line records."""
    match = _COMBINED.match(line)
    if not match:
        return []
    events: list[Event] = [("http_responses", (_CLASSES[match[2]],))]
    events.extend(("http_attack_requests", (name,)) for name in signatures(match[1], match[3]))
    return events
