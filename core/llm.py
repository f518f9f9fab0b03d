"""Talk to models through litellm; record tokens, cost and latency of every call.

Any litellm model string works: ``openai/gpt-5-mini``, ``anthropic/...``,
``ollama/llama3``, or ``openai/<name>`` with ``api_base`` for a local
OpenAI-compatible server.  litellm is imported only when a model is called
(it takes seconds to import), with its bundled cost map (no network lookup).

The pseudo-model ``reference`` is not an LLM: it answers known benchmark
questions with curated solutions (:mod:`vibeplot.core.reference`).

>>> reply = complete("openai/gpt-5-mini", [{"role": "user", "content": "hi"}])  # doctest: +SKIP
>>> reply.prompt_tokens, reply.cost_usd                                          # doctest: +SKIP
(8, 1.2e-05)
"""

from __future__ import annotations

import functools
import os
import time
from dataclasses import asdict, dataclass

from . import config
from .errors import ConfigError, ModelCallError

REFERENCE_MODEL = "reference"


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

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("text")
        return data


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


def complete(
    model: str,
    messages: list[dict],
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    use_cache: bool = True,
    num_retries: int = 3,
    timeout: float = 600.0,
    temperature: float | None = None,
) -> Reply:
    """One chat completion, with retries (rate limits, timeouts) and the disk cache."""
    litellm = _litellm()
    if use_cache:
        _enable_cache(str(config.cache_dir() / "llm-cache"))
    kwargs = dict(model=model, messages=messages, num_retries=num_retries, timeout=timeout)
    if use_cache:
        kwargs["cache"] = {"use-cache": True}
    if api_base:
        kwargs["api_base"] = api_base
        # OpenAI-compatible local servers usually ignore the key, but the client wants one.
        kwargs["api_key"] = api_key or os.environ.get("OPENAI_API_KEY") or "no-key"
    elif api_key:
        kwargs["api_key"] = api_key
    if temperature is not None:
        kwargs["temperature"] = temperature
    import openai  # litellm's exceptions derive from the openai client's

    start = time.perf_counter()
    try:
        response = litellm.completion(**kwargs)
    except litellm.exceptions.AuthenticationError as err:
        raise ConfigError(
            f"the provider rejected the credentials for {model}: {_first_line(err)}",
            hint="check the API key, or pick another model with --model",
        ) from None
    except (litellm.exceptions.APIConnectionError, litellm.exceptions.NotFoundError,
            litellm.exceptions.BadRequestError) as err:
        where = f" at {api_base}" if api_base else ""
        raise ConfigError(f"cannot use model {model}{where}: {_first_line(err)}",
                          hint="check --model and --api-base (is the server running?)") from None
    except openai.APIError as err:  # rate limits, timeouts, outages after all retries
        raise ModelCallError(f"the call to {model} failed after {num_retries} retries: {_first_line(err)}",
                             hint="is the provider up, or the server at --api-base running?") from None
    latency = time.perf_counter() - start
    hidden = getattr(response, "_hidden_params", {}) or {}
    usage = getattr(response, "usage", None)
    return Reply(
        text=response.choices[0].message.content or "",
        model=model,
        prompt_tokens=getattr(usage, "prompt_tokens", None),
        completion_tokens=getattr(usage, "completion_tokens", None),
        cost_usd=_cost(litellm, response, model),
        latency_s=latency,
        cache_hit=bool(hidden.get("cache_hit")),
    )


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
