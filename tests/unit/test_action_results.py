"""The actions service's results, refusals and settings are plain Python; views read HTTP from them."""
from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.base import NotPaid, OrderNotFound, StoreUnavailable
from console.actions.errors import (
    ActionError,
    Forbidden,
    InvalidInput,
    NotFound,
    Refused,
    StoreRefused,
)
from console.actions.idempotency import Outcome, Result, check_key
from console.actions.settings import ActionSettings
from console.config import SETTINGS


@pytest.mark.parametrize("error, status", [
    (InvalidInput("invalid_amount", "x"), 400), (Forbidden("forbidden", "x"), 403),
    (NotFound("not_found", "x"), 404), (Refused("already_decided", "x"), 409),
    (StoreRefused(OrderNotFound("A-1")), 404), (StoreRefused(StoreUnavailable()), 503),
    (StoreRefused(NotPaid("never paid")), 409),
])
def test_each_refusal_answers_with_the_status_of_its_kind(error: ActionError, status: int):
    assert error.status == status
    assert error.code and error.message


def test_a_refusal_keeps_what_the_client_may_do_instead():
    error = Refused("not_allowed", "delivered already", offers=["reissue", "refund"])
    assert error.extra == {"offers": ["reissue", "refund"]} and str(error) == "delivered already"


@pytest.mark.parametrize("result, body, status", [
    (Result.DONE, {}, 200), (Result.CREATED, {}, 201), (Result.PENDING, {}, 202),
    (Result.REFUSED, {"error": {"code": "not_allowed"}}, 409),
    (Result.REFUSED, {"error": {"code": "store_unavailable"}}, 503),
    (Result.REFUSED, {"error": {"code": "order_not_found"}}, 404),
])
def test_outcomes_are_results_and_the_status_follows(result: Result, body: dict, status: int):
    assert Outcome(result, body).status == status


def test_a_missing_idempotency_key_is_invalid_input():
    with pytest.raises(InvalidInput) as caught:
        check_key("  ")
    assert caught.value.code == "idempotency_key_required"
    assert check_key(" k-1 ") == "k-1"


def test_settings_come_from_a_config_mapping_and_default_to_the_documented_defaults():
    config = {"REFUND_APPROVAL_ABOVE": "50.00", "REFUND_DAILY_LIMIT": Decimal("300"),
              "CANCEL_WINDOW_MINUTES": "9", "TIMEZONE": "UTC"}
    settings = ActionSettings.from_config(config)
    assert settings == ActionSettings(Decimal("50.00"), Decimal("300"), 9, "UTC")
    defaults = ActionSettings()
    assert defaults.refund_approval_above == SETTINGS["REFUND_APPROVAL_ABOVE"][0]
    assert defaults.cancel_window_minutes == SETTINGS["CANCEL_WINDOW_MINUTES"][0]
