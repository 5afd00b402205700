"""Serves the web page and a kerascnn export on 127.0.0.1, for a quick look.

    python export/web/serve.py lenet5_export            # http://127.0.0.1:8000/
    python export/web/serve.py lenet5_export --port 8080 --model model.opset13.onnx

The page is this folder (run `npm ci` in it once, for onnxruntime-web); the
export folder appears under /model/. Needs only Python's standard library.
"""

from __future__ import annotations

import argparse
import contextlib
import http.server
import os
import sys
import urllib.parse
from http import HTTPStatus
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Handler(http.server.SimpleHTTPRequestHandler):
    """This folder at /, the export folder at /model/: regular files only.

    Any page the user visits while the server runs can send requests to it,
    so a request is answered only with a regular file that resolves inside
    one of the two folders: no `..`, no absolute paths, no symbolic link
    out, no folder listings. A refused request is one line on stderr.
    """

    export_dir: Path = HERE

    def _file(self, path: str) -> Path | None:
        """The file a request path names, or None when it may not be served."""
        route = urllib.parse.unquote(path.split("?", 1)[0].split("#", 1)[0])
        if route == "/":
            route = "/index.html"
        root, relative = HERE, route[1:]
        if route.startswith("/model/"):
            root, relative = self.export_dir, route[len("/model/") :]
        parts = relative.split("/")
        if not route.startswith("/") or "\\" in relative or "\0" in relative:
            return None
        if any(part in ("", ".", "..") for part in parts):
            return None  # empty: '//' or an absolute path; '.', '..': a way out
        target = (root / relative).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            return None  # a symbolic link out, a folder, or nothing
        return target

    def send_head(self):
        target = self._file(self.path)
        if target is None:
            sys.stderr.write(
                f"serve.py: refused {self.command} {self.path!r}: not a file in the page "
                "or export folder\n"
            )
            self.send_error(HTTPStatus.NOT_FOUND)
            return None
        file = open(target, "rb")  # noqa: SIM115 (the base class closes it)
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", self.guess_type(str(target)))
        self.send_header("Content-Length", str(os.fstat(file.fileno()).st_size))
        self.end_headers()
        return file

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        """Quiet: the page is the output (refusals are logged by `send_head`)."""


def serve(export_dir: Path, port: int = 8000, host: str = "127.0.0.1"):
    """A ThreadingHTTPServer for the page and `export_dir` (not yet serving)."""
    handler = type("ExportHandler", (Handler,), {"export_dir": Path(export_dir).resolve()})
    return http.server.ThreadingHTTPServer((host, port), handler)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export_dir", type=Path, help="a kerascnn export folder")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model", default="model.opset17.onnx", help="the .onnx in it")
    args = parser.parse_args(argv)
    if not (args.export_dir / args.model).is_file():
        print(
            f"serve.py: error: no {args.model} in {args.export_dir}; export with "
            "`kerascnn export MODEL --format onnx --feature-maps --out DIR`.",
            file=sys.stderr,
        )
        return 2
    if not (HERE / "node_modules" / "onnxruntime-web").is_dir():
        print(
            f"serve.py: error: run `npm ci` in {HERE} first (it fetches onnxruntime-web).",
            file=sys.stderr,
        )
        return 2
    server = serve(args.export_dir, args.port)
    print(f"http://127.0.0.1:{server.server_port}/?model=model/{args.model}  (Ctrl-C stops)")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
