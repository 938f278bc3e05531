"""Exports of the search results: the same orders in the same order as the API, capped, said so."""
from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.integration.search_backends import build_backend

CAP = 25


@pytest.fixture(scope="module", params=["sqlite"])
def backend(request, tmp_path_factory):
    return build_backend(request, tmp_path_factory, SEARCH_EXPORT_CAP=CAP)


def api_numbers(backend, **params) -> list[str]:
    answer = backend.get("/api/orders/search", limit=200, **params).get_json()
    return [r["order_no"] for r in answer["results"]]


def csv_rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # spreadsheets then read the Chinese right
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_holds_the_ranked_results_under_the_cap(backend):
    params = {"q": "话费", "from": "2026-11-16", "to": "2026-11-22"}
    expected = api_numbers(backend, **params)
    assert 0 < len(expected) < CAP
    response = backend.get("/api/orders/search.csv", **params)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "X-Kamidesk-Export-Capped" not in response.headers
    assert response.headers["X-Kamidesk-Export-Rows"] == str(len(expected))
    header, *rows = csv_rows(response)
    assert header[0] == "Order no." and "Created (Asia/Shanghai)" in header
    assert [r[0] for r in rows] == expected
    by_no = {o.order_no: o for o in backend.orders}
    first = by_no[rows[0][0]]
    assert rows[0][header.index("Paid")] == f"{first.amount_paid:.2f}"
    assert rows[0][header.index("Status")] == first.status
    assert "category" in rows[0][header.index("Matched")]


def test_csv_is_capped_and_says_so(backend):
    response = backend.get("/api/orders/search.csv", status="completed")
    assert response.headers["X-Kamidesk-Export-Capped"] == str(CAP)
    assert response.headers["X-Kamidesk-Export-Rows"] == str(CAP)
    header, *rows = csv_rows(response)
    assert len(rows) == CAP + 1
    assert rows[-1][0].startswith("Capped: only the first 25 results")
    newest = sorted((o for o in backend.orders if o.status == "completed"),
                    key=lambda o: o.created_at, reverse=True)
    assert [r[0] for r in rows[:CAP]] == [o.order_no for o in newest[:CAP]]


def test_xlsx_matches_the_csv_with_typed_cells(backend):
    params = {"q": "话费", "from": "2026-11-16", "to": "2026-11-22"}
    expected = api_numbers(backend, **params)
    response = backend.get("/api/orders/search.xlsx", **params)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert header[0] == "Order no."
    assert [r[0] for r in rows] == expected
    paid = header.index("Paid")
    by_no = {o.order_no: o for o in backend.orders}
    assert all(abs(r[paid] - float(by_no[r[0]].amount_paid)) < 0.001 for r in rows)
    created = rows[0][header.index("Created (Asia/Shanghai)")]
    assert created.year >= 2026 and created.tzinfo is None


def test_xlsx_cap_row(backend):
    response = backend.get("/api/orders/search.xlsx", status="completed")
    assert response.headers["X-Kamidesk-Export-Capped"] == str(CAP)
    rows = list(load_workbook(io.BytesIO(response.data), read_only=True).active
                .iter_rows(values_only=True))
    assert len(rows) == 1 + CAP + 1
    assert rows[-1][0].startswith("Capped:")


def test_text_that_looks_like_a_formula_stays_text(backend):
    from dataclasses import replace

    hostile = replace(backend.orders[5], order_no="KDFORMULA0001",
                      recipient_account="=HYPERLINK(\"http://evil\",\"x\")")
    with backend.app.app_context():
        from console.store import get_store
        get_store().load([hostile])
    header, *rows = csv_rows(backend.get("/api/orders/search.csv", q="KDFORMULA0001"))
    assert rows[0][header.index("Recipient account")].startswith("'=")
    book = load_workbook(io.BytesIO(backend.get("/api/orders/search.xlsx",
                                                q="KDFORMULA0001").data))
    cell = book.active.cell(row=2, column=header.index("Recipient account") + 1)
    assert cell.data_type == "s" and cell.value.startswith("'=")


def test_exports_refuse_bad_parameters_like_the_api(backend):
    response = backend.get("/api/orders/search.csv", status="lost")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_parameter"
