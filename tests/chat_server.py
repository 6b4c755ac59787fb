"""A scripted OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, replies chosen by the test.

The director and critic are tested against a real server with a real model in
tests/test_model_server.py (llama.cpp's server and a small GGUF). This one stays for what that
server cannot be made to do on cue: refuse `response_format` json_schema (as llama-cpp-python's
does), `chat_template_kwargs` or a field it does not know, answer vLLM's context-length error, stop at
finish_reason "length", send exact replies (a plan with given slips, garbage twice, a verdict outside
the label set)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def completion(text: str, model: str | None = None, finish_reason: str = "stop", usage: dict | None = None) -> dict:
    return {"id": "x", "object": "chat.completion", "model": model, "usage": usage or {},
            "choices": [{"index": 0, "finish_reason": finish_reason, "message": {"role": "assistant", "content": text}}]}


class ChatServer:
    """Answers POST /v1/chat/completions with the scripted replies in order (the last one repeats)
    and records every request it got."""

    def __init__(self, replies: list[str] | None = None, answer=None, models: tuple[str, ...] = ()):
        """`replies` in order, or `answer(body)` to choose a reply from the request. A reply is the
        message text, or (HTTP code, JSON body) for an error, or a dict: the whole completion."""
        self.replies, self.answer, self.requests = replies or [], answer, []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                if self.path == "/v1/models":
                    self._send(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in models]})
                else:
                    self._send(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                reply = (server.answer(body) if server.answer else
                         server.replies[min(len(server.requests) - 1, len(server.replies) - 1)])
                if isinstance(reply, tuple):
                    self._send(*reply)
                    return
                self._send(200, reply if isinstance(reply, dict) else completion(reply, body.get("model")))

            def _send(self, code: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # keep pytest output clean
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
