"""The live dashboard: a web page of the pipeline's trends, newest tweets and health, served by
tweetpipe itself (`server.serve`), updating itself by server-sent events.

`queries` reads the trend tables and the newest tweets, `payload` makes the JSON document the
page renders, `status` builds the health facts from `Pipeline.status()` when no supervisor
provides richer ones. The page's files are in `static/`; the chart library in
`static/vendor/` comes from npm (web/, scripts/build_web.sh).
"""

from tweetpipe.dashboard.server import DEFAULT_PORT, serve
from tweetpipe.dashboard.status import status_facts

__all__ = ["DEFAULT_PORT", "serve", "status_facts"]
