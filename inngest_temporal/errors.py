"""The user's retry controls, as in Inngest: fail a step now, or retry it after a given delay."""

from datetime import timedelta

from temporalio.exceptions import ApplicationError


class NonRetriableError(ApplicationError):
    """The step fails at once, without further attempts (bad input, out of stock, ...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, type="NonRetriableError", non_retryable=True)


class RetryAfterError(ApplicationError):
    """The step is retried, but not before `delay` (for example a provider's Retry-After)."""

    def __init__(self, message: str, delay: timedelta) -> None:
        super().__init__(message, type="RetryAfterError", next_retry_delay=delay)
