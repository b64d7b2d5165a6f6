"""A scripted OpenAI-compatible server (stdlib ``http.server``) for the LLM-path tests.

It answers ``POST /v1/chat/completions`` on 127.0.0.1. Per table (found from the ``[table: …]``
tag the prompt carries) it plays a queue of scripted actions, then a default answer:

* ``{"content": "<raw answer>"}`` — a 200 answer, delivered the way the request asked
  (a tool call for ``tools``, message content otherwise);
* ``{"status": 429, "headers": {"Retry-After": "1"}}`` — an HTTP error;
* ``{"hang": 3.0}`` — sleep before answering the next action (a timeout test);
* ``{"drop": True}`` — close the connection without a response;
* ``{"raw": "<html>…", "content_type": "text/html"}`` — a 200 answer with this body as is;
* ``{"null_message": True}`` — a 200 completion whose choice has ``"message": null``;
* ``{"trickle": 1.0}`` — send the headers, then one byte every ``trickle`` seconds, forever;
* ``{"echo_auth": 500}`` — an HTTP error whose body repeats the request's Authorization header.

``GET /v1/models`` answers a one-model list (``models_status`` changes its status).

``refuse`` lists structured modes answered with HTTP 500 like llama.cpp's server refusing
``json_schema``. Every request body is recorded in ``requests``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_TABLE_TAG = re.compile(r"\[table: (\w+)\]")


def request_mode(body: dict[str, Any]) -> str:
    if body.get("tools"):
        return "tools"
    rf = body.get("response_format") or {}
    if rf.get("type") == "json_schema":
        return "json_schema"
    if rf.get("type") == "json_object":
        return "json" if "schema" in rf else "json_plain"
    return "text"


class ScriptedServer:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.script: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.default: dict[str, str] = {}
        self.refuse: set[str] = set()
        self.requests: list[dict[str, Any]] = []
        self.models_status = 200
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                body = {"object": "list", "data": [{"id": "scripted", "object": "model"}]}
                status = owner.models_status
                owner._send(self, status, json.dumps(body if status == 200 else {"error": "no"}), {})

            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                owner.handle(self, body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    # ------------------------------------------------------------ control
    def reset(self) -> None:
        with self.lock:
            self.script.clear()
            self.default.clear()
            self.refuse.clear()
            self.requests.clear()
            self.models_status = 200

    def push(self, table: str, *actions: dict[str, Any]) -> None:
        with self.lock:
            self.script[table].extend(actions)

    def calls(self, table: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if table is None or r["_table"] == table]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ------------------------------------------------------------ serving
    def handle(self, h: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        text = json.dumps(body.get("messages", []), ensure_ascii=False)
        m = _TABLE_TAG.search(text)
        table = m.group(1) if m else "?"
        mode = request_mode(body)
        with self.lock:
            self.requests.append({**body, "_table": table, "_mode": mode})
            if mode in self.refuse:
                action: dict[str, Any] = {"status": 500, "body": "response_format type not supported"}
            elif self.script[table]:
                action = self.script[table].pop(0)
            else:
                action = {"content": self.default.get(table, "{}")}
        while "hang" in action:
            time.sleep(float(action["hang"]))
            with self.lock:
                action = (
                    self.script[table].pop(0)
                    if self.script[table]
                    else {"content": self.default.get(table, "{}")}
                )
        if self._special(h, body, mode, text, action):
            return
        if action.get("drop"):
            h.close_connection = True
            h.connection.close()
            return
        if "status" in action:
            payload = json.dumps({"error": {"message": action.get("body", "scripted error"), "type": "x"}})
            self._send(h, int(action["status"]), payload, action.get("headers", {}))
            return
        self._send(h, 200, json.dumps(self._completion(body, mode, str(action["content"]), text)), {})

    def _special(
        self, h: BaseHTTPRequestHandler, body: dict[str, Any], mode: str, text: str, action: dict[str, Any]
    ) -> bool:
        """The hostile actions; True when one was played."""
        if "raw" in action:
            data = str(action["raw"]).encode("utf-8")
            h.send_response(200)
            h.send_header("Content-Type", str(action.get("content_type", "text/html")))
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)
        elif action.get("null_message"):
            completion = self._completion(body, mode, "{}", text)
            completion["choices"][0]["message"] = None
            self._send(h, 200, json.dumps(completion), {})
        elif "echo_auth" in action:
            echoed = f"bad request; headers were: Authorization: {h.headers.get('Authorization')}"
            self._send(h, int(action["echo_auth"]), json.dumps({"error": {"message": echoed}}), {})
        elif "trickle" in action:
            h.send_response(200)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            try:
                while True:
                    h.wfile.write(b" ")
                    h.wfile.flush()
                    time.sleep(float(action["trickle"]))
            except OSError:
                pass
        else:
            return False
        return True

    @staticmethod
    def _completion(body: dict[str, Any], mode: str, content: str, sent: str) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if mode == "tools":
            name = body["tool_choice"]["function"]["name"]
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": name, "arguments": content}}
                ],
            }
        return {
            "id": "chatcmpl-scripted",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "scripted"),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": len(sent) // 2,
                "completion_tokens": len(content) // 2,
                "total_tokens": len(sent) // 2 + len(content) // 2,
            },
        }

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: str, headers: dict[str, str]) -> None:
        data = payload.encode("utf-8")
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)


# ---------------------------------------------------------------- answers for the script
def rule_truth(path: Any) -> tuple[str, Any, dict[str, Any]]:
    """(text, located, rule reads) of a report — the reference for scripted answers."""
    from extractor.pipeline import read_tables
    from extractor.read.load import load_path
    from extractor.tables.locate import locate, strip_page_furniture

    text = strip_page_furniture(load_path(path).text)
    located = locate(text)
    return text, located, read_tables(text, located)


def answer_rows(read: Any, template: str) -> list[dict[str, Any]]:
    """The correct answer rows for a rule read (labels as printed, values as read)."""
    from extractor.llm.schema import canonical_rows

    rows = canonical_rows(read.key, template, read.variant if read.key == "applications" else None)
    out = []
    for r in rows:
        hit = read.labels.get(r.key)
        label = hit.printed if hit is not None and hit.match == "exact" and hit.printed else r.label
        cols = read.values[r.key]
        values = [
            cols.get("amount_text") if c == "amount" and cols.get("amount_text") else cols[c]
            for c in r.columns
        ]
        out.append({"label": label, "values": values})
    return out


def dump(rows: list[dict[str, Any]]) -> str:
    return json.dumps({"rows": rows}, ensure_ascii=False)
