"""The application side of bench/agent.ts, in Python: what a service of the reference
platform does. Modes:
  reads SOCKET FILE N     -> JSON: read latencies (ns) through the agent's socket and of the rendered file
  notice-http FILE        -> serves the agent's notify URL; on each POST reads FILE and prints "VALUE T_NS"
  notice-poll SOCKET N    -> long-polls the agent N times; after each change reads and prints "VALUE T_NS"
T_NS is time.monotonic_ns(): CLOCK_MONOTONIC, the clock of Node's process.hrtime on Linux.
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "clients" / "python"))
from keyshift_agent import AgentClient  # noqa: E402


def reads(socket_path: str, file: str, n: int) -> None:
    client = AgentClient(socket_path)
    for _ in range(500):  # warm-up
        client.read("BENCH_KEY")
        Path(file).read_text()
    sock, disk = [], []
    for _ in range(n):
        t = time.perf_counter_ns()
        client.read("BENCH_KEY")
        sock.append(time.perf_counter_ns() - t)
        t = time.perf_counter_ns()
        with open(file) as f:
            f.read()
        disk.append(time.perf_counter_ns() - t)
    print(json.dumps({"socket": sock, "file": disk}))


def notice_http(file: str) -> None:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802
            self.rfile.read(int(self.headers.get("content-length", "0")))
            value = Path(file).read_text()
            print(f"{value} {time.monotonic_ns()}", flush=True)
            self.send_response(204)
            self.end_headers()

    server = HTTPServer(("127.0.0.1", 0), Handler)
    print(f"port {server.server_address[1]}", flush=True)
    server.serve_forever()


def notice_poll(socket_path: str, n: int) -> None:
    client = AgentClient(socket_path)
    generation = client.read("BENCH_KEY").generation
    print("polling", flush=True)
    for _ in range(n):
        change = client.wait_for_change(generation, timeout=30)
        entry = client.read("BENCH_KEY")
        print(f"{entry.value} {time.monotonic_ns()}", flush=True)
        generation = max(change.generation, entry.generation)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "reads":
        reads(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif mode == "notice-http":
        notice_http(sys.argv[2])
    else:
        notice_poll(sys.argv[2], int(sys.argv[3]))
