"""Semantic checks: source that parses but cannot mean what the marketer wants.

Every check reports at the offending token, in plain words, with a hint when
there is an obvious fix. The compiler only runs on a file these checks passed.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from engine.basket import MAX_AMOUNT_DIGITS, MAX_LINES, MAX_QUANTITY
from engine.ir import CHANNELS
from engine.money import MINOR_UNITS, has_valid_precision

from . import ast
from .errors import Reporter, closest_word, did_you_mean

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
STACKING = ("exclusive", "best", "stackable")
# Suggested first when a currency code is mistyped: what retailers mostly mean.
COMMON_CURRENCIES = ("EUR", "USD", "GBP", "CHF", "JPY", "CAD", "SEK", "DKK", "NOK", "PLN")
# A currency by its name or a common abbreviation, not its code: the nearest code
# in spelling is another country's ("YEN" is close to YER, the Yemeni rial).
CURRENCY_NAMES = {
    "EURO": "EUR", "EUROS": "EUR", "YEN": "JPY", "DOLLAR": "USD", "DOLLARS": "USD",
    "US$": "USD", "POUND": "GBP", "POUNDS": "GBP", "STERLING": "GBP", "UKP": "GBP",
    "FRANC": "CHF", "FRANCS": "CHF", "SFR": "CHF", "CHFR": "CHF", "RMB": "CNY",
    "YUAN": "CNY", "NIS": "ILS", "SHEKEL": "ILS", "RUPEE": "INR", "RUPEES": "INR",
    "WON": "KRW", "REAL": "BRL", "REAIS": "BRL", "ZLOTY": "PLN", "KRONA": "SEK",
    "KRONOR": "SEK",
}
REPEATABLE = frozenset({"valid"})
DEFAULT_TIMEZONE = "UTC"
# A zone written as an offset from UTC: UTC+1, GMT-05, UTC+5:30.
UTC_OFFSET = re.compile(r"(UTC|GMT)([+-])(\d{1,2})(:\d{2}|\d{2})?", re.IGNORECASE)
# Offsets off the whole hour that a place keeps all year (no daylight saving): the
# Etc/ zones have whole hours only, so the hint names the place instead.
PLACES_OFF_THE_HOUR = {
    "+3:30": "Asia/Tehran", "+4:30": "Asia/Kabul", "+5:30": "Asia/Kolkata",
    "+5:45": "Asia/Kathmandu", "+6:30": "Asia/Yangon", "+8:45": "Australia/Eucla",
    "+9:30": "Australia/Darwin", "-9:30": "Pacific/Marquesas",
}
# What a rule id may be made of: it names the rule in receipts, audits, URLs.
RULE_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# The dates a window may use, and how long a window may last: far beyond any
# promotion, and within what every clock and time zone conversion can represent
# (a window in year 9999 plus its time zone or a few days' margin overflowed).
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
LONGEST_WINDOW = timedelta(days=36_525)  # 100 years
# An amount in a rule is below what a basket may carry as a unit price
# (engine.basket refuses 10**12 and more as "too large"): beyond it, the
# evaluator's exact arithmetic would overflow its precision.
LARGEST_AMOUNT = Decimal(10) ** MAX_AMOUNT_DIGITS
# Whole numbers a marketer writes, bounded so that a typo of extra digits is caught
# here rather than priced: points beyond 2**53 lose digits in JavaScript clients.
LARGEST_UNITS = MAX_QUANTITY  # buy N, pay M, a bundle's size: what one line may hold
LARGEST_QUANTITY = MAX_QUANTITY * MAX_LINES  # `quantity >= N`: what a basket may hold
LARGEST_POINTS = 10_000  # points per amount
LARGEST_LIMIT = 1_000_000_000  # uses per customer or in all
LARGEST_PRIORITY = 1_000_000  # either way: priorities compare, their size means nothing


def _currency_hint(written: str) -> str:
    """The code meant: by its name (YEN), a common one misspelt (EUT), or, for a
    three-letter word only, the nearest code of all."""
    named = CURRENCY_NAMES.get(written)
    if named is not None:
        return f'write its ISO 4217 code: "{named}"'
    return (did_you_mean(written, COMMON_CURRENCIES)
            or (did_you_mean(written, MINOR_UNITS) if len(written) == 3 else None)
            or "use an ISO 4217 code such as EUR")


# Units in French: "jours" is nearest to "hours" in spelling, "semaines" to "minutes".
FRENCH_UNITS = {"jour": "day", "jours": "days", "heure": "hour", "heures": "hours",
                "semaine": "week", "semaines": "weeks", "mois": "months", "an": "years",
                "ans": "years", "année": "years", "années": "years"}


def _unit_hint(written: str, count: int) -> str:
    """The closest unit in the form that agrees with the count: "for 30 MIN" means
    "minutes", though "MIN" is nearer to "minute"."""
    lower = FRENCH_UNITS.get(written.lower(), written.lower())
    if lower.startswith(("week", "wk")):
        return f"write days: for {count * 7} days"
    if lower.startswith(("month", "year", "yr")):  # "months" is close to "minutes"
        return ("months and years differ in length: write days, or the end date with "
                "valid from ... to ...")
    if lower.startswith("sec") or lower == "s":
        return "the shortest unit is the minute"
    if lower in ("h", "hr"):
        close: str | None = "hour"
    else:
        close = closest_word(lower, UNITS)
    if close is None:
        return "use minutes, hours or days"
    singular = close.removesuffix("s")
    return f'did you mean "{singular if count == 1 else singular + "s"}"?'


# What marketers call the channels: the app is `mobile`, a shop's till `pos`.
CHANNEL_NAMES = {
    "app": "mobile", "apps": "mobile", "appli": "mobile", "application": "mobile",
    "ios": "mobile", "android": "mobile", "phone": "mobile", "smartphone": "mobile",
    "store": "pos", "stores": "pos", "shop": "pos", "shops": "pos", "till": "pos",
    "instore": "pos", "in-store": "pos", "magasin": "pos", "retail": "pos",
    "online": "web", "website": "web", "site": "web", "ecommerce": "web",
    "e-commerce": "web", "internet": "web", "borne": "kiosk",
}


def _channel_hint(written: str) -> str:
    meant = CHANNEL_NAMES.get(written.lower())
    if meant is not None:
        return f'write "{meant}" (the channels are {", ".join(CHANNELS)})'
    return did_you_mean(written, CHANNELS) or f"channels are {', '.join(CHANNELS)}"


# Words for several days at once, and the days they stand for.
DAY_GROUPS = {"weekday": DAYS[:5], "weekdays": DAYS[:5], "weekend": DAYS[5:],
              "weekends": DAYS[5:], "daily": ("day",), "everyday": ("day",)}


# The days in French (the demo retailer's marketers write French titles): "lun" is
# nearest to "sun" in spelling, and lundi is a Monday.
FRENCH_DAYS = {"lun": "mon", "mar": "tue", "mer": "wed", "jeu": "thu", "ven": "fri",
               "sam": "sat", "dim": "sun"}


def _french_day(word: str) -> bool:
    return word in FRENCH_DAYS or word in ("lundi", "mardi", "mercredi", "jeudi", "vendredi",
                                           "samedi", "dimanche")


def _day_hint(written: str) -> str:
    """What to write for an unknown day: a group (`weekdays`) or a range (`mon-fri`)
    is written day by day; a full name (`monday`, `lundi`) by its first three letters."""
    lower = written.lower()
    french = FRENCH_DAYS.get(lower[:3]) if _french_day(lower) else None
    if french is not None:
        return f'did you mean "{french}"?'
    days = DAY_GROUPS.get(lower)
    if days is None and lower.count("-") == 1:
        first, last = (FRENCH_DAYS[end[:3]] if _french_day(end) else closest_word(end[:3], DAYS)
                       for end in lower.split("-"))
        if first is not None and last is not None:
            start, stop = DAYS.index(first), DAYS.index(last)
            days = tuple(DAYS[(start + n) % 7] for n in range((stop - start) % 7 + 1))
    if days == ("day",):
        return "write `every day`"
    if days is not None:
        return f"write each day: every {', '.join(days)}"
    return (did_you_mean(lower[:3], DAYS)
            or "use mon, tue, wed, thu, fri, sat, sun or `every day`")


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


# Abbreviations a marketer writes for a zone, and the place whose clock they mean:
# "PST" is not a zone (the nearest name, MST, is Phoenix); "CEST" is not "EST".
ZONE_ABBREVIATIONS = {
    "ET": "America/New_York", "EST": "America/New_York", "EDT": "America/New_York",
    "CT": "America/Chicago", "CST": "America/Chicago", "CDT": "America/Chicago",
    "MT": "America/Denver", "MST": "America/Denver", "MDT": "America/Denver",
    "PT": "America/Los_Angeles", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "AKST": "America/Anchorage", "AKDT": "America/Anchorage",
    "GMT": "Europe/London", "BST": "Europe/London",
    "CET": "Europe/Paris", "CEST": "Europe/Paris", "MEZ": "Europe/Berlin",
    "MESZ": "Europe/Berlin", "WET": "Europe/Lisbon", "WEST": "Europe/Lisbon",
    "EET": "Europe/Athens", "EEST": "Europe/Athens", "MSK": "Europe/Moscow",
    "IST": "Asia/Kolkata", "JST": "Asia/Tokyo", "KST": "Asia/Seoul",
    "SGT": "Asia/Singapore", "HKT": "Asia/Hong_Kong", "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney", "NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland",
}
# Names the zone database knows but which keep one offset all year, where the
# marketer means a place that changes for summer: "EST" is UTC-5 in July too, an
# hour off New York. (place, its summer abbreviation, a zone of the same hour all year:
# Phoenix for MST, which Arizona keeps, rather than Etc/GMT+7 and its inverted sign)
FIXED_ABBREVIATIONS = {"EST": ("America/New_York", "EDT", "Etc/GMT+5"),
                       "MST": ("America/Denver", "MDT", "America/Phoenix"),
                       "GMT": ("Europe/London", "BST", "UTC")}


def _zone_hint(written: str) -> str | None:
    """The place meant by an abbreviation (PST) or a city alone (Paris, New York)."""
    place = ZONE_ABBREVIATIONS.get(written.upper())
    if place is not None:
        return f"write the zone of a place, like {place}, which follows daylight saving"
    city = written.lower().replace(" ", "_")
    found = sorted(zone for zone in _zones() if zone.lower().rsplit("/", 1)[-1] == city
                   and "/" in zone)
    return f'did you mean "{found[0]}"?' if found else None


def known_zone(name: str) -> bool:
    return name in _zones()


def offset_hint(written: str) -> str | None:
    """The hint for a zone written as an offset from UTC ("UTC+1", "GMT-05", "UTC+5:30"),
    None for any other name: places keep their offsets with daylight saving, and the
    fixed Etc/ zones exist for whole hours only, with their sign inverted."""
    offset = UTC_OFFSET.fullmatch(written)
    if offset is None:
        return None
    sign, hours, minutes = offset.group(2), int(offset.group(3)), offset.group(4)
    fixed = f"Etc/GMT{'-' if sign == '+' else '+'}{hours}"
    if hours and not minutes and known_zone(fixed):
        return (f"use the zone of a place, like Europe/Paris, which follows daylight "
                f"saving; for a fixed {offset.group(1)}{sign}{hours} all year write {fixed} "
                "(these names invert the sign)")
    place = PLACES_OFF_THE_HOUR.get(f"{sign}{hours}:{(minutes or '').lstrip(':')}")
    if place is not None:
        return f"use the zone of a place: {place} keeps {written} all year"
    return "use the zone of a place, like Europe/Paris"


def local_to_utc(day: date, clock: time, zone: str) -> datetime | None:
    """The UTC instant of a wall-clock time; None when DST skips that time.

    A time that occurs twice (clocks going back) means its first occurrence.
    """
    local = datetime.combine(day, clock, ZoneInfo(zone))
    instant = local.astimezone(UTC)
    back = instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return instant if back == local.replace(tzinfo=None) else None


def first_instant_at(day: date, clock: time, zone: str) -> datetime:
    """The first instant the wall clock of ``zone`` reads ``day clock`` or later (UTC).

    The time itself, its first occurrence when it happens twice, or, when daylight
    saving skips it, the instant the clocks jump past it: in Santiago, whose clocks
    go from 23:59:59 to 01:00 on 2026-09-06, that day starts at 01:00 (04:00 UTC).
    """
    instant = local_to_utc(day, clock, zone)
    if instant is not None:
        return instant
    tz = ZoneInfo(zone)
    wall = datetime.combine(day, clock)
    # In a gap, read with the offset after the change the time falls before the jump,
    # with the offset before it after the jump; the jump is between, on a whole second.
    before = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    after = int(wall.replace(tzinfo=tz, fold=0).timestamp())
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, tz).replace(tzinfo=None) >= wall:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC)


class FileChecker:
    """Checks one parsed file; ``currency`` and ``zone`` are the file's defaults.

    A file without a ``currency`` line takes ``ruleset_currency``, the one the
    other files of its rule set agree on, so its amounts are checked all the same.
    """

    def __init__(self, file: ast.File, reporter: Reporter,
                 ruleset_currency: str | None = None) -> None:
        self.file = file
        self.report = reporter
        self.currency = file.currency.text if file.currency else ruleset_currency
        self.whose = "the file" if file.currency else "the rule set"
        self.zone = file.timezone.text if file.timezone else DEFAULT_TIMEZONE

    def run(self) -> None:
        self._check_header()
        seen: dict[str, ast.Block] = {}
        for block in self.file.blocks:
            first = seen.setdefault(block.id.text, block)
            if first is not block:
                self.report.error(block.id.pos, f'rule id "{block.id.text}" is used twice',
                                  f"the first is on line {first.id.pos.line}; ids must be unique")
            self._check_block(block)

    # --- file header --------------------------------------------------------------

    def _check_header(self) -> None:
        if self.file.currency and not self._known_currency(self.file.currency):
            self.currency = None
        elif self.currency not in MINOR_UNITS:
            self.currency = None  # the rule set's own header is reported in its file
        if self.file.timezone:
            self._check_zone(self.file.timezone)

    def _known_currency(self, word: ast.Word) -> bool:
        if word.text in MINOR_UNITS:
            return True
        self.report.error(word.pos, f'unknown currency "{word.text}"',
                          _currency_hint(word.text.upper()))
        return False

    def _check_zone(self, word: ast.Word) -> bool:
        if word.text in FIXED_ABBREVIATIONS:
            place, summer, fixed = FIXED_ABBREVIATIONS[word.text]
            self.report.error(word.pos, f'"{word.text}" keeps the same hour all year',
                              f"write the zone of a place: {place} ({word.text} in winter, "
                              f"{summer} in summer); for no daylight saving write {fixed}")
            return False
        if known_zone(word.text):
            return True
        # an offset first: "UTC" is close in spelling, and hours off, never to suggest
        self.report.error(word.pos, f'unknown time zone "{word.text}"',
                          offset_hint(word.text) or _zone_hint(word.text)
                          or did_you_mean(word.text, _zones())
                          or "use a name like Europe/Paris")
        return False

    # --- blocks --------------------------------------------------------------------

    def _check_block(self, block: ast.Block) -> None:
        if not RULE_ID.fullmatch(block.id.text):
            self.report.error(block.id.pos, f'"{block.id.text}" cannot be a rule id',
                              "an id is letters, digits and _, like rain_flash")
        if _blank(block.title.value):
            self.report.error(block.title.pos, "the title is empty",
                              "write what the customer reads on the receipt, like "
                              '"10 EUR off from 50 EUR"')
        zone = self.zone
        seen: dict[str, ast.Statement] = {}
        effects = [s for s in block.statements if s.keyword == "effect"]
        for statement in block.statements:
            if statement.keyword not in REPEATABLE and statement.keyword != "effect":
                if statement.keyword in seen:
                    self.report.error(statement.pos, f"{statement.keyword} is given twice",
                                      f"keep one (the other is on line "
                                      f"{seen[statement.keyword].pos.line})")
                seen[statement.keyword] = statement
        if block.kind == "price" and "stacking" in seen:
            self.report.error(seen["stacking"].pos, "a price has no stacking",
                              "the price rule with the highest priority sets the price; "
                              "remove this line, or use priority")
        if "timezone" in block.lost:
            zone = ""  # the rule's zone did not parse: no wall-clock check in another
        elif "timezone" in seen:
            word = seen["timezone"].value
            assert isinstance(word, ast.Word)
            if self._check_zone(word):
                zone = word.text
        self._check_effects(block, effects)
        self._check_window_kinds(block)
        for statement in block.statements:
            self._check_statement(statement, zone)

    def _check_window_kinds(self, block: ast.Block) -> None:
        """`valid every sat ...` and `valid from 2026-12-01 to 2026-12-24` in one rule
        are live at either: every day of December, where the marketer meant the
        Saturdays of December. Refused, naming the form for both at once."""
        windows = [s.value for s in block.statements if s.keyword == "valid"]
        weekly = [w for w in windows if isinstance(w, ast.RecurringWindow)]
        dated = [w for w in windows if not isinstance(w, ast.RecurringWindow)]
        if not weekly or not dated:
            return
        window = dated[0]
        assert isinstance(window, ast.AbsoluteWindow | ast.RelativeWindow | ast.PublishWindow)
        self.report.error(window.pos, "a weekly window and a dated one in one rule: it "
                                      "would be live in either, not only when both hold",
                          _weekly_between_hint(weekly[0], window))

    def _check_effects(self, block: ast.Block, effects: list[ast.Statement]) -> None:
        if not effects and block.lost:
            return  # its effect may be the statement that did not parse
        if not effects:
            what = ("a price line" if block.kind == "price"
                    else "a discount, buy, bundle or points line")
            self.report.error(block.id.pos, f'"{block.id.text}" has no effect', f"add {what}")
            return
        for extra in effects[1:]:
            self.report.error(extra.pos, "a rule has one effect; this is a second one",
                              "split it into two rules")
        effect = effects[0].value
        assert isinstance(effect, ast.Effect)
        if block.kind == "price" and effect.kind != "price":
            self.report.error(effect.pos, "a price block sets prices",
                              f'write discounts in a rule block: rule {block.id.text} "..." {{')
        if block.kind == "rule" and effect.kind == "price":
            self.report.error(effect.pos, "prices are set in a price block",
                              f'write: price {block.id.text} "{block.title.value}" {{ ... }}')

    def _check_statement(self, statement: ast.Statement, zone: str) -> None:
        value = statement.value
        keyword = statement.keyword
        if keyword == "channels":
            assert isinstance(value, tuple)
            for word in value:
                if word.text not in CHANNELS:
                    self.report.error(word.pos, f'unknown channel "{word.text}"',
                                      _channel_hint(word.text))
        elif keyword == "stacking":
            assert isinstance(value, ast.Word)
            if value.text not in STACKING:
                self.report.error(value.pos, f'unknown stacking "{value.text}"',
                                  did_you_mean(value.text, STACKING)
                                  or "use exclusive, best or stackable")
        elif keyword == "limit":
            assert isinstance(value, tuple)
            for number in value:
                if number is not None:
                    self._positive_count(number, "a limit", LARGEST_LIMIT)
        elif keyword == "priority":
            assert isinstance(value, ast.Number)
            if abs(value.value) > LARGEST_PRIORITY:
                self.report.error(value.pos, f"priority {value.value} is out of range",
                                  f"a priority is from {-LARGEST_PRIORITY:,} to "
                                  f"{LARGEST_PRIORITY:,}; only their order counts")
        elif keyword == "coupon":
            assert isinstance(value, tuple)
            for text in value:
                if _blank(text.value):
                    self.report.error(text.pos, "a coupon code cannot be empty")
        elif keyword == "valid":
            self._check_window(value, zone)  # type: ignore[arg-type]
        elif keyword == "when":
            assert isinstance(value, tuple)
            for condition in value:
                self._check_condition(condition)
        elif keyword == "stores":
            assert isinstance(value, tuple)
            self._check_not_blank(value, "store")
        elif keyword == "audience":
            self._check_audience(value)  # type: ignore[arg-type]
        elif keyword == "effect":
            assert isinstance(value, ast.Effect)
            self._check_effect(value)

    # --- windows -----------------------------------------------------------------------

    def _check_duration(self, duration: ast.Duration) -> timedelta | None:
        """The duration, or None when it is reported as wrong."""
        unit = UNITS.get(duration.unit.text)
        if unit is None:
            self.report.error(duration.unit.pos, f'unknown unit "{duration.unit.text}"',
                              _unit_hint(duration.unit.text, duration.count.value))
            return None
        if duration.count.value <= 0:
            self._positive_count(duration.count, "a duration")
            return None
        seconds = duration.count.value * unit
        if seconds > LONGEST_WINDOW.total_seconds():
            self.report.error(duration.count.pos, "a window lasts at most 100 years",
                              f"that is {LONGEST_WINDOW.days:,} days")
            return None
        return timedelta(seconds=seconds)

    def _check_day(self, day: date | None, pos: ast.Pos) -> bool:
        if day is not None and not FIRST_DAY <= day <= LAST_DAY:
            self.report.error(pos, f"{day} is out of range",
                              f"dates run from {FIRST_DAY} to {LAST_DAY}")
            return False
        return True

    def _check_wall_time(self, day: date, clock: time, zone: str, pos: ast.Pos) -> None:
        if known_zone(zone) and local_to_utc(day, clock, zone) is None:
            # The jump: the wall clock just before it, and just after (Lord Howe moves
            # by half an hour, Santiago skips midnight).
            jump = first_instant_at(day, clock, zone)
            before = (jump - timedelta(seconds=1)).astimezone(ZoneInfo(zone)) \
                + timedelta(seconds=1)
            after = jump.astimezone(ZoneInfo(zone))
            self.report.error(pos, f"{day} {clock:%H:%M} does not exist in {zone}",
                              f"the clocks go from {before:%H:%M} straight to {after:%H:%M} "
                              "that night for daylight saving; pick another time")

    def _check_window(self, window: ast.Window, zone: str) -> None:
        if isinstance(window, ast.PublishWindow):
            self._check_duration(window.duration)
        elif isinstance(window, ast.RelativeWindow):
            self._check_relative(window, zone)
        elif isinstance(window, ast.AbsoluteWindow):
            self._check_absolute(window, zone)
        else:
            self._check_recurring(window)

    def _check_relative(self, window: ast.RelativeWindow, zone: str) -> None:
        duration = self._check_duration(window.duration)
        if not self._check_day(window.start_date, window.pos):
            return
        self._check_wall_time(window.start_date, window.start_time, zone, window.pos)
        if duration is None:
            return
        end = datetime.combine(window.start_date, window.start_time) + duration
        if end.date() > LAST_DAY:
            self.report.error(window.duration.count.pos, f"the window would end on {end:%Y-%m-%d}",
                              f"dates run from {FIRST_DAY} to {LAST_DAY}")

    def _check_absolute(self, window: ast.AbsoluteWindow, zone: str) -> None:
        in_range = [self._check_day(window.start_date, window.pos),
                    self._check_day(window.end_date, window.end_pos)]
        if not all(in_range):
            return
        start, end = absolute_bounds(window)
        if end <= start:
            self.report.error(window.end_pos, "the window ends "
                              f"{'when' if end == start else 'before'} it starts",
                              _crossing_midnight_hint(window, start))
            return
        if window.start_time is not None:
            self._check_wall_time(window.start_date, window.start_time, zone, window.pos)
        if window.end_time is not None:
            self._check_wall_time(window.end_date, window.end_time, zone, window.end_pos)

    def _check_recurring(self, window: ast.RecurringWindow) -> None:
        in_range = [self._check_day(window.from_date, window.pos),
                    self._check_day(window.until_date, window.pos)]
        dated = all(in_range) and window.from_date is not None \
            and window.until_date is not None
        if dated and window.until_date < window.from_date:  # type: ignore[operator]
            self.report.error(window.pos, "the dates end before they start",
                              f"it starts {window.from_date}")
            dated = False
        if window.start == window.end != time(0):  # a typo far likelier than 24 hours
            self.report.error(window.pos, f"the slot starts and ends at {window.start:%H:%M}",
                              "a slot past midnight ends the next day, like 22:00-02:00; "
                              "for the whole day write 00:00-00:00")
        if [day.text for day in window.days] == ["day"]:
            return
        for day in window.days:
            if day.text not in DAYS:
                self.report.error(day.pos, f'unknown day "{day.text}"', _day_hint(day.text))
                dated = False
        if dated:
            assert window.from_date is not None and window.until_date is not None
            self._check_days_between(window, window.from_date, window.until_date)

    def _check_days_between(self, window: ast.RecurringWindow, first: date, last: date) -> None:
        """`every sat ... from <a tuesday> to <the thursday>` is never live: refused."""
        span = min((last - first).days + 1, 7)
        weekdays = {DAYS[(first + timedelta(days=n)).weekday()] for n in range(span)}
        if not weekdays & {day.text for day in window.days}:
            names = " or ".join(day.text for day in window.days)
            self.report.error(window.pos, f"there is no {names} from {first} to {last}",
                              "the rule would never be live; check the days and the dates")

    # --- conditions and effects ----------------------------------------------------------

    def _check_condition(self, condition: ast.Condition) -> None:
        if isinstance(condition, ast.SubtotalCondition):
            self._check_amount(condition.amount, allow_zero=True)
        else:
            if condition.count.value > LARGEST_QUANTITY:
                self._too_large(condition.count, "a quantity", f"a basket holds at most "
                                f"{LARGEST_QUANTITY:,} units ({MAX_LINES} lines of "
                                f"{MAX_QUANTITY:,})")
            if condition.items is not None:
                self._check_items(condition.items)

    def _check_audience(self, expr: ast.AudienceExpr) -> None:
        if isinstance(expr, ast.AudienceTier):
            self._check_not_blank(expr.values, "tier")
        elif isinstance(expr, ast.AudienceSegment):
            self._check_no_surrounding_space(expr.value, "segment")
        elif isinstance(expr, ast.AudienceAttribute):
            self._check_no_surrounding_space(expr.name, "attribute")
        elif isinstance(expr, ast.AudienceAll | ast.AudienceAny):
            for arg in expr.args:
                self._check_audience(arg)
        elif isinstance(expr, ast.AudienceNot):
            self._check_audience(expr.arg)

    def _check_not_blank(self, texts: tuple[ast.Text, ...], what: str) -> None:
        """A basket never sends an empty SKU, category, brand, store or tier (it is
        refused), so an empty text there is a slip: `= ""` would never match, `!= ""`
        always."""
        for text in texts:
            if not text.value.strip():
                self.report.error(text.pos, f"an empty {what}: a basket's {what} is "
                                            "never empty",
                                  f"write the {what} meant, or leave this condition out")
            else:
                self._check_no_surrounding_space(text, what)

    def _check_no_surrounding_space(self, text: ast.Text, what: str) -> None:
        """`category = "rainwear "` (a cell copied from a spreadsheet) never matches the
        "rainwear" a basket sends: texts are compared as they are."""
        value, stripped = text.value, text.value.strip()
        if value == stripped:
            return
        where = " and ".join(side for side, spaced in (("start", value[:1].isspace()),
                                                       ("end", value[-1:].isspace())) if spaced)
        self.report.error(text.pos, f'a space at the {where} of "{value}"',
                          f'a basket\'s {what} "{stripped}" would not match it: remove the space')

    def _check_items(self, expr: ast.ItemExpr) -> None:
        if isinstance(expr, ast.ItemField):  # sku, category or brand
            self._check_not_blank(expr.values, expr.field.text)
        elif isinstance(expr, ast.ItemAttribute):
            self._check_no_surrounding_space(expr.name, "attribute")
        elif isinstance(expr, ast.ItemPrice):
            self._check_amount(expr.amount, allow_zero=True)
        elif isinstance(expr, ast.ItemAll | ast.ItemAny):
            for arg in expr.args:
                self._check_items(arg)
        elif isinstance(expr, ast.ItemNot):
            self._check_items(expr.arg)

    def _check_effect(self, effect: ast.Effect) -> None:
        if effect.percent is not None:
            self._check_percent(effect.percent)
        if effect.items is not None:
            self._check_items(effect.items)
        if effect.kind == "points":
            assert effect.first is not None
            self._positive_count(effect.first, "points")
            if effect.first.value > LARGEST_POINTS:
                self._too_large(effect.first, "points", f"at most {LARGEST_POINTS:,} points "
                                                        "per amount")
        if effect.amount is not None:
            self._check_amount(effect.amount, allow_zero=False)
        if effect.kind == "buy_pay":
            assert effect.first is not None and effect.second is not None
            if effect.first.value > LARGEST_UNITS:
                self._too_large(effect.first, "buy N",
                                f"a group of units is at most {LARGEST_UNITS:,}, as a line")
            elif not 1 <= effect.second.value < effect.first.value:
                self.report.error(effect.second.pos,
                                  f"buy {effect.first.value} pay {effect.second.value} gives "
                                  "nothing away" if effect.second.value >= effect.first.value
                                  else "pay must be at least 1",
                                  "the customer pays for fewer units than they buy, e.g. "
                                  "buy 3 pay 2")
        if effect.kind == "bundle":
            assert effect.first is not None
            if effect.first.value < 2:
                self.report.error(effect.first.pos, "a bundle has at least 2 units")
            elif effect.first.value > LARGEST_UNITS:
                self._too_large(effect.first, "a bundle",
                                f"a bundle has at most {LARGEST_UNITS:,} units, as a line")
        if effect.kind == "tiered":
            self._check_tiers(effect.tiers)

    def _check_tiers(self, tiers: tuple[ast.Tier, ...]) -> None:
        previous: Decimal | None = None
        for tier in tiers:
            if tier.percent is not None:
                self._check_percent(tier.percent)
            if tier.amount is not None:
                self._check_amount(tier.amount, allow_zero=False)
            self._check_amount(tier.threshold, allow_zero=True)
            if previous is not None and tier.threshold.value <= previous:
                self.report.error(tier.threshold.pos, "tiers must go up",
                                  f"this threshold must be above {previous}")
            previous = tier.threshold.value

    def _check_percent(self, percent: ast.Percent) -> None:
        if not Decimal(0) < percent.value <= Decimal(100):
            self.report.error(percent.pos, f"{percent.written}% is not a discount",
                              "a percentage is more than 0% and at most 100%")

    def _check_amount(self, amount: ast.Amount, *, allow_zero: bool) -> None:
        if amount.currency is not None and not self._known_currency(amount.currency):
            return
        if amount.currency is not None and self.currency is not None \
                and amount.currency.text != self.currency:
            self.report.error(amount.currency.pos,
                              f"amount in {amount.currency.text}, {self.whose} is in "
                              f"{self.currency}", "a rule set prices in one currency")
            return
        if amount.value >= LARGEST_AMOUNT:
            self.report.error(amount.pos, f"{amount.written} is too large",
                              f"amounts are below {LARGEST_AMOUNT:,}, as basket prices are")
            return
        if not allow_zero and amount.value <= 0:
            self.report.error(amount.pos, "the amount must be more than zero")
        currency = self.currency or (amount.currency.text if amount.currency else None)
        if currency is not None and not has_valid_precision(amount.value, currency):
            digits = MINOR_UNITS[currency]
            self.report.error(amount.pos,
                              f"{amount.written} has more decimals than {currency} has",
                              f"{currency} amounts have {digits} decimal"
                              f"{'s' if digits != 1 else ''}")

    def _positive_count(self, number: ast.Number, what: str,
                        largest: int | None = None) -> None:
        if number.value <= 0:
            self.report.error(number.pos, f"{what} must be at least 1")
        elif largest is not None and number.value > largest:
            self._too_large(number, what, f"{what} is at most {largest:,}")

    def _too_large(self, number: ast.Number, what: str, hint: str) -> None:
        self.report.error(number.pos, f"{number.value} is too large for {what}", hint)


def _weekly_between_hint(weekly: ast.RecurringWindow, dated: ast.Window) -> str:
    """The weekly slot bounded by the dates, when the dated window is whole days."""
    example = "valid every sat 09:00-20:00 from 2026-12-01 to 2026-12-24"
    if isinstance(dated, ast.AbsoluteWindow) and dated.start_time is None \
            and dated.end_time is None and weekly.from_date is None:
        days = ", ".join(day.text for day in weekly.days)
        example = (f"valid every {days} {weekly.start:%H:%M}-{weekly.end:%H:%M} "
                   f"from {dated.start_date} to {dated.end_date}")
    return f"for a weekly slot between dates, write one line: {example}; for either, " \
           "write two rules"


def _crossing_midnight_hint(window: ast.AbsoluteWindow, start: datetime) -> str:
    """`from 2026-12-24 18:00 to 2026-12-24 02:00` means to 02:00 the next day."""
    if window.end_date == window.start_date and window.end_time is not None \
            and window.start_time is not None and window.end_time < window.start_time:
        following = window.end_date + timedelta(days=1)
        return (f"it starts {start:%Y-%m-%d %H:%M}; to end after midnight, write the next "
                f"day: to {following} {window.end_time:%H:%M}")
    return f"it starts {start:%Y-%m-%d %H:%M}"


def _blank(text: str) -> bool:
    """Nothing a reader sees: spaces, or only invisible format characters (a zero-width
    space pasted as a title prints an empty receipt line)."""
    return all(char.isspace() or unicodedata.category(char) == "Cf" for char in text)


def absolute_bounds(window: ast.AbsoluteWindow) -> tuple[datetime, datetime]:
    """Naive local start and end; a date without a time covers the whole day."""
    start = datetime.combine(window.start_date, window.start_time or time())
    if window.end_time is None:
        end = datetime.combine(window.end_date + timedelta(days=1), time())
    else:
        end = datetime.combine(window.end_date, window.end_time)
    return start, end


def check_file(file: ast.File, reporter: Reporter, ruleset_currency: str | None = None) -> None:
    """Check one file; ``ruleset_currency`` stands in for a missing ``currency`` line."""
    FileChecker(file, reporter, ruleset_currency).run()


__all__ = ["DEFAULT_TIMEZONE", "UNITS", "absolute_bounds", "check_file", "first_instant_at",
           "known_zone", "local_to_utc"]
