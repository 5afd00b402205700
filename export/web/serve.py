"""Serves the web page and a kerascnn export on 127.0.0.1, for a quick look.

    python export/web/serve.py lenet5_export            # http://127.0.0.1:8000/
    python export/web/serve.py lenet5_export --port 8080 --model model.opset13.onnx

The page is this folder (run `npm ci` in it once, for onnxruntime-web); the
export folder appears under /model/. Needs only Python's standard library.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


class Handler(http.server.SimpleHTTPRequestHandler):
    """This folder at /, the export folder at /model/."""

    export_dir: Path = HERE

    def translate_path(self, path: str) -> str:
        route = path.split("?", 1)[0].split("#", 1)[0]
        if route.startswith("/model/"):
            relative = Path(route[len("/model/") :])
            if ".." in relative.parts:
                return str(HERE / "missing")
            return str(self.export_dir / relative)
        return super().translate_path(path)

    def end_headers(self):
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format, *args):
        """Quiet: the page is the output."""


def serve(export_dir: Path, port: int = 8000, host: str = "127.0.0.1"):
    """A ThreadingHTTPServer for the page and `export_dir` (not yet serving)."""
    handler = type("ExportHandler", (Handler,), {"export_dir": Path(export_dir).resolve()})
    return http.server.ThreadingHTTPServer(
        (host, port), functools.partial(handler, directory=str(HERE))
    )


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
