"""The Python client against a real keyshift agent (started by the test)."""

from __future__ import annotations

import os
import socket
import stat
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from keyshift_agent import AgentClient, AgentError  # noqa: E402

from tests._agent_process import AgentProcess, wait_until  # noqa: E402

ENTRIES = {
    "CHANGENOW_API_KEY": {"type": "string", "category": "api-key"},
    "TP_LIMIT": {"type": {"kind": "int", "min": 1}},
    "DB_USER": {"type": "string"},
    "DB_PASSWORD": {"type": "string", "secret": True},
    "WALLET_PRIVATE_KEY": {"type": "string", "static": True, "deliver": ["env"]},
}
VALUES = {
    "CHANGENOW_API_KEY": "cn_test_key_1",
    "TP_LIMIT": "7",
    "DB_USER": "app_a",
    "DB_PASSWORD": "pw_a",
    "WALLET_PRIVATE_KEY": "0xnot-served-over-the-api",
}


def raw(path: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)


class AgentClientTest(unittest.TestCase):
    agent: AgentProcess

    @classmethod
    def setUpClass(cls) -> None:
        cls.agent = AgentProcess(VALUES, ENTRIES).start()

    @classmethod
    def tearDownClass(cls) -> None:
        code = cls.agent.stop()
        assert code == 0, f"the agent exited with {code}:\n{cls.agent.output()}"

    def setUp(self) -> None:
        self.client = AgentClient(self.agent.socket)

    def tearDown(self) -> None:
        self.client.close()

    def test_read_gives_value_and_version(self) -> None:
        entry = self.client.read("TP_LIMIT")
        self.assertEqual(entry.value, "7")
        self.assertTrue(entry.version)
        self.assertNotIn("cn_test", repr(self.client.read("CHANGENOW_API_KEY")))

    def test_read_many_is_one_generation(self) -> None:
        snap = self.client.read_many(["DB_USER", "DB_PASSWORD"])
        self.assertEqual(set(snap.entries), {"DB_USER", "DB_PASSWORD"})
        self.assertTrue(all(e.generation == snap.generation for e in snap.entries.values()))
        self.assertEqual(snap["DB_USER"], self.client.read("DB_USER").value)

    def test_unknown_and_undelivered_entries_are_404(self) -> None:
        for name in ("NOPE", "WALLET_PRIVATE_KEY"):
            with self.assertRaises(AgentError) as caught:
                self.client.read(name)
            self.assertEqual((caught.exception.status, caught.exception.code), (404, "unknown_entry"))
            self.assertNotIn("0xnot", str(caught.exception))

    def test_wait_for_change_sees_a_rotation(self) -> None:
        before = self.client.read("CHANGENOW_API_KEY")
        self.agent.put("CHANGENOW_API_KEY", "cn_test_key_2")
        change = self.client.wait_for_change(before.generation, timeout=30)
        self.assertIn("CHANGENOW_API_KEY", change.changed)
        after = self.client.read("CHANGENOW_API_KEY")
        self.assertEqual(after.value, "cn_test_key_2")
        self.assertNotEqual(after.version, before.version)
        self.assertGreaterEqual(after.generation, change.generation)

    def test_wait_for_change_times_out_empty(self) -> None:
        now = self.client.read_many().generation
        change = self.client.wait_for_change(now + 1000, timeout=0.2)
        self.assertEqual(change.changed, [])

    def test_a_rejected_version_keeps_the_working_value(self) -> None:
        self.agent.put("TP_LIMIT", "not-a-number")
        self.assertTrue(wait_until(lambda: "TP_LIMIT (int) version" in self.agent.output() and "rejected" in self.agent.output()))
        self.assertEqual(self.client.read("TP_LIMIT").value, "7")
        self.agent.put("TP_LIMIT", "7")

    def test_garbage_and_huge_requests_get_4xx_and_the_agent_keeps_serving(self) -> None:
        self.assertIn(b" 400 ", raw(self.agent.socket, b"\x00\x01garbage\r\n\r\n"))
        self.assertIn(b" 431 ", raw(self.agent.socket, b"GET /v1/entries/TP_LIMIT HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n"))
        answer = raw(self.agent.socket, b"GET /v1/entries/TP_LIMIT HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        self.assertIn(b" 413 ", answer)
        answer = raw(self.agent.socket, b"GET /v1/entries?names=%%% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertIn(b" 400 ", answer)
        self.assertEqual(self.client.read("TP_LIMIT").value, "7")

    def test_the_socket_is_private(self) -> None:
        self.assertEqual(stat.S_IMODE(os.stat(self.agent.socket).st_mode), 0o600)

    def test_files_are_rendered_0600(self) -> None:
        path = self.agent.files_dir / "DB_USER"
        self.assertEqual(path.read_text(), "app_a")
        self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o600)
        self.assertTrue(os.path.islink(path))


if __name__ == "__main__":
    unittest.main()
