"""Model backends behind one interface: OpenAI-compatible HTTP, record/replay cassettes, scripted.

Every backend has ``complete(messages, *, n, temperature, seed, max_tokens) -> list[Completion]``
(research notes ``llm_rewards.md`` §8.3). :class:`OpenAICompatBackend` is the only network code
of the package: stdlib ``urllib`` against ``POST {base_url}/chat/completions`` (vLLM, Ollama,
llama.cpp's ``llama-server``, FastChat, and our own loopback server for the local model,
:mod:`rewardgym.wrappers.llm.server`), no SDK. It emulates ``n`` with single requests
(``seed + i``) where a server returns fewer choices (Ollama documents no ``n``), retries 429 and
5xx with exponential backoff (honouring a numeric ``Retry-After``), retries timeouts, and marks a
choice cut off by ``max_tokens`` (``finish_reason == "length"``) as truncated.

:class:`RecordingBackend` writes one JSON cassette per request, keyed by a hash of the request,
with provenance (server, model id, time); :class:`ReplayBackend` answers from cassettes only
(strict: a miss raises :class:`CassetteMiss`, what CI runs), so a run replays bit-identically.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

Message = dict[str, str]


class BackendError(RuntimeError):
    """A backend could not produce completions (HTTP error, timeout, bad reply)."""


class CassetteMiss(BackendError):
    """Strict replay found no cassette for a request."""


@dataclass
class Completion:
    """One choice of a chat completion, with where it came from."""

    text: str
    finish_reason: str | None = "stop"
    model: str = ""
    server: str = ""
    created: str = ""
    usage: dict[str, Any] = field(default_factory=dict)

    @property
    def truncated(self) -> bool:
        """True when ``max_tokens`` cut the reply off."""
        return self.finish_reason == "length"

    @property
    def provenance(self) -> dict[str, str]:
        """Server, model id and time, for artefacts."""
        return {"server": self.server, "model": self.model, "time": self.created}


class LLMBackend(Protocol):
    """What every backend offers."""

    name: str
    model: str

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 1.0,
                 seed: int | None = None, max_tokens: int = 1024) -> list[Completion]:
        """``n`` completions of a chat."""
        ...


def request_key(model: str, messages: Sequence[Message], n: int, temperature: float,
                seed: int | None, max_tokens: int,
                options: Mapping[str, Any] | None = None) -> str:
    """The cassette key: SHA-256 of the canonical request.

    ``options`` (a backend's extra body fields: stop strings, penalties) enter the key when
    given, so a request sampled differently never replays another's reply; without them the
    key is what it always was (older cassettes still replay).
    """
    body = {"schema": 1, "model": model, "messages": list(messages), "n": n,
            "temperature": temperature, "seed": seed, "max_tokens": max_tokens}
    if options:
        body["options"] = dict(options)
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class OpenAICompatBackend:
    """Chat completions from any OpenAI-compatible server (``/v1/chat/completions``).

    Args:
        base_url: e.g. ``http://127.0.0.1:8000/v1``; default ``$LLM_BASE_URL``.
        model: model id sent in requests; default ``$LLM_MODEL``.
        api_key: bearer token; default ``$LLM_API_KEY`` (none: no header).
        timeout: seconds per HTTP request.
        max_retries: retries on 429, 5xx and timeouts.
        backoff: first retry wait in seconds (doubles each retry, capped at 30 s).
        options: extra fields of every request body, e.g. ``{"stop": ["```"],
            "repetition_penalty": 1.1}`` (OpenAI's ``stop``; vLLM's extra sampling parameters,
            which our local server honours too). They enter the cassette key.

    A chat whose last message is an assistant turn is a prefill: the request asks the server
    to continue that turn (vLLM's ``continue_final_message`` with ``add_generation_prompt``
    off), and each returned text starts with the prefill (prepended where the server returned
    the continuation only), so the caller reads whole replies.

    Example:
        >>> backend = OpenAICompatBackend("http://127.0.0.1:9/v1", "m", timeout=1, max_retries=0)
        >>> backend.name, backend.model
        ('openai-compat:http://127.0.0.1:9/v1', 'm')
    """

    def __init__(self, base_url: str | None = None, model: str | None = None,
                 api_key: str | None = None, *, timeout: float = 120.0, max_retries: int = 5,
                 backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep,
                 options: Mapping[str, Any] | None = None) -> None:
        base_url = base_url if base_url is not None else os.environ.get("LLM_BASE_URL")
        model = model if model is not None else os.environ.get("LLM_MODEL")
        if not base_url:
            raise ValueError("OpenAICompatBackend: no base_url (pass one or set LLM_BASE_URL, "
                             "e.g. http://127.0.0.1:8000/v1)")
        if not model:
            raise ValueError("OpenAICompatBackend: no model (pass one or set LLM_MODEL)")
        if timeout <= 0 or max_retries < 0 or backoff < 0:
            raise ValueError(f"OpenAICompatBackend: timeout must be > 0, max_retries and backoff "
                             f">= 0 (got {timeout}, {max_retries}, {backoff})")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key if api_key is not None else os.environ.get("LLM_API_KEY")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self._sleep = sleep
        self.options = dict(options or {})
        reserved = sorted(set(self.options) & {"model", "messages", "n", "temperature",
                                                "max_tokens", "seed", "stream"})
        if reserved:
            raise ValueError(f"OpenAICompatBackend: options may not set {reserved} (they are "
                             "complete()'s arguments)")
        self.name = f"openai-compat:{self.base_url}"

    def _post(self, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
        url = f"{self.base_url}{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = None if body is None else json.dumps(body).encode()
        last = ""
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(url, data=data, headers=headers,
                                         method="GET" if body is None else "POST")
            wait = min(self.backoff * 2**attempt, 30.0)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                    return json.loads(resp.read().decode())
            except urllib.error.HTTPError as err:
                text = err.read().decode(errors="replace")[:500]
                if err.code != 429 and err.code < 500:
                    raise BackendError(f"{url}: HTTP {err.code}: {text}") from None
                last = f"HTTP {err.code}: {text}"
                retry_after = err.headers.get("Retry-After") if err.headers else None
                if retry_after and retry_after.replace(".", "", 1).isdigit():
                    wait = min(float(retry_after), 30.0)
            except TimeoutError as err:
                last = f"timed out after {self.timeout:g} s ({err})"
            except urllib.error.URLError as err:
                if isinstance(err.reason, TimeoutError | socket.timeout):
                    last = f"timed out after {self.timeout:g} s"
                else:
                    raise BackendError(f"{url}: cannot connect ({err.reason})") from None
            except ValueError as err:
                raise BackendError(f"{url}: the reply is not JSON ({err})") from None
            if attempt < self.max_retries:
                self._sleep(wait)
        raise BackendError(f"{url}: gave up after {self.max_retries + 1} tries; last: {last}")

    def models(self) -> list[str]:
        """Model ids the server lists (``GET /models``; a health check)."""
        reply = self._post("/models", None)
        return [m.get("id", "") for m in reply.get("data", [])]

    def _request(self, messages: Sequence[Message], n: int, temperature: float,
                 seed: int | None, max_tokens: int) -> list[Completion]:
        body: dict[str, Any] = {**self.options, "model": self.model, "messages": list(messages),
                                "n": n, "temperature": temperature, "max_tokens": max_tokens,
                                "stream": False}
        prefill = ""
        if messages and messages[-1].get("role") == "assistant":
            prefill = messages[-1].get("content", "")
            body.update(continue_final_message=True, add_generation_prompt=False)
        if seed is not None:
            body["seed"] = seed
        reply = self._post("/chat/completions", body)
        try:
            choices = reply["choices"]
            created = reply.get("created")
            when = datetime.fromtimestamp(created, UTC).isoformat(timespec="seconds") \
                if isinstance(created, int | float) else _now()
            return [Completion(text=_with_prefill(prefill, c["message"]["content"] or ""),
                               finish_reason=c.get("finish_reason"),
                               model=str(reply.get("model", self.model)), server=self.base_url,
                               created=when, usage=dict(reply.get("usage") or {}))
                    for c in choices]
        except (KeyError, TypeError) as err:
            raise BackendError(f"{self.base_url}: malformed chat completion ({err!r}): "
                               f"{json.dumps(reply)[:300]}") from None

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 1.0,
                 seed: int | None = None, max_tokens: int = 1024) -> list[Completion]:
        """``n`` completions; single requests with ``seed + i`` fill in what the server skipped."""
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        out = self._request(messages, n, temperature, seed, max_tokens)[:n]
        i = len(out)
        while len(out) < n:
            more = self._request(messages, 1, temperature, None if seed is None else seed + i,
                                 max_tokens)
            if not more:
                raise BackendError(f"{self.base_url}: the server returned no choices")
            out.append(more[0])
            i += 1
        return out


def _with_prefill(prefill: str, text: str) -> str:
    """The whole reply of a prefilled turn (servers differ on whether they echo the prefill)."""
    return text if text.startswith(prefill) else prefill + text


class ScriptedBackend:
    """Completions from a list (consumed in order) or a function ``(messages, i) -> text``.

    Example:
        >>> b = ScriptedBackend(["one", "two"])
        >>> [c.text for c in b.complete([{"role": "user", "content": "hi"}], n=2)]
        ['one', 'two']
    """

    def __init__(self, script: Sequence[str] | Callable[[Sequence[Message], int], str], *,
                 model: str = "scripted") -> None:
        self.script = script
        self.model = model
        self.name = "scripted"
        self.requests: list[list[Message]] = []
        self._i = 0

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 1.0,
                 seed: int | None = None, max_tokens: int = 1024) -> list[Completion]:
        """The next ``n`` scripted texts."""
        self.requests.append(list(messages))
        out = []
        for _ in range(n):
            if callable(self.script):
                text = self.script(messages, self._i)
            else:
                if self._i >= len(self.script):
                    raise BackendError(f"ScriptedBackend: script exhausted after {self._i} "
                                       "completions")
                text = self.script[self._i]
            self._i += 1
            out.append(Completion(text, "stop", self.model, "scripted", _now()))
        return out


class RecordingBackend:
    """Pass requests to ``inner`` and write each exchange to ``<directory>/<key>.json``.

    Example:
        >>> import tempfile
        >>> folder = tempfile.mkdtemp()
        >>> rec = RecordingBackend(ScriptedBackend(["x"]), folder)
        >>> _ = rec.complete([{"role": "user", "content": "hi"}])
        >>> [c.text for c in ReplayBackend(folder).complete([{"role": "user", "content": "hi"}])]
        ['x']
    """

    def __init__(self, inner: LLMBackend, directory: str | Path) -> None:
        self.inner = inner
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.model = inner.model
        self.options: dict[str, Any] = dict(getattr(inner, "options", None) or {})
        self.name = f"record:{inner.name}"

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 1.0,
                 seed: int | None = None, max_tokens: int = 1024) -> list[Completion]:
        """Ask ``inner`` and record the exchange."""
        out = self.inner.complete(messages, n=n, temperature=temperature, seed=seed,
                                  max_tokens=max_tokens)
        key = request_key(self.model, messages, n, temperature, seed, max_tokens, self.options)
        request = {"model": self.model, "messages": list(messages), "n": n,
                   "temperature": temperature, "seed": seed, "max_tokens": max_tokens}
        if self.options:
            request["options"] = self.options
        record = {"key": key, "backend": self.inner.name, "recorded": _now(),
                  "request": request,
                  "completions": [asdict(c) for c in out]}
        path = self.directory / f"{key}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1, sort_keys=True))
        os.replace(tmp, path)
        return out


class ReplayBackend:
    """Answer from cassettes written by :class:`RecordingBackend`.

    Args:
        directory: the cassette folder.
        model: the model id the requests were recorded with (default: read from the cassettes).
        strict: a miss raises :class:`CassetteMiss` (else ``fallback`` answers).
        fallback: backend for misses when not strict.
        options: the recording backend's extra body fields (they are part of the key).
    """

    def __init__(self, directory: str | Path, *, model: str | None = None, strict: bool = True,
                 fallback: LLMBackend | None = None,
                 options: Mapping[str, Any] | None = None) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise ValueError(f"ReplayBackend: no cassette folder {self.directory}")
        if model is None:
            models = {json.loads(p.read_text())["request"]["model"]
                      for p in sorted(self.directory.glob("*.json"))}
            if len(models) > 1:
                raise ValueError(f"ReplayBackend: cassettes of several models {sorted(models)}; "
                                 "pass model=")
            model = models.pop() if models else "unknown"
        self.model = model
        self.options = dict(options or {})
        self.strict = strict
        self.fallback = fallback
        self.name = f"replay:{self.directory}"

    def complete(self, messages: Sequence[Message], *, n: int = 1, temperature: float = 1.0,
                 seed: int | None = None, max_tokens: int = 1024) -> list[Completion]:
        """The recorded completions of exactly this request."""
        key = request_key(self.model, messages, n, temperature, seed, max_tokens, self.options)
        path = self.directory / f"{key}.json"
        if not path.exists():
            if self.strict or self.fallback is None:
                raise CassetteMiss(f"no cassette {key[:16]}... in {self.directory} for this "
                                   "request (re-record it with a RecordingBackend)")
            return self.fallback.complete(messages, n=n, temperature=temperature, seed=seed,
                                          max_tokens=max_tokens)
        record = json.loads(path.read_text())
        return [Completion(**c) for c in record["completions"]]
