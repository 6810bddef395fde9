"""A Flask-style PGP service in Python that reads its ChangeNow key through the keyshift
agent at each call, so a rotation needs no restart and fails no request.

    python3 changenow_service.py --socket /run/keyshift/agent.sock \\
        --changenow http://127.0.0.1:PORT/v2 [--port 8080]

GET /estimate?amount=100 -> {"toAmount": "...", "keyVersion": "3"}

Standard library only (http.server; Flask is the same three lines around a route).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "clients" / "python"))

from keyshift_agent import AgentClient, AgentError  # noqa: E402

_local = threading.local()


def agent_client(socket_path: str) -> AgentClient:
    """One client (one kept-alive connection) per server thread."""
    client = getattr(_local, "client", None)
    if client is None:
        client = _local.client = AgentClient(socket_path)
    return client


def estimate(changenow: urllib.parse.SplitResult, api_key: str, amount: str) -> tuple[int, dict]:
    conn = http.client.HTTPConnection(changenow.hostname, changenow.port, timeout=5)
    try:
        query = urllib.parse.urlencode({"fromCurrency": "usdt", "toCurrency": "eth", "fromAmount": amount})
        conn.request("GET", f"{changenow.path}/exchange/estimated-amount?{query}", headers={"x-changenow-api-key": api_key})
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        conn.close()


def make_handler(socket_path: str, changenow: urllib.parse.SplitResult):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # no access log: quiet under load
            pass

        def send_json(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/healthz":
                return self.send_json(200, {"ok": True})
            if url.path != "/estimate":
                return self.send_json(404, {"error": "not_found"})
            amount = urllib.parse.parse_qs(url.query).get("amount", ["100"])[0]
            try:
                key = agent_client(socket_path).read("CHANGENOW_API_KEY")  # at each call
            except AgentError as error:
                return self.send_json(503, {"error": "keyshift_agent", "code": error.code})
            status, body = estimate(changenow, key.value or "", amount)
            if status != 200:
                return self.send_json(502, {"error": "changenow", "status": status})
            self.send_json(200, {"toAmount": body.get("toAmount"), "keyVersion": key.version})

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True, help="the keyshift agent's read API socket")
    parser.add_argument("--changenow", required=True, help="the ChangeNow API root (http://host:port/v2)")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(args.socket, urllib.parse.urlsplit(args.changenow)))
    server.daemon_threads = True
    print(f"changenow-service listening on http://127.0.0.1:{server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
