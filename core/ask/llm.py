"""Talk to models through litellm; record tokens, cost and latency of every call.

Any litellm model string works: ``openai/gpt-5-mini``, ``anthropic/...``,
``ollama/llama3``, or ``openai/<name>`` with ``api_base`` for a local
OpenAI-compatible server.  litellm is imported only when a model is called
(it takes seconds to import), with its bundled cost map (no network lookup).

The pseudo-model ``reference`` is not an LLM: it answers known benchmark
questions with curated solutions (:mod:`vibeplot.core.ask.oracle`).

Faulty or hostile servers (see :func:`complete`): every try of a call has a
wall-clock ``timeout`` and all retries of one call end by a deadline; a reply
without token usage is counted with litellm's token counter and priced from
its cost map (``tokens_estimated``); text no file can hold (lone surrogates)
is turned into backslash escapes; with ``api_base`` only an explicit key is sent.

>>> reply = complete("openai/gpt-5-mini", [{"role": "user", "content": "hi"}])  # doctest: +SKIP
>>> reply.prompt_tokens, reply.cost_usd                                          # doctest: +SKIP
(8, 1.2e-05)
"""

from __future__ import annotations

import functools
import math
import os
import threading
import time
from dataclasses import asdict, dataclass, field

from vibeplot.core import config
from vibeplot.core.errors import ConfigError, ModelCallError, VibeplotError

REFERENCE_MODEL = "reference"
#: seconds one try of a model call may take (``--llm-timeout``, setting ``llm_timeout``)
DEFAULT_TIMEOUT = 120.0
#: retries of one call after a timeout, rate limit, server error or dropped connection
DEFAULT_RETRIES = 3
#: the key sent to an ``--api-base`` server when the user gave none (never a provider key
#: from the environment)
NO_KEY = "no-key"


@dataclass
class Reply:
    text: str
    model: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: USD from litellm's cost map; None when the price is unknown (never a made-up 0)
    cost_usd: float | None = None
    latency_s: float = 0.0
    cache_hit: bool = False
    #: the server reported no token usage: tokens counted with litellm's token counter,
    #: cost priced from them
    tokens_estimated: bool = False
    #: cost from a price the user gave (``--price`` or the ``prices`` config table), not litellm's map
    user_priced: bool = False

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("text")
        return data


def timeout_setting(cli_value: float | None = None) -> float:
    """``--llm-timeout``, else ``VIBEPLOT_LLM_TIMEOUT``, else ``llm_timeout`` in the config file,
    else :data:`DEFAULT_TIMEOUT`: seconds one try of a model call may take."""
    value = config.setting("llm_timeout", cli_value, DEFAULT_TIMEOUT)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise ConfigError(f"llm_timeout must be a positive number of seconds, not {value!r}",
                          hint="e.g. --llm-timeout 120, VIBEPLOT_LLM_TIMEOUT=120 or llm_timeout = 120 in the config")
    return seconds


def key_setting(cli_value: str | None = None) -> str | None:
    """``--api-key``, else ``VIBEPLOT_API_KEY``, else ``api_key`` in the config file: the only key
    sent to an ``--api-base`` server (see :func:`complete`)."""
    return config.setting("api_key", cli_value) or None


@functools.cache
def _litellm():
    # Use the cost map bundled with the installed litellm; never fetch it at start.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    litellm.drop_params = True  # e.g. temperature for models that reject it
    return litellm


@functools.cache
def _enable_cache(directory: str) -> None:
    litellm = _litellm()
    from litellm.caching.caching import Cache, CacheMode

    # opt-in per call (``cache={"use-cache": True}``), so --no-cache simply leaves it out
    litellm.cache = Cache(type="disk", disk_cache_dir=directory, mode=CacheMode.default_off)


def check_credentials(model: str, api_base: str | None = None, api_key: str | None = None) -> None:
    """Fail early, in one line, when ``model`` needs a key that is not set."""
    litellm = _litellm()
    try:
        litellm.get_llm_provider(model)
    except Exception:
        raise ConfigError(
            f"litellm does not know which provider serves {model!r}",
            hint="name the provider, e.g. openai/gpt-5-mini, anthropic/claude-sonnet-4-5, ollama/llama3 "
            "(or --model reference for the curated offline solutions)",
        ) from None
    if api_key or api_base:
        return  # a local server or an explicit key: nothing to check here
    for name in [k for k, v in os.environ.items() if not v.strip() and k.endswith(("_KEY", "_TOKEN"))]:
        del os.environ[name]  # an empty key is a missing key
    missing = [
        k for k in litellm.validate_environment(model=model).get("missing_keys", [])
        if not k.endswith(("_API_BASE", "_BASE_URL"))
    ]
    if missing:
        raise ConfigError(
            f"model {model} needs {' and '.join(missing)} in the environment",
            hint="export it, or pick another model with --model (a local server: --model openai/NAME "
            "--api-base http://localhost:PORT/v1; offline: --model reference)",
        )


def clean_text(text: str) -> str:
    """``text`` as valid UTF-8: lone surrogates, which no file or request body can carry, become
    backslash escapes (what ``errors="backslashreplace"`` writes).

    >>> clean_text("ok \\ud800 end") == "ok " + "\\\\" + "ud800 end"
    True
    >>> clean_text("plain") == "plain"
    True
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _NoAnswer(Exception):
    pass


def _call_within(seconds: float, fn, **kwargs):
    """``fn(**kwargs)`` given up after ``seconds`` of wall time.  httpx's timeout is per read, so a
    server trickling bytes could hold a call forever; the call runs in a daemon thread instead."""
    done, box = threading.Event(), {}

    def target():
        try:
            box["value"] = fn(**kwargs)
        except BaseException as err:  # handed to the caller
            box["error"] = err
        finally:
            done.set()

    threading.Thread(target=target, daemon=True, name="vibeplot-llm-call").start()
    if not done.wait(seconds + 1.0):  # a second's grace: httpx's own timeout usually ends it first
        raise _NoAnswer(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


def complete(
    model: str,
    messages: list[dict],
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    use_cache: bool = True,
    num_retries: int = DEFAULT_RETRIES,
    timeout: float = DEFAULT_TIMEOUT,
    deadline: float | None = None,
    temperature: float | None = None,
) -> Reply:
    """One chat completion, with retries (rate limits, timeouts) and the disk cache.

    Every try may take ``timeout`` seconds of wall time; timeouts, rate limits, server errors and
    dropped connections are retried up to ``num_retries`` times with backoff (1, 2, 4, ... s), and
    all tries together end by ``deadline`` seconds (default ``(num_retries + 1) * timeout``), then
    :class:`ModelCallError`.  A refused connection (nothing listens at the address) is not retried.  With ``api_base`` only ``api_key`` is sent (else :data:`NO_KEY`), never
    a provider key from the environment.  A server that echoes ``api_key`` back, in a reply or
    an error, gets it replaced by ``***`` before anything is shown or recorded.
    """
    try:
        reply = _complete(model, messages, api_base=api_base, api_key=api_key, use_cache=use_cache,
                          num_retries=num_retries, timeout=timeout, deadline=deadline, temperature=temperature)
    except VibeplotError as err:
        if _secret(api_key) and api_key in str(err):
            raise type(err)(str(err).replace(api_key, "***"), hint=err.hint) from None
        raise
    if _secret(api_key):
        reply.text = reply.text.replace(api_key, "***")
    return reply


def _secret(api_key: str | None) -> bool:
    return bool(api_key) and len(api_key) >= 8  # a shorter "key" is a placeholder, not a secret


def _complete(model, messages, *, api_base, api_key, use_cache, num_retries, timeout, deadline, temperature) -> Reply:
    litellm = _litellm()
    if use_cache:
        _enable_cache(str(config.cache_dir() / "llm-cache"))
    messages = [{**m, "content": clean_text(m["content"])} if isinstance(m.get("content"), str) else m
                for m in messages]
    # no retries inside litellm or the openai client: they are done here, within the deadline
    kwargs = dict(model=model, messages=messages, num_retries=0, max_retries=0)
    if use_cache:  # stored below, once the text is cleaned (litellm cannot store a lone surrogate)
        kwargs["cache"] = {"use-cache": True, "no-store": True}
    if api_base:
        kwargs["api_base"] = api_base
        # only a key the user gave goes to a server they named; the client needs some key
        kwargs["api_key"] = api_key or NO_KEY
    elif api_key:
        kwargs["api_key"] = api_key
    if temperature is not None:
        kwargs["temperature"] = temperature
    import openai  # litellm's exceptions derive from the openai client's

    exc = litellm.exceptions
    deadline = (num_retries + 1) * timeout if deadline is None else deadline
    start = time.perf_counter()
    end = time.monotonic() + deadline
    response, tries = None, 0
    while response is None:
        tries += 1
        budget = min(timeout, end - time.monotonic())
        try:
            response = _call_within(budget, litellm.completion, **kwargs, timeout=budget)
        except exc.AuthenticationError as err:
            raise ConfigError(
                f"the provider rejected the credentials for {model}: {_first_line(err)}",
                hint="check the API key (--api-key for an --api-base server), or pick another model with --model",
            ) from None
        except (exc.NotFoundError, exc.BadRequestError) as err:
            raise ConfigError(f"cannot use model {model}{_at(api_base)}: {_first_line(err)}",
                              hint="check --model and --api-base (is the server running?)") from None
        except (_NoAnswer, openai.APIError) as err:  # timeouts, rate limits, outages, dropped connections
            pause = min(2.0 ** (tries - 1), 8.0)
            if _refused(err):  # nobody listens there: waiting seconds for a retry will not start the server
                raise _gave_up(err, model, api_base, tries, budget, time.perf_counter() - start) from None
            if tries > num_retries or end - time.monotonic() - pause < min(1.0, timeout):
                raise _gave_up(err, model, api_base, tries, budget, time.perf_counter() - start) from None
            time.sleep(pause)
        except Exception as err:  # anything else litellm raises on a reply it cannot read
            raise ModelCallError(f"unreadable reply from {model}{_at(api_base)}: {type(err).__name__}: "
                                 f"{_first_line(err)}") from None
    latency = time.perf_counter() - start
    hidden = getattr(response, "_hidden_params", {}) or {}
    try:
        text = response.choices[0].message.content or ""
    except (AttributeError, IndexError, TypeError):
        raise ModelCallError(f"the reply from {model}{_at(api_base)} held no message") from None
    text = clean_text(text if isinstance(text, str) else str(text))
    if use_cache and not hidden.get("cache_hit") and litellm.cache is not None:
        response.choices[0].message.content = text
        litellm.cache.add_cache(response, **kwargs)  # logs, never raises, if it cannot
    usage = getattr(response, "usage", None)
    prompt_tokens = getattr(usage, "prompt_tokens", None)
    completion_tokens = getattr(usage, "completion_tokens", None)
    # litellm fills in zeros when the server sent no usage; no real prompt is 0 tokens
    estimated = not prompt_tokens and not completion_tokens
    if estimated:
        prompt_tokens = _count(litellm, model, messages=messages)
        completion_tokens = _count(litellm, model, text=text)
        cost = _price(litellm, model, prompt_tokens, completion_tokens)
    else:
        cost = _cost(litellm, response, model)
    price = user_price(model)
    if price is not None:  # the user's price wins over litellm's map
        cost = (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6
    return Reply(
        text=text,
        model=model,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost,
        latency_s=latency,
        cache_hit=bool(hidden.get("cache_hit")),
        tokens_estimated=estimated,
        user_priced=price is not None,
    )


#: prices given in this process (``compare --price``), USD per million (input, output) tokens, by model
_USER_PRICES: dict[str, tuple[float, float]] = {}


def parse_price(text: str) -> tuple[str, tuple[float, float]]:
    """``MODEL=IN/OUT`` (USD per million input and output tokens) as ``(model, (in, out))``.

    >>> parse_price("ollama/llama3.1=0/0"), parse_price("my/model=0.15/0.6")
    (('ollama/llama3.1', (0.0, 0.0)), ('my/model', (0.15, 0.6)))
    """
    model, sep, rest = str(text).rpartition("=")
    try:
        if not sep or not model.strip():
            raise ValueError
        return model.strip(), _price_pair(rest)
    except ValueError:
        raise ConfigError(f"bad price {text!r}", hint="give MODEL=IN/OUT in USD per million tokens, "
                                                      "e.g. ollama/llama3.1=0/0") from None


def _price_pair(value) -> tuple[float, float]:
    parts = value.split("/") if isinstance(value, str) else list(value)
    pair = tuple(float(p) for p in parts)
    if len(pair) != 2 or not all(math.isfinite(p) and p >= 0 for p in pair):
        raise ValueError(value)
    return pair


def set_prices(prices: dict[str, tuple[float, float]]) -> None:
    """Use ``prices`` (model -> USD per million input, output tokens) in this process, over the
    ``prices`` config table and litellm's map (added to the prices set before)."""
    _USER_PRICES.update({m: _price_pair(v) for m, v in prices.items()})


def user_price(model: str) -> tuple[float, float] | None:
    """The user's price of ``model`` (USD per million input, output tokens): from :func:`set_prices`
    (``--price``), else the config file's ``prices`` table (``"MODEL" = "IN/OUT"``); None if none."""
    if model in _USER_PRICES:
        return _USER_PRICES[model]
    table = config.setting("prices", None, {})
    if isinstance(table, str):  # $VIBEPLOT_PRICES: MODEL=IN/OUT, comma-separated
        table = dict(parse_price(p) for p in table.split(",") if p.strip())
    if not isinstance(table, dict) or model not in table:
        return None
    try:
        return _price_pair(table[model])
    except (TypeError, ValueError):
        raise ConfigError(f"bad price for {model} in the prices setting: {table[model]!r}",
                          hint='write "MODEL" = "IN/OUT" in USD per million tokens') from None


def _gave_up(err: Exception, model: str, api_base: str | None, tries: int, timeout: float, spent: float):
    import openai

    litellm = _litellm()
    n = f"{tries} {'try' if tries == 1 else 'tries'}"
    if _refused(err):
        where = _at(api_base) or " (the provider's server)"
        return ModelCallError(f"cannot reach {model}{where}: connection refused, nothing listens there",
                              hint="start the model server, or check the host and port of --api-base")
    if isinstance(err, (_NoAnswer, litellm.exceptions.Timeout)):
        return ModelCallError(f"no answer from {model}{_at(api_base)} within {timeout:g} s ({n}, {spent:.0f} s in all)",
                              hint="is the server up? A slow model needs a larger --llm-timeout")
    if isinstance(err, openai.APIConnectionError):
        return ConfigError(f"cannot use model {model}{_at(api_base)}: {_first_line(err)}",
                           hint="check --model and --api-base (is the server running?)")
    return ModelCallError(f"the call to {model} failed after {n}: {_first_line(err)}",
                          hint="is the provider up, or the server at --api-base running?")


def _refused(err: BaseException) -> bool:
    """Whether the connection was refused (nothing listens at the address), anywhere in the chain.

    >>> try:
    ...     raise RuntimeError("Connection error.") from ConnectionRefusedError(111, "Connection refused")
    ... except RuntimeError as err:
    ...     _refused(err), _refused(TimeoutError())
    (True, False)
    """
    seen: set[int] = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, ConnectionRefusedError):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def _at(api_base: str | None) -> str:
    return f" at {api_base}" if api_base else ""


def _count(litellm, model: str, **what) -> int:
    """litellm's token counter; about 4 characters a token if it fails (never 0 for text)."""
    try:
        return int(litellm.token_counter(model=model, **what))
    except Exception:
        chars = sum(len(str(m.get("content") or "")) for m in what.get("messages", [])) + len(what.get("text", ""))
        return math.ceil(chars / 4)


def _price(litellm, model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    try:
        return float(sum(litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                completion_tokens=completion_tokens)))
    except Exception:  # no price in litellm's map
        return None


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]


def _cost(litellm, response, model: str) -> float | None:
    try:
        return float(litellm.completion_cost(completion_response=response, model=model))
    except Exception:  # litellm raises when the model has no price in its map
        return None


def count_tokens(model: str, text: str) -> int:
    """Tokens of ``text`` as ``model``'s tokenizer counts them (litellm's counter)."""
    return int(_litellm().token_counter(model=model, text=text))


@dataclass
class Model:
    """An LLM as the ask loop sees a model: ``reply(messages)`` is one :func:`complete` call
    (the oracle's counterpart is :class:`vibeplot.core.ask.oracle.Oracle`).  Built once per run,
    before any work: missing credentials are refused here (:func:`check_credentials`)."""

    name: str
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never shown or recorded
    use_cache: bool = True
    timeout: float = DEFAULT_TIMEOUT
    #: its scripts' histogrammed values are not recorded (only the oracle's give the truth)
    records_values = False

    def __post_init__(self):
        check_credentials(self.name, api_base=self.api_base, api_key=self.api_key)

    def reply(self, messages: list[dict]) -> Reply:
        return complete(self.name, messages, api_base=self.api_base, api_key=self.api_key,
                        use_cache=self.use_cache, timeout=self.timeout)
