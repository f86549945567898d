"""What Trivy finds in the Excel Unified images, as the simulated cluster reports it.

Plausible findings for a Debian 12 based Ruby image (rails) and Python image (fastapi):
the OS packages both share, then each one's language packages.  A row is
(id, package, installed, fixed or "", severity, CVSS score, published, title, class).
"""

from __future__ import annotations

from typing import NamedTuple


class Finding(NamedTuple):
    id: str
    resource: str
    installed: str
    fixed: str
    severity: str
    score: float
    published: str
    title: str
    klass: str  # "os-pkgs" or "lang-pkgs"


OS = "os-pkgs"
LANG = "lang-pkgs"

# One finding per line reads like a scanner's table: keep the formatter off it.
# fmt: off
_DEBIAN = [
    Finding("CVE-2024-45490", "libexpat1", "2.5.0-1", "2.5.0-1+deb12u1", "CRITICAL", 9.8,
            "2024-08-30", "libexpat: Negative Length Parsing Vulnerability in libexpat", OS),
    Finding("CVE-2024-45491", "libexpat1", "2.5.0-1", "2.5.0-1+deb12u1", "CRITICAL", 9.8,
            "2024-08-30", "libexpat: Integer Overflow or Wraparound", OS),
    Finding("CVE-2023-45853", "zlib1g", "1:1.2.13.dfsg-1", "", "CRITICAL", 9.8, "2023-10-14",
            "zlib: integer overflow and resultant heap-based buffer overflow in "
            "zipOpenNewFileInZip4_6", OS),
    Finding("CVE-2024-2961", "libc6", "2.36-9+deb12u4", "2.36-9+deb12u7", "HIGH", 7.3,
            "2024-04-17", "glibc: Out of bounds write in iconv may lead to remote code "
            "execution", OS),
    Finding("CVE-2024-33599", "libc6", "2.36-9+deb12u4", "2.36-9+deb12u7", "HIGH", 7.6,
            "2024-05-06", "glibc: stack-based buffer overflow in netgroup cache", OS),
    Finding("CVE-2023-52425", "libexpat1", "2.5.0-1", "2.5.0-1+deb12u1", "HIGH", 7.5,
            "2024-02-04", "expat: parsing large tokens can trigger a denial of service", OS),
    Finding("CVE-2023-5678", "libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "MEDIUM", 5.3,
            "2023-11-06", "openssl: Generating excessively long X9.42 DH keys or checking "
            "excessively long X9.42 DH keys or parameters may be very slow", OS),
    Finding("CVE-2024-0727", "libssl3", "3.0.11-1~deb12u2", "3.0.13-1~deb12u1", "MEDIUM", 5.5,
            "2024-01-26", "openssl: denial of service via null dereference", OS),
    Finding("CVE-2023-50495", "libncursesw6", "6.4-4", "", "MEDIUM", 6.5, "2023-12-12",
            "ncurses: segmentation fault via _nc_wrap_entry()", OS),
    Finding("CVE-2011-3374", "apt", "2.6.1", "", "LOW", 3.7, "2019-11-26",
            "It was found that apt-key in apt, all versions, do not correctly validate gpg "
            "keys with the master keyring, leading to a potential man-in-the-middle attack.", OS),
    Finding("CVE-2016-2781", "coreutils", "9.1-1", "", "LOW", 6.5, "2017-02-07",
            "coreutils: Non-privileged session can escape to the parent session in chroot", OS),
    Finding("CVE-2010-4756", "libc-bin", "2.36-9+deb12u4", "", "LOW", 4.0, "2011-03-02",
            "glibc: glob implementation can cause excessive CPU and memory consumption due "
            "to crafted glob expressions", OS),
    Finding("CVE-2011-4116", "perl-base", "5.36.0-7+deb12u1", "", "LOW", 7.5, "2020-01-31",
            "perl: File:: Temp insecure temporary file handling", OS),
    Finding("CVE-2005-2541", "tar", "1.34+dfsg-1.2", "", "LOW", 10.0, "2005-08-10",
            "tar: does not properly warn the user when extracting setuid or setgid files", OS),
]

_RUBY = [
    Finding("CVE-2024-6387", "openssh-client", "1:9.2p1-2+deb12u2", "1:9.2p1-2+deb12u3",
            "HIGH", 8.1, "2024-07-01", "openssh: regreSSHion - RCE in OpenSSH's server, on "
            "glibc-based Linux systems", OS),
    Finding("CVE-2024-47220", "webrick", "1.8.1", "1.8.2", "HIGH", 7.5, "2024-09-22",
            "webrick: HTTP Request Smuggling in ruby webrick", LANG),
    Finding("CVE-2024-26146", "rack", "2.2.8", "2.2.8.1", "MEDIUM", 5.3, "2024-02-26",
            "rack: Possible Denial of Service Vulnerability in Rack Header Parsing", LANG),
    Finding("CVE-2024-25126", "rack", "2.2.8", "2.2.8.1", "MEDIUM", 5.3, "2024-02-28",
            "rack: Denial of Service Vulnerability in Rack Content-Type Parsing", LANG),
    Finding("CVE-2024-26141", "rack", "2.2.8", "2.2.8.1", "MEDIUM", 5.8, "2024-02-28",
            "rack: Possible DoS Vulnerability with Range Header in Rack", LANG),
    Finding("CVE-2024-43398", "rexml", "3.2.6", "3.3.6", "MEDIUM", 5.9, "2024-08-22",
            "rexml: DoS when parsing an XML that has many deep elements with same local "
            "name attributes", LANG),
    Finding("CVE-2024-54133", "actionpack", "7.1.3", "7.1.5.1", "LOW", 4.4, "2024-12-10",
            "rails: Content Security Policy bypass in Action Dispatch", LANG),
]

_PYTHON = [
    Finding("CVE-2024-47874", "starlette", "0.27.0", "0.40.0", "HIGH", 8.7, "2024-10-15",
            "starlette: Starlette Denial of service (DoS) via multipart/form-data", LANG),
    Finding("CVE-2024-24762", "python-multipart", "0.0.6", "0.0.7", "HIGH", 7.5, "2024-02-05",
            "python-multipart: Regular Expression Denial of Service (ReDoS) in "
            "Content-Type header", LANG),
    Finding("CVE-2024-6345", "setuptools", "65.5.1", "70.0.0", "HIGH", 8.8, "2024-07-15",
            "pypa/setuptools: Remote code execution via download functions in the "
            "package_index module", LANG),
    Finding("CVE-2024-1135", "gunicorn", "21.2.0", "22.0.0", "HIGH", 8.2, "2024-04-16",
            "python-gunicorn: HTTP Request Smuggling due to improper validation of "
            "Transfer-Encoding headers", LANG),
    Finding("CVE-2024-35195", "requests", "2.31.0", "2.32.0", "MEDIUM", 5.6, "2024-05-20",
            "requests: subsequent requests to the same host ignore cert verification", LANG),
    Finding("CVE-2024-3651", "idna", "3.6", "3.7", "MEDIUM", 6.2, "2024-07-07",
            "python-idna: potential DoS via resource consumption via specially crafted "
            "inputs to idna.encode()", LANG),
    Finding("CVE-2024-37891", "urllib3", "2.0.7", "2.2.2", "MEDIUM", 4.4, "2024-06-17",
            "urllib3: proxy-authorization request header is not stripped during "
            "cross-origin redirects", LANG),
    Finding("CVE-2023-5752", "pip", "23.2.1", "23.3", "LOW", 3.3, "2023-10-25",
            "pip: Mercurial configuration injectable in repo revision when installing "
            "via pip", LANG),
    Finding("GHSA-248v-346w-9cwc", "certifi", "2023.7.22", "2024.7.4", "UNKNOWN", 0.0,
            "2024-07-05", "Certifi removes GLOBALTRUST root certificate", LANG),
]
# fmt: on

# image repository -> (OS name, findings)
CATALOG: dict[str, tuple[str, list[Finding]]] = {
    "excel-unified/rails": ("12.5", _DEBIAN + _RUBY),
    "excel-unified/fastapi": ("12.5", _DEBIAN + _PYTHON),
}
