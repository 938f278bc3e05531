"""The order's story as steps for the detail screen: gaps, pending steps, stuck detection.

Stores report the same fact twice (``created_at``/``paid_at`` columns and ``created``/``paid``
events) and in any order, so the timeline merges and sorts before it measures anything.

Highlighting rule: while the order is still moving (status not in ``FINAL_STATUSES``,
including unknown statuses) ``current_index`` points at the last step that happened, notes
excluded; that step's state is ``"current"`` unless it was a failure, which stays
``"failed"`` so a failure is never painted as normal progress.  Once the order is final
(delivered, completed, failed, cancelled, refunded, partially refunded, expired) nothing
is highlighted and ``current_index`` is ``None``.

Stuck rule: only statuses in ``ACTIVE_STATUSES`` with a typical wait can be stuck; the
clock starts at the last step that happened (notes excluded, since writing a note is not
progress) and the order is stuck once ``now`` is more than ``wait_minutes`` past it.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from adapters.base import Order, OrderEvent

from .explain import ACTIVE_STATUSES, EN, FINAL_STATUSES, explain_status, humanise, normalise_lang

STATES: tuple[str, ...] = ("done", "current", "failed", "pending")
FAILURE_KINDS: frozenset[str] = frozenset({"failed", "retry"})
NOT_PROGRESS_KINDS: frozenset[str] = frozenset({"note"})

_KEY_CATEGORIES = frozenset({"game_card", "gift_card", "software_key", "virtual_currency"})
_TOPUP_CATEGORIES = frozenset({"phone_topup", "data_topup", "game_topup"})

_LABELS: dict[str, tuple[str, str]] = {
    "created": ("Order placed", "下单"),
    "paid": ("Payment received", "已付款"),
    "processing": ("Processing started", "开始处理"),
    "key_generated": ("Card key generated", "卡密已生成"),
    "supplier_called": ("Sent to supplier", "已提交供货商"),
    "supplier_answered": ("Supplier replied", "供货商已回复"),
    "manual_review": ("Manual review", "人工审核"),
    "delivered": ("Delivered", "已交付"),
    "completed": ("Completed", "已完成"),
    "retry": ("Retried", "重新提交"),
    "failed": ("Failed", "处理失败"),
    "refunded": ("Refunded", "已退款"),
    "partially_refunded": ("Partially refunded", "部分退款"),
    "cancelled": ("Cancelled", "已取消"),
    "expired": ("Closed unpaid", "超时未付款关闭"),
    "after_sales": ("After-sales opened", "转入售后"),
    "resolved": ("After-sales resolved", "售后处理完毕"),
    "note": ("Note", "备注"),
    "edit_applied": ("Order edited", "订单已修改"),
    "reissued": ("Reissued", "已补发"),
    "voided": ("Card key voided", "卡密已作废"),
}

# Tie-break for steps at the same instant: the natural order of an order's life.
_KIND_RANK: dict[str, int] = {
    "created": 0, "paid": 1, "processing": 2, "key_generated": 3, "supplier_called": 3,
    "supplier_answered": 4, "delivered": 5, "completed": 6,
}
_LATE_RANK = 5  # unknown kinds sort with the delivery-era steps when times tie


@dataclass(frozen=True)
class Step:
    """One line of the timeline; ``at`` is None only for pending (not yet happened) steps."""

    kind: str
    label_en: str
    label_zh: str
    at: datetime | None
    detail: str = ""
    since_previous: timedelta | None = None
    state: str = "done"

    def label(self, lang: str) -> str:
        return self.label_en if normalise_lang(lang) == EN else self.label_zh

    @property
    def happened(self) -> bool:
        return self.state != "pending"


@dataclass(frozen=True)
class Timeline:
    """Steps in time order (happened, then pending), where the order is now, whether it stalled."""

    steps: tuple[Step, ...]
    current_index: int | None
    stuck: bool
    idle_for: timedelta | None = None          # now minus last progress, for active orders
    expected_wait_minutes: int | None = None   # the bound ``stuck`` was judged against

    @property
    def current(self) -> Step | None:
        return None if self.current_index is None else self.steps[self.current_index]


# --- labels -----------------------------------------------------------------

def step_labels(kind: str, category: str = "other") -> tuple[str, str]:
    """(English, Chinese) label of an event kind; "delivered" reads per product type."""
    if kind == "delivered":
        return _delivered_labels(category)
    if kind in _LABELS:
        return _LABELS[kind]
    text = humanise(kind)
    return text, text


def _delivered_labels(category: str) -> tuple[str, str]:
    if category in _KEY_CATEGORIES:
        return "Card key delivered", "卡密已发放"
    if category in _TOPUP_CATEGORIES:
        return "Top-up credited", "充值已到账"
    if category == "video_membership":
        return "Membership activated", "会员已开通"
    return _LABELS["delivered"]


# --- building -----------------------------------------------------------------

def _aware(moment: datetime) -> datetime:
    """Treat a naive time as UTC so a sloppy store cannot make comparisons raise."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _step(kind: str, at: datetime | None, detail: str, category: str, state: str) -> Step:
    en, zh = step_labels(kind, category)
    return Step(kind=kind, label_en=en, label_zh=zh, at=_aware(at) if at else None,
                detail=detail or "", state=state)


def _happened_events(order: Order) -> list[OrderEvent]:
    """Events without exact duplicates, the created/paid columns merged into their first event."""
    seen: set[tuple[str, datetime, str]] = set()
    events: list[OrderEvent] = []
    for event in order.events:
        key = (event.kind, _aware(event.at), event.detail or "")
        if key not in seen:
            seen.add(key)
            events.append(event)
    events = _merge_field(events, "created", order.created_at)
    return _merge_field(events, "paid", order.paid_at)


def _merge_field(events: list[OrderEvent], kind: str, at: datetime | None) -> list[OrderEvent]:
    """Make the column and the earliest ``kind`` event one step: column's time, event's detail."""
    same = sorted((e for e in events if e.kind == kind), key=lambda e: _aware(e.at))
    if at is None:
        return events
    if not same:
        return [OrderEvent(at=at, kind=kind), *events]
    first = same[0]
    return [OrderEvent(at=at, kind=kind, detail=first.detail) if e is first else e for e in events]


def _sorted(events: list[OrderEvent]) -> list[OrderEvent]:
    indexed = list(enumerate(events))
    indexed.sort(key=lambda pair: (
        _aware(pair[1].at), _KIND_RANK.get(pair[1].kind, _LATE_RANK), pair[0],
    ))
    return [event for _, event in indexed]


def _expected_kinds(status: str) -> tuple[str, ...]:
    """Steps an order in ``status`` is still waiting for, in the order they will happen."""
    if status == "pending_payment":
        return ("paid", "delivered")
    if status in ("paid", "processing"):
        return ("delivered",)
    if status == "after_sales":
        return ("resolved",)
    return ()


def _with_gaps(steps: list[Step]) -> list[Step]:
    """Fill ``since_previous`` for happened steps; the first and pending ones keep None."""
    out: list[Step] = []
    previous: datetime | None = None
    for step in steps:
        if step.at is not None and previous is not None:
            step = replace(step, since_previous=step.at - previous)
        if step.at is not None:
            previous = step.at
        out.append(step)
    return out


def _current_index(steps: list[Step], status: str) -> int | None:
    if status in FINAL_STATUSES:
        return None
    for index in range(len(steps) - 1, -1, -1):
        if steps[index].happened and steps[index].kind not in NOT_PROGRESS_KINDS:
            return index
    return None


def _last_progress(steps: list[Step], fallback: datetime) -> datetime:
    times = [s.at for s in steps if s.at is not None and s.kind not in NOT_PROGRESS_KINDS]
    return max(times, default=_aware(fallback))


def build_timeline(order: Order, now: datetime) -> Timeline:
    """Tell the order's story: merged sorted steps, pending ones, current step, stuck flag."""
    category = order.product.category
    happened = [
        _step(e.kind, e.at, e.detail, category, "failed" if e.kind in FAILURE_KINDS else "done")
        for e in _sorted(_happened_events(order))
    ]
    done_kinds = {s.kind for s in happened}
    pending = [_step(kind, None, "", category, "pending")
               for kind in _expected_kinds(order.status) if kind not in done_kinds]
    steps = _with_gaps(happened + pending)

    current = _current_index(steps, order.status)
    if current is not None and steps[current].state == "done":
        steps[current] = replace(steps[current], state="current")

    wait = explain_status(order.status, category, EN).wait_minutes
    idle_for: timedelta | None = None
    stuck = False
    if order.status in ACTIVE_STATUSES:
        idle_for = _aware(now) - _last_progress(steps, order.created_at)
        stuck = wait is not None and idle_for > timedelta(minutes=wait)
    return Timeline(steps=tuple(steps), current_index=current, stuck=stuck, idle_for=idle_for,
                    expected_wait_minutes=wait if order.status in ACTIVE_STATUSES else None)


# --- durations ----------------------------------------------------------------

_UNITS: tuple[tuple[int, str, str], ...] = (
    (86400, "d", "天"),
    (3600, "h", "小时"),
    (60, "min", "分"),
    (1, "s", "秒"),
)


def format_duration(td: timedelta, lang: str) -> str:
    """Two most significant adjacent units, floored, so a glance is enough.

    "3 min 20 s"/"3分20秒", "2 h 5 min"/"2小时5分", "1 d 3 h"/"1天3小时".
    """
    total = int(td.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    zh = normalise_lang(lang) != EN
    for index, (size, en_unit, zh_unit) in enumerate(_UNITS):
        if total >= size or size == 1:
            major = total // size
            parts = [(major, en_unit, zh_unit)]
            if size > 1:
                next_size, next_en, next_zh = _UNITS[index + 1]
                minor = (total % size) // next_size
                if minor:
                    parts.append((minor, next_en, next_zh))
            return sign + _join(parts, zh)
    raise AssertionError("unreachable: the seconds unit always matches")


def _join(parts: list[tuple[int, str, str]], zh: bool) -> str:
    if not zh:
        return " ".join(f"{n} {unit}" for n, unit, _ in parts)
    if len(parts) == 1 and parts[0][2] == "分":
        return f"{parts[0][0]}分钟"  # "3分钟" alone reads naturally; "3分" only before seconds
    return "".join(f"{n}{unit}" for n, _, unit in parts)
