"""A site where every page links to 20 000 others of the site, for bench/hostile.sh's
`nocall links` case: the crawl's memory must not grow with the links it finds.
Served on 127.0.0.1 (port from argv, 0 = any); prints its address."""
import http.server
import sys
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        p = int(query.get("p", ["0"])[0] or 0)
        links = "".join(f'<a href="/m?p={p * 1000 + i}">Page {i}</a> ' for i in range(20000))
        body = f"<!doctype html><title>Mesh</title><main><h1>Mesh {p}</h1>{links}</main>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 0), Handler)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
