"""What the payment service's tests share."""

import io
from contextlib import AbstractContextManager

from django.core.management import call_command
from django.test import TestCase


def committed() -> AbstractContextManager:
    """Runs what the code in the block left for after its commit (the outbox telling the order
    service, an automatic refund) when the block ends, as the commit would: the test's own
    transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def reconcile() -> None:
    """``manage.py reconcile_payments --older-than 0``, as its periodic job runs it."""
    with committed():
        call_command("reconcile_payments", older_than=0)


def call_command_output(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip()
