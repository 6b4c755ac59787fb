"""llama.cpp's own HTTP server (`llama-server`), from the `xllamacpp` wheel, in this process until
SIGTERM: `python -m tests.llama_server_main --model M.gguf --alias NAME --ctx N --port P`
(what `llama-server -m M.gguf --alias NAME -c N --port P --jinja --chat-template chatml -t 1` runs).

xllamacpp builds the server from llama.cpp's CommonParams, the same fields `llama-server`'s flags
set (`-m`, `--alias`, `-c`, `-t`, `--host`, `--port`, `--jinja`, `--chat-template`); `Server(...)`
returns once the model is loaded and the port listens, and serves until the object is dropped."""

from __future__ import annotations

import argparse
import signal
import threading


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--alias", required=True)
    ap.add_argument("--ctx", type=int, required=True)
    ap.add_argument("--port", type=int, required=True)
    # One thread: llama.cpp's threads wait for each other at every matrix product, and on two cores
    # that the other test workers keep busy two threads generated 0.4 tokens/s against one thread's
    # 4.7 (measured on this project's shared machine: a ~200-token prompt, a 25-token reply).
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--chat-template", default="chatml")
    args = ap.parse_args()

    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = args.model
    params.model_alias = {args.alias}
    params.n_ctx = args.ctx
    params.cpuparams.n_threads = params.cpuparams_batch.n_threads = args.threads
    params.hostnames = ["127.0.0.1"]
    params.port = args.port
    params.use_jinja = True  # as `llama-server --jinja`: chat_template_kwargs and tool templates are read
    params.chat_template = args.chat_template  # the GGUF has none; ChatML keeps the system prompt
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    server = xllamacpp.Server(params)
    print(f"serving {args.alias} at {server.listening_address}", flush=True)
    stop.wait()
    del server  # its destructor stops the HTTP threads and the main loop


if __name__ == "__main__":
    main()
