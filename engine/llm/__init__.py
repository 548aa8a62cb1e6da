"""The LLM layer: one client for every provider, with cache, retries, rate limits,
accounting, budgets and structured output.

    from undertow.engine.llm import make_llm, Budget
    llm = make_llm("sim", cache_dir=False, budget=Budget(max_calls=100))
    reply = llm.complete("Sort these words: pear apple", purpose="forward")
    reply.text, reply.usage, reply.cost_usd, reply.cached

Backends: `openai:MODEL`, `anthropic:MODEL`, `openai-compatible:URL#MODEL`, `sim`.
The provider SDKs are imported only when a backend for them is built. The
simulated LLM lives in `undertow.bench.sim`, its HTTP server in
`undertow.bench.sim.server`. See docs/llm.md.
"""

from undertow.engine.llm.accounting import (
                                        DEFAULT_PRICES,
                                        Accounting,
                                        Budget,
                                        BudgetExceeded,
                                        Reservation,
                                        Spend,
)
from undertow.engine.llm.aio import run_sync
from undertow.engine.llm.backends.base import Backend
from undertow.engine.llm.cache import (
                                        ResponseCache,
                                        canonical_json,
                                        default_cache_dir,
                                        request_key,
)
from undertow.engine.llm.client import LLM, Prompt, to_messages
from undertow.engine.llm.errors import (
                                        LLMAPIError,
                                        LLMConfigError,
                                        LLMConnectionError,
                                        LLMError,
                                        LLMTimeoutError,
                                        MalformedResponseError,
                                        MissingAPIKeyError,
                                        RetriesExhaustedError,
)
from undertow.engine.llm.factory import make_backend, make_llm
from undertow.engine.llm.limits import Limiter, SpendLedger
from undertow.engine.llm.ratelimit import RateLimiter
from undertow.engine.llm.retry import RetryPolicy, parse_retry_after
from undertow.engine.llm.spec import Spec, SpecError, parse_spec
from undertow.engine.llm.structured import (
                                        StructuredOutputError,
                                        extract_json,
                                        parse_structured,
)
from undertow.engine.llm.traced import allm_call, llm_call, response_of
from undertow.engine.llm.types import LLMRequest, LLMResponse, Message, Reply, Usage

__all__ = [
    "DEFAULT_PRICES", "LLM", "Accounting", "Backend", "Budget", "BudgetExceeded", "LLMAPIError", "Reservation",
    "LLMConfigError", "LLMConnectionError", "LLMError", "LLMRequest", "LLMResponse",
    "LLMTimeoutError", "Limiter", "MalformedResponseError", "Message", "MissingAPIKeyError", "Prompt",
    "RateLimiter", "Reply", "ResponseCache", "RetriesExhaustedError", "RetryPolicy", "Spec",
    "SpecError", "Spend", "SpendLedger", "StructuredOutputError", "Usage", "canonical_json",
    "default_cache_dir", "extract_json", "make_backend", "make_llm", "parse_retry_after",
    "parse_spec", "parse_structured", "request_key", "run_sync", "to_messages",
    "allm_call", "llm_call", "response_of",
]
