"""The native send path (sfu/_fastsend.c), when it is built and this pylibsrtp fits it.

A `Route` writes one forwarded copy in one C call: copy, patch the RTP header and the
VP8 picture id, SRTP-protect with the subscriber's libsrtp session (pylibsrtp's, the one
aiortc keyed), sendto the subscriber's ICE socket. Everything that decides what to send
stays in Python; `available()` says whether the native path can be used, and why not.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

# libsrtp 2.x: srtp_err_status_t srtp_protect(srtp_t ctx, void *rtp_hdr, int *len_ptr),
# in place. libsrtp 3 changed the signature; then we stay in Python.
_EXPECTED_PROTECT = "srtp_err_status_t(*)(struct srtp_ctx_t_ *, void *, int *)"


def _load() -> tuple[Any, int, str]:
    try:
        from sfu import _fastsend
    except ImportError as exc:
        return None, 0, f"sfu._fastsend is not built ({exc}); pip install -e . with a C compiler"
    try:
        from pylibsrtp import _binding
        ffi, lib = _binding.ffi, _binding.lib
        ctype = ffi.typeof(lib.srtp_protect).cname
        if ctype != _EXPECTED_PROTECT:
            return None, 0, f"pylibsrtp's srtp_protect is {ctype}, not libsrtp 2's"
        protect = int(ffi.cast("uintptr_t", ffi.addressof(lib, "srtp_protect")))
    except Exception as exc:  # noqa: BLE001 - any surprise in pylibsrtp: stay in Python
        return None, 0, f"pylibsrtp does not expose srtp_protect: {exc}"
    return _fastsend, protect, ""


_MODULE, _PROTECT, _WHY_NOT = _load()


def available() -> tuple[bool, str]:
    """(True, "") when routes can be made; else (False, the reason)."""
    return _MODULE is not None, _WHY_NOT


def route(fd: int, host: str, port: int, session: Any) -> Any | None:
    """A native route to (host, port) through socket `fd`, protecting with `session` (a
    pylibsrtp Session); None when the native path is unavailable or the address is not
    a numeric IP."""
    if _MODULE is None or session is None:
        return None
    try:
        from pylibsrtp import _binding
        context = int(_binding.ffi.cast("uintptr_t", session._srtp[0]))
        return _MODULE.Route(fd, host, port, context, _PROTECT, session)
    except (ValueError, TypeError, AttributeError) as exc:
        logger.debug("no native route to %s:%s: %s", host, port, exc)
        return None
