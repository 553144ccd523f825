"""Hostile pages for bench/hostile.sh, served on 127.0.0.1 (port from argv, 0 = any):
huge documents, link and phone floods, a 50 MB answer (one paragraph, or many), a reload loop, terminal escapes
and a download. Each answer is generated, nothing is read from disk."""
import http.server
import sys
import urllib.parse


def page(body: str, head: str = "") -> bytes:
    return f"<!doctype html><html lang=en><head><title>Hostile</title>{head}</head><body><main>{body}</main></body></html>".encode()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send(self, body: bytes, ctype: str = "text/html; charset=utf-8", extra=()):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        n = int(urllib.parse.parse_qs(url.query).get("n", ["0"])[0] or 0)
        if url.path == "/dom":
            self.send(page("<h1>Nodes</h1>" + "<div><span>cell</span></div>" * (n // 2)))
        elif url.path == "/links":
            self.send(page("<h1>Links</h1>" + "".join(f'<a href="/x/{i}">link {i}</a> ' for i in range(n))))
        elif url.path == "/tel":
            self.send(page("<h1>Call us</h1>" + "".join(f'<a href="tel:+1415555{i:04d}">(415) 555-{i:04d}</a> ' for i in range(n))))
        elif url.path == "/big":
            self.send(page("<h1>Big</h1><p>" + "word " * (n * 1024 * 1024 // 5) + "</p>"))
        elif url.path == "/bigp":
            # The same size in paragraphs, as a long log or table would be.
            self.send(page("<h1>Big</h1>" + ("<p>" + "word " * 200 + "</p>") * (n * 1024 * 1024 // 1007)))
        elif url.path == "/refresh":
            self.send(page("<h1>Again</h1>", '<meta http-equiv="refresh" content="0">'))
        elif url.path == "/escapes":
            self.send(page("<h1>Escapes</h1><p>Hello\x1b]0;pwned\x07 there\x1b[2J \x1b]8;;http://evil.test\x1b\\click\x1b]8;;\x1b\\</p>"))
        elif url.path == "/download":
            self.send(page('<h1>Files</h1><a href="/file.bin">Get the form</a>'))
        elif url.path == "/file.bin":
            self.send(b"\0" * 1024, "application/octet-stream", [("Content-Disposition", 'attachment; filename="form.bin"')])
        else:
            self.send(page("<h1>Page</h1>"))


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
