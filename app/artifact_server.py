"""The artifact file server behind `make server` (deployments/ops.sh): serves the local output root
over HTTP so the Prefect UI can show storyboard images and open reel links.

Only regular files whose real path (symlinks resolved) is inside the root are served; anything
else, directories included, is 404: no listings, and a symlink in the root that leads out of it
(`outputs/etclink -> /etc`) shows nothing. `python -m http.server` follows such links and lists
folders, so it is not used.

    python -m app.artifact_server PORT [--bind 127.0.0.1] --directory ROOT
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os


class RootFilesHandler(http.server.SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler (GET/HEAD, ranges of nothing, MIME types) limited to files in the root."""

    def send_head(self):
        root = os.path.realpath(self.directory)
        real = os.path.realpath(self.translate_path(self.path))
        if os.path.commonpath([root, real]) != root or not os.path.isfile(real):
            self.send_error(404, "File not found")
            return None
        return super().send_head()

    def list_directory(self, path):  # never reached through send_head; refused all the same
        self.send_error(404, "File not found")
        return None


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m app.artifact_server", description=__doc__.split("\n\n")[0])
    ap.add_argument("port", type=int)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--directory", required=True, help="the output root to serve")
    args = ap.parse_args(argv)
    handler = functools.partial(RootFilesHandler, directory=os.path.realpath(args.directory))
    with http.server.ThreadingHTTPServer((args.bind, args.port), handler) as server:
        print(f"serving files under {args.directory} on http://{args.bind}:{args.port}/", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
