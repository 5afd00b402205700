"""export/web/serve.py answers only with regular files inside the page's
folder or the export folder, whatever form a request's path takes."""

import http.client
import importlib.util
import threading

import pytest

from tests.conftest import ROOT

WEB = ROOT / "export" / "web"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server over an export folder that holds a model, a sub-folder and
    a symbolic link to a secret file outside it."""
    base = tmp_path_factory.mktemp("serve")
    secret = base / "secret.txt"
    secret.write_text("SECRET")
    export = base / "export"
    (export / "sub").mkdir(parents=True)
    (export / "model.onnx").write_bytes(b"ONNX")
    (export / "sub" / "labels.txt").write_text("cat\n")
    (export / "link.txt").symlink_to(secret)
    (export / "linked_dir").symlink_to(base, target_is_directory=True)
    spec = importlib.util.spec_from_file_location("kerascnn_web_serve", WEB / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    httpd = serve.serve(export, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_port
    httpd.shutdown()


def _get(port: int, path: str) -> tuple[int, bytes]:
    """The status and body of GET `path`, sent as written (no normalisation)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
    connection.endheaders()
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


@pytest.mark.parametrize(
    "path, body",
    [
        ("/model/model.onnx", b"ONNX"),
        ("/model/sub/labels.txt", b"cat\n"),
        ("/model/model.onnx?x=1#y", b"ONNX"),
    ],
)
def test_files_inside_the_export_are_served(server, path, body):
    assert _get(server, path) == (200, body)


def test_the_page_is_served_at_the_root(server):
    status, body = _get(server, "/")
    assert status == 200 and body == (WEB / "index.html").read_bytes()


@pytest.mark.parametrize(
    "path",
    [
        "/model/../../../../../../etc/passwd",
        "/model/sub/../../secret.txt",
        "/model/%2e%2e/secret.txt",
        "/model/%2E%2E/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/model//etc/passwd",
        "/model/%2Fetc%2Fpasswd",
        "//etc/passwd",
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/model/link.txt",  # a symbolic link to a file outside
        "/model/linked_dir/secret.txt",  # through a linked folder
        "/model/",  # a folder: no listing
        "/model/sub/",
        "/model/sub",
        "/model/missing.onnx",
        "/model/sub/..%2f..%2fsecret.txt",
    ],
)
def test_anything_else_is_refused_with_one_log_line(server, path, capfd):
    status, body = _get(server, path)
    assert status == 404
    assert b"SECRET" not in body and b"root:" not in body
    log = capfd.readouterr().err.splitlines()
    assert [line for line in log if line.startswith("serve.py: refused GET")] != []


def test_dots_in_the_query_string_do_not_leave_the_folder(server):
    assert _get(server, "/model/model.onnx?path=../../../etc/passwd") == (200, b"ONNX")
    status, body = _get(server, "/model/../secret.txt?model=model.onnx")
    assert status == 404 and b"SECRET" not in body
