"""Container health check: exit 0 when the WebUI answers on 127.0.0.1:$PORT, 1 when it does not.

Proxies are bypassed on purpose: an HTTP(S)_PROXY set for model downloads must not swallow this request.
"""

from __future__ import annotations

import os
import sys
import urllib.request


def main() -> int:
    url = f"http://127.0.0.1:{os.environ.get('PORT', '80')}/"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=8):
            return 0
    except OSError as exc:  # refused, timed out, or an HTTP error status (HTTPError is an OSError)
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
