"""Request and response bodies of the HTTP API, as pydantic models.

The evaluation request and response are *documented* by these models but
parsed and produced by the engine itself (``engine.parse_request``,
``engine.dumps``), so that money never passes through a float and the HTTP
answer is byte for byte the command line's and the device's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

import rules
from engine.basket import MAX_COUPONS, MAX_LINES  # one limit for server and devices

MAX_SOURCE_CHARS = 1_000_000
MAX_VERSION = 2_147_483_647  # version numbers are 32-bit in the database
AMOUNT_PATTERN = r"^[0-9]{1,12}(\.[0-9]{1,3})?$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The engine refuses a text of only spaces where it needs one (engine/basket.py, `_text`):
# "expected a non-empty string". Said in the schema too, so a generated client refuses it
# before sending it.
NOT_BLANK = r"\S"


def _text(**documented: Any) -> Any:
    return Field(min_length=1, pattern=NOT_BLANK, **documented)


# --- evaluation (documentation of the contract) --------------------------------------


class CustomerIn(_Strict):
    id: str | None = _text(default=None)
    cardholder: bool = False
    tier: str | None = _text(default=None)
    segments: list[str] = []
    attributes: dict[str, str] | None = None


class LineIn(_Strict):
    id: str = _text()
    sku: str = _text()
    quantity: int = Field(ge=1, le=10_000)
    unit_price: str = Field(pattern=AMOUNT_PATTERN, examples=["89.90"],
                            description="Decimal string in the currency's unit; never a float.")
    category: str | None = _text(default=None)
    brand: str | None = _text(default=None)
    attributes: dict[str, str] | None = None


# The contract's basket (DESIGN.md), shown by /docs and generated clients: one a channel
# key may send as it is (no `version`, the `default` rule set).
EVALUATE_EXAMPLE: dict[str, Any] = {
    "channel": "pos", "store": "paris-01", "currency": "EUR",
    "at": "2026-11-23T14:10:00+01:00",
    "customer": {"id": "c-42", "cardholder": True, "tier": "gold",
                 "segments": ["students"], "attributes": {"city": "Paris"}},
    "coupons": ["WELCOME10"],
    "lines": [{"id": "1", "sku": "RAIN-JKT-01", "quantity": 1, "unit_price": "89.90",
               "category": "rainwear", "brand": "Aigle", "attributes": {"color": "yellow"}}],
}


class EvaluateIn(_Strict):
    """A basket to price (DESIGN.md, "The evaluation contract")."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EVALUATE_EXAMPLE]})

    channel: Literal["pos", "web", "mobile", "kiosk"]
    store: str | None = _text(default=None)
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])
    at: datetime | None = Field(default=None, description="Default: now. With an offset.")
    customer: CustomerIn | None = None
    coupons: list[Annotated[str, _text()]] | None = Field(default=None,
                                                          max_length=MAX_COUPONS)
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    ruleset: str | None = Field(default=None, pattern=NAME_PATTERN,
                                description="Default: `default`.")
    version: int | None = Field(default=None, ge=1, le=MAX_VERSION,
                                description="Replay on this version.")
    replay: bool = Field(default=False, description=(
        "Price on the version that was live at `at` (finance replays a past basket)."))
    explain: bool = False


# An amount in an answer: a decimal string with exactly the currency's minor unit.
Money = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?$", examples=["89.90"], description=(
    "A decimal string with exactly the currency's minor unit of decimals: \"89.90\" EUR, "
    "\"1000\" JPY, \"1.250\" KWD; never a float."))]


class Adjustment(BaseModel):
    rule: str
    title: str
    amount: Money


class RuleRef(BaseModel):
    rule: str
    title: str


class LineOut(BaseModel):
    id: str
    sku: str
    quantity: int
    list_price: Money
    unit_price: Money
    subtotal: Money
    discount: Money
    total: Money
    adjustments: list[Adjustment]
    price_rule: RuleRef | None = None


class PointsByRule(BaseModel):
    rule: str
    title: str
    points: int


class Points(BaseModel):
    total: int
    by_rule: list[PointsByRule]


class CouponOut(BaseModel):
    code: str
    status: Literal["applied", "rejected"]
    reason: str | None = None


class Explained(BaseModel):
    rule: str
    title: str
    status: Literal["applied", "not_applied"]
    reason: str


class EvaluateOut(BaseModel):
    version: int | None
    # Always sent, as `version` is: a client generated from the schema must not take
    # the hash that names the rules for an optional field it may drop.
    content_hash: str | None = Field(description=(
        "SHA-256 of the version's compiled rules: with `version`, names exactly which "
        "rules priced this basket (on the server and on offline devices)."))
    currency: str
    at: str = Field(json_schema_extra={"format": "date-time"}, description=(
        "The instant the basket was priced at, RFC 3339 with its offset."))
    lines: list[LineOut]
    subtotal: Money
    discount: Money
    total: Money
    points: Points
    applied: list[Adjustment]
    coupons: list[CouponOut]
    explain: list[Explained] | None = None


# --- authoring -------------------------------------------------------------------------


def _not_blank(text: str) -> str:
    if not text.strip():
        raise PydanticCustomError("blank", "a message is required: it is only spaces")
    return text


# C0, DEL and C1: no message or name needs them, a terminal runs some of them (ESC
# sequences in `remise rules versions`), and PostgreSQL text cannot hold NUL at all.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
LINE_BREAKS_AND_TABS = "\t\n\r"  # what a message written in several lines holds


def control_character(text: str, keep: str = "") -> str | None:
    """Why ``text`` is refused, naming its first control character not in ``keep`` and
    where it is; None when it has none."""
    for found in _CONTROL.finditer(text):
        if found.group() not in keep:
            allowed = " other than tabs and line breaks" if keep else ""
            return (f"control characters{allowed} are not allowed: U+{ord(found.group()):04X} "
                    f"at character {found.start() + 1}")
    return None


def _no_controls_in_message(text: str) -> str:
    problem = control_character(text, keep=LINE_BREAKS_AND_TABS)
    if problem is not None:
        raise PydanticCustomError("control_character", problem)
    return text


# Strict: JSON true, "2" and 3.0 are not version numbers (lax pydantic read them as 1, 2, 3).
def _version(minimum: int, **documented: Any) -> Any:
    return Field(strict=True, ge=minimum, le=MAX_VERSION, **documented)


Message = Annotated[str, Field(min_length=1, max_length=2000,
                               description="Why: shown in the history and the audit log."),
                    AfterValidator(_not_blank), AfterValidator(_no_controls_in_message)]


class SourceIn(_Strict):
    """Rule source: one text (`source`) or several files (`sources`)."""

    source: str | None = Field(default=None, max_length=MAX_SOURCE_CHARS)
    sources: dict[str, str] | None = Field(default=None, description="File name -> text.")

    @field_validator("sources")
    @classmethod
    def _file_names(cls, sources: dict[str, str] | None) -> dict[str, str] | None:
        for name in sources or {}:
            problem = control_character(name)
            if problem is not None:
                raise PydanticCustomError("control_character", f"file name {name!r}: {problem}")
        return sources

    @model_validator(mode="after")
    def _one_of(self) -> SourceIn:
        if (self.source is None) == (self.sources is None):
            raise ValueError("send either `source` (one text) or `sources` (file name -> text)")
        if self.sources is not None and not self.sources:
            raise ValueError("`sources` is empty")
        if self.sources is not None and sum(map(len, self.sources.values())) > MAX_SOURCE_CHARS:
            raise ValueError(f"the sources are longer than {MAX_SOURCE_CHARS:,} characters")
        return self

    def files(self, ruleset: str) -> dict[str, str]:
        return dict(self.sources) if self.sources is not None else {
            f"{ruleset}.rules": self.source or ""}


class PublishIn(SourceIn):
    message: Message
    parent: int = _version(0, description=(
        "The version this change is based on; 0 for a new rule set. A stale parent is "
        "refused with 409."))


class RollbackIn(_Strict):
    to: int = _version(1, description="The version whose rules become live again; not the "
                                      "live one.")
    message: Message
    parent: int | None = _version(1, default=None)


class DiagnosticOut(BaseModel):
    file: str
    line: int
    column: int
    end_column: int
    message: str
    hint: str | None = None


class ValidateOut(BaseModel):
    valid: bool
    rules: int | None = None
    currency: str | None = None
    diagnostics: list[DiagnosticOut]


@dataclass(frozen=True)
class VersionDetail(rules.VersionSummary):
    """A version with its source and every period its content was live: its own,
    then those of later rollbacks to it."""

    sources: dict[str, str]
    live_periods: list[rules.LivePeriod]


class RuleChangeOut(BaseModel):
    rule: str
    title: str
    diff: str
    fields: list[str]


class SettingChangeOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    setting: str = Field(description="A setting of the whole rule set: `currency`, "
                                     "`timezone` (the default of windows without one).")
    from_: str | None = Field(alias="from", description="None: the older version has none.")
    to: str | None = Field(description="None: the newer version has none.")


class DiffOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    ruleset: str
    from_: int = Field(alias="from")
    to: int
    settings: list[SettingChangeOut] = Field(description=(
        "The rule set's settings that changed: a new currency reprices every rule and "
        "refuses baskets in the old one, though no rule changed."))
    added: list[RuleChangeOut]
    removed: list[RuleChangeOut]
    changed: list[RuleChangeOut]
    unchanged: int


class LiveOut(BaseModel):
    ruleset: str
    at: datetime
    version: rules.VersionSummary


# --- audit, keys, health ---------------------------------------------------------------


class AuditPageOut(BaseModel):
    entries: list[rules.AuditEntry]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


class KeyIn(_Strict):
    name: str = Field(pattern=NAME_PATTERN)
    role: Literal["marketer", "finance", "channel", "device", "admin"]


class KeyCreatedOut(BaseModel):
    name: str
    role: str
    key: str = Field(description="Shown this once; only its hash is stored.")


class SigningKeyOut(BaseModel):
    key_id: str
    algorithm: Literal["Ed25519"]
    public_key: str = Field(description="The raw 32-byte public key, base64.")
    sha256: str = Field(description="The SHA-256 of the raw public key, hex: its first 16 "
                                    "digits are the key id; `remise device trust --key-id` "
                                    "takes either")
    active: bool = Field(description="Whether it signs bundles now.")


class SigningKeysOut(BaseModel):
    keys: list[SigningKeyOut]


class HealthOut(BaseModel):
    status: str
    engine_build: Literal["python", "compiled"] = Field(
        description="Whether this process runs the mypyc-compiled evaluator; the answers "
                    "are the same either way")


class ReadyOut(BaseModel):
    status: str
    rulesets: dict[str, int]
