"""Prints an nginx config serving DIR/site on 127.0.0.1:PORT, with every path nginx
writes (pid, logs, temp files) inside DIR, so it runs unprivileged beside anything else.

usage: nginx_conf.py DIR PORT
"""

import sys


def main() -> None:
    work, port = sys.argv[1], int(sys.argv[2])
    print(f"""worker_processes 2;
pid {work}/nginx.pid;
error_log {work}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {work}/client_body;
    proxy_temp_path {work}/proxy;
    fastcgi_temp_path {work}/fastcgi;
    uwsgi_temp_path {work}/uwsgi;
    scgi_temp_path {work}/scgi;
    types {{ text/html html; }}
    default_type application/octet-stream;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port};
        root {work}/site;
    }}
}}""")


if __name__ == "__main__":
    main()
