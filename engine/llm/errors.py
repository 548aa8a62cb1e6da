"""The LLM layer's exceptions: one hierarchy, whatever the provider.

Backends translate their SDK's exceptions into these, so callers (and the retry
loop) never need to know which SDK raised. Every message names the problem and,
where there is one, the fix.
"""

from __future__ import annotations


class LLMError(Exception):
    """Base class of every error raised by `undertow.engine.llm`."""

    #: Whether trying the same request again may succeed (read by the retry loop).
    retryable: bool = False


class LLMConfigError(LLMError, ValueError):
    """The client is set up wrongly (bad spec string, missing key, bad option)."""


class MissingAPIKeyError(LLMConfigError):
    """The API key was neither passed nor found in its environment variable."""

    def __init__(self, provider: str, env_var: str) -> None:
        self.provider = provider
        self.env_var = env_var
        super().__init__(
            f"no API key for {provider}: set the environment variable {env_var} "
            f"or pass api_key=... to the client"
        )

    def __reduce__(self) -> tuple:  # picklable: a worker process can report it
        return (type(self), (self.provider, self.env_var))


class LLMAPIError(LLMError):
    """The provider answered with an HTTP error status."""

    def __init__(self, message: str, *, status: int | None = None,
                 retry_after: float | None = None, retryable: bool = False,
                 provider: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.retryable = retryable
        self.provider = provider


class LLMTimeoutError(LLMError):
    """The request did not complete within its timeout."""

    retryable = True


class LLMConnectionError(LLMError):
    """The server could not be reached, or the connection broke mid-reply."""

    retryable = True


class MalformedResponseError(LLMError):
    """The server answered, but its body is not a valid reply (bad JSON, cut stream)."""


class RetriesExhaustedError(LLMError):
    """A retryable error persisted through every configured attempt.

    `last_error` is the error of the final attempt; `attempts` counts every try.
    """

    def __init__(self, last_error: LLMError, attempts: int) -> None:
        self.last_error = last_error
        self.attempts = attempts
        self.status = getattr(last_error, "status", None)
        super().__init__(
            f"gave up after {attempts} attempt(s) (max_retries={attempts - 1}); "
            f"last error: {last_error}")

    def __reduce__(self) -> tuple:  # picklable: a worker process can report it (a pool
        return (type(self), (self.last_error, self.attempts))  # breaks on one it cannot read)
