"""The terms a client is shown and keeps: what the money paid when booking is in law,
what a cancellation does with it, the right of withdrawal, and the salon's terms clause.

French law names the money (Code de la consommation, L214-1): unless the contract says
it is an *acompte* (the contract is firm), a sum paid in advance is *arrhes*: either side
may withdraw, the client losing the arrhes, the business repaying them twice over. Terms
that let the business keep the client's money without the reciprocal right for the client
are presumed unfair (R212-2). An online booking is a distance contract: the client is told
of the right of withdrawal, or of why it does not apply (L221-5), and a service asked to go
ahead within the withdrawal period needs her express request (L221-25, L221-28 1°).

Every sentence is written here once, in the language asked, and every door shows these:
the booking steps' recap, the public API, the confirmation, the manage and pay pages, the
messages, and the terms clause (CGV) a salon publishes. A booking keeps the sentences it
was shown (`BookingTerms`), whatever its salon's policy becomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.money import money_format

from .models import (
    DepositKind,
    DepositPolicy,
    LateCancellation,
    RampStep,
    WithdrawalRefund,
)
from .rules import Rule, rule_in_force

WITHDRAWAL_DAYS = 14


def _when(moment: dt.datetime, tz: ZoneInfo) -> str:
    return date_format(moment.astimezone(tz), "l j F H:i")


def _day(day: dt.date) -> str:
    return date_format(day, "j F Y")


def kind_name(kind: str) -> str:
    """The money's legal name, as a client reads it ("acompte", "arrhes")."""
    return _("arrhes") if kind == DepositKind.ARRHES else _("deposit (acompte)")


def kind_sentence(kind: str, *, late_credit: bool, amount: int, currency: str) -> str:
    """What the money paid when booking is, and what it means for each side."""
    language = translation.get_language() or "en"
    paid = money_format(amount, currency, language)
    if kind == DepositKind.ARRHES:
        double = money_format(2 * amount, currency, language)
        if late_credit:
            text = _(
                "The %(amount)s paid when booking are arrhes: either side may withdraw. "
                "If you cancel late, they are not refunded but become credit for another "
                "appointment; if the salon cancels, it pays you back twice the amount "
                "(%(double)s)."
            )
        else:
            text = _(
                "The %(amount)s paid when booking are arrhes: either side may withdraw. "
                "If you cancel late, you lose them; if the salon cancels, it pays you back "
                "twice the amount (%(double)s)."
            )
        return text % {"amount": paid, "double": double}
    return _(
        "The %(amount)s paid when booking are a deposit (acompte): the booking is firm, for "
        "you and for the salon. If the salon cancels, you are refunded in full."
    ) % {"amount": paid}


def cancellation_sentence(
    policy: DepositPolicy, *, start: dt.datetime, tz: ZoneInfo, now: dt.datetime | None = None
) -> str:
    """What a cancellation of an appointment at `start` does with the money (the
    booking steps' recap says it in the same words)."""
    now = now or timezone.now()
    deadline = start - dt.timedelta(hours=policy.cancellation_window_hours)
    days = policy.credit_valid_days
    late_credit = policy.late_cancellation == LateCancellation.CREDIT
    if deadline <= now:
        if late_credit:
            return ngettext(
                "This time is inside the salon's notice: the deposit will not be refunded, "
                "it becomes credit valid %(days)s day for a new appointment.",
                "This time is inside the salon's notice: the deposit will not be refunded, "
                "it becomes credit valid %(days)s days for a new appointment.",
                days,
            ) % {"days": days}
        return _(
            "This time is inside the salon's notice: the deposit will not be refunded, the "
            "salon keeps it."
        )
    text = _(
        "Free cancellation until %(until)s: your deposit is refunded, or kept as credit if "
        "you prefer."
    ) % {"until": _when(deadline, tz)}
    if late_credit:
        later = ngettext(
            "Later, it becomes credit valid %(days)s day for a new appointment.",
            "Later, it becomes credit valid %(days)s days for a new appointment.",
            days,
        ) % {"days": days}
    else:
        later = _("Later, or if you do not come, the salon keeps it.")
    return f"{text} {later}"


def booking_terms_text(
    policy: DepositPolicy,
    *,
    deposit: int,
    currency: str,
    start: dt.datetime,
    tz: ZoneInfo,
    now: dt.datetime | None = None,
) -> str:
    """The terms of one booking in the current language, as the recap shows them and the
    booking keeps them: what the money is, and what a cancellation does with it."""
    if not deposit:
        return _("Nothing is paid in advance for this booking.")
    late_credit = policy.late_cancellation == LateCancellation.CREDIT
    return " ".join(
        [
            kind_sentence(
                policy.deposit_kind, late_credit=late_credit, amount=deposit, currency=currency
            ),
            cancellation_sentence(policy, start=start, tz=tz, now=now),
        ]
    )


def express_asked(regime: str, *, start: dt.datetime, booked_at: dt.datetime | None = None) -> bool:
    """Whether the client is asked for her express request: the right of withdrawal
    applies (the salon's choice) and the appointment falls within its fourteen days."""
    booked_at = booked_at or timezone.now()
    return regime == WithdrawalRefund.FULL and start < booked_at + dt.timedelta(
        days=WITHDRAWAL_DAYS
    )


def withdrawal_info(
    regime: str,
    *,
    start: dt.datetime,
    tz: ZoneInfo,
    booked_at: dt.datetime | None = None,
) -> str:
    """The withdrawal information shown before paying (L221-5): the right and how long
    it lasts, or why it does not apply, as the salon chose."""
    booked_at = booked_at or timezone.now()
    if regime != WithdrawalRefund.FULL:
        return _(
            "Right of withdrawal: the salon applies the exception for services provided on "
            "a set date (Code de la consommation, art. L221-28 12°): the 14-day right of "
            "withdrawal of distance contracts does not apply to this appointment, and a "
            "cancellation, even within 14 days of booking, follows the cancellation terms."
        )
    until = (booked_at + dt.timedelta(days=WITHDRAWAL_DAYS)).astimezone(tz).date()
    text = _(
        "Right of withdrawal: you may withdraw until %(until)s (14 days after booking), "
        "without giving a reason, and get back everything you paid, as long as the service "
        "has not been provided (Code de la consommation, art. L221-18). Once it has been "
        "fully provided at your express request, you can no longer withdraw."
    ) % {"until": _day(until)}
    if express_asked(regime, start=start, booked_at=booked_at):
        text += " " + _(
            "Your appointment falls within these 14 days: you may expressly ask for it to go "
            "ahead before the period ends."
        )
    return text


def express_label() -> str:
    return _(
        "I ask for my appointment to take place before the end of the 14-day withdrawal "
        "period, and I acknowledge that once the service has been fully provided I can no "
        "longer withdraw."
    )


# The salon's one sentence (the public API's `deposit_terms`) --------------------------------


def rule_phrase(rule: Rule, currency: str) -> str:
    language = translation.get_language() or "en"
    if rule.kind == "full":
        return _("the full price")
    if rule.kind == "percent":
        return _("%(value)s %% of the price") % {"value": rule.value}
    return money_format(rule.value or 0, currency, language)


def kind_clause(kind: str, *, late_credit: bool) -> str:
    """The money's name and consequences, in a few words inside a sentence."""
    if kind == DepositKind.ARRHES:
        if late_credit:
            return _(
                "as arrhes (either side may withdraw: if you cancel late they become credit "
                "instead of being refunded; if the salon cancels, it repays them twice)"
            )
        return _(
            "as arrhes (either side may withdraw: you lose the arrhes if you cancel late; if "
            "the salon cancels, it repays them twice)"
        )
    return _("as a deposit (acompte: the booking is firm)")


def policy_sentence(
    policy: DepositPolicy, steps: Sequence[RampStep], *, currency: str, today: dt.date
) -> str:
    """The policy in force `today`, in one paragraph for clients, in the current language."""
    from .models import policy_values

    language = translation.get_language() or "en"
    rule, _since = rule_in_force(policy_values(policy, list(steps)), today)
    if rule.kind == "none":
        return _("No deposit is asked when booking online.")
    late_credit = policy.late_cancellation == LateCancellation.CREDIT
    sentence = _("%(rule)s is paid when booking online, %(kind)s") % {
        "rule": rule_phrase(rule, currency),
        "kind": kind_clause(policy.deposit_kind, late_credit=late_credit),
    }
    sentence = sentence[:1].upper() + sentence[1:]
    if rule.kind in {"fixed", "percent"}:
        if policy.min_amount is not None:
            sentence += ", " + _("at least %(amount)s") % {
                "amount": money_format(policy.min_amount, currency, language)
            }
        if policy.max_amount is not None:
            sentence += ", " + _("at most %(amount)s") % {
                "amount": money_format(policy.max_amount, currency, language)
            }
    sentence += ". " + ngettext(
        "Cancel at least %(hours)s hour ahead and it is refunded or kept as credit, as you choose;",
        "Cancel at least %(hours)s hours ahead and it is refunded or kept as credit, as you "
        "choose;",
        policy.cancellation_window_hours,
    ) % {"hours": policy.cancellation_window_hours}
    if late_credit:
        sentence += " " + ngettext(
            "later, it becomes credit for a new appointment within %(days)s day.",
            "later, it becomes credit for a new appointment within %(days)s days.",
            policy.credit_valid_days,
        ) % {"days": policy.credit_valid_days}
    else:
        sentence += " " + _("later, the salon keeps it.")
    if policy.allow_full_payment:
        sentence += " " + _("You may also pay the full price now.")
    return sentence


# The terms clause (CGV) ----------------------------------------------------------------------


@dataclass(frozen=True)
class Clause:
    title: str
    paragraphs: tuple[str, ...]

    def as_text(self) -> str:
        return "\n\n".join([self.title, *self.paragraphs])


def _rule_asked(rule: Rule, policy: DepositPolicy, currency: str) -> str:
    language = translation.get_language() or "en"
    if rule.kind == "none":
        return _("no deposit is asked")
    text = _("%(rule)s is paid when booking") % {"rule": rule_phrase(rule, currency)}
    if rule.kind in {"fixed", "percent"}:
        if policy.min_amount is not None:
            text += ", " + _("at least %(amount)s") % {
                "amount": money_format(policy.min_amount, currency, language)
            }
        if policy.max_amount is not None:
            text += ", " + _("at most %(amount)s") % {
                "amount": money_format(policy.max_amount, currency, language)
            }
        text += ", " + _("never more than the price")
    return text


def terms_clause(
    policy: DepositPolicy,
    steps: Sequence[RampStep],
    *,
    salon_name: str,
    currency: str,
    today: dt.date,
) -> list[Clause]:
    """The salon's terms clause on deposits, in the current language, from the policy as it
    is now (never stored: it cannot fall out of step with the policy)."""
    late_credit = policy.late_cancellation == LateCancellation.CREDIT
    arrhes = policy.deposit_kind == DepositKind.ARRHES
    name = _("Arrhes") if arrhes else _("Deposit (acompte)")
    from .models import policy_values

    rule, _since = rule_in_force(policy_values(policy, list(steps)), today)
    amount = [
        _("For an appointment booked online with %(salon)s, %(rule)s.")
        % {"salon": salon_name, "rule": _rule_asked(rule, policy, currency)}
    ]
    for step in (step for step in steps if step.starts_on > today):
        amount.append(
            _("From %(day)s, %(rule)s.")
            % {"day": _day(step.starts_on), "rule": _rule_asked(step.rule, policy, currency)}
        )
    if policy.trusted_after_visits:
        amount.append(
            ngettext(
                "A client with %(n)s completed visit and no missed appointment pays no deposit.",
                "A client with %(n)s completed visits and no missed appointment pays no deposit.",
                policy.trusted_after_visits,
            )
            % {"n": policy.trusted_after_visits}
        )
    if policy.full_prepayment_after_no_shows:
        amount.append(
            ngettext(
                "A client who missed %(n)s appointment pays the full price when booking.",
                "A client who missed %(n)s appointments pays the full price when booking.",
                policy.full_prepayment_after_no_shows,
            )
            % {"n": policy.full_prepayment_after_no_shows}
        )
    if policy.allow_full_payment:
        amount.append(_("The client may pay the full price instead."))
    amount.append(_("What is paid counts towards the price of the service."))
    if arrhes:
        nature = _(
            "The sum paid when booking is arrhes within the meaning of article L214-1 of the "
            "Code de la consommation: either party may withdraw, the client by losing the "
            "arrhes under the conditions below, the salon by paying them back twice over."
        )
    else:
        nature = _(
            "The sum paid when booking is a deposit (acompte): the booking is firm for "
            "the client and for the salon (Code de la consommation, art. L214-1)."
        )
    hours = policy.cancellation_window_hours
    cancel = [
        ngettext(
            "The client may cancel free of charge up to %(hours)s hour before the "
            "appointment: what she paid is refunded, or kept as credit if she prefers.",
            "The client may cancel free of charge up to %(hours)s hours before the "
            "appointment: what she paid is refunded, or kept as credit if she prefers.",
            hours,
        )
        % {"hours": hours},
    ]
    if late_credit:
        cancel.append(
            ngettext(
                "Cancelled later, what she paid is not refunded: it becomes credit valid "
                "%(days)s day for a new appointment.",
                "Cancelled later, what she paid is not refunded: it becomes credit valid "
                "%(days)s days for a new appointment.",
                policy.credit_valid_days,
            )
            % {"days": policy.credit_valid_days}
        )
    else:
        cancel.append(_("Cancelled later, what she paid is kept by the salon."))
    cancel.append(_("A missed appointment: what she paid is kept by the salon."))
    cancel.append(_("A move never reopens the free-cancellation period."))
    if arrhes:
        salon_cancels = _(
            "If the salon cancels, it refunds everything the client paid and owes her as "
            "much again as the arrhes (twice the arrhes in all), paid to her or, if she "
            "accepts, given as credit."
        )
    else:
        salon_cancels = _("If the salon cancels, it refunds everything the client paid.")
    if policy.withdrawal_refund == WithdrawalRefund.FULL:
        withdrawal = _(
            "Right of withdrawal: the client may withdraw within 14 days of booking, "
            "without giving a reason, and get back everything she paid, as long as the "
            "service has not been provided (Code de la consommation, art. L221-18). An "
            "appointment within those 14 days takes place at her express request; once the "
            "service has been fully provided she can no longer withdraw (art. L221-25 and "
            "L221-28 1°)."
        )
    else:
        withdrawal = _(
            "Right of withdrawal: the services are provided on a set date; the salon "
            "applies the exception of article L221-28 12° of the Code de la consommation, "
            "and a cancellation, even within 14 days of booking, follows the terms above."
        )
    return [
        Clause(name, tuple(amount)),
        Clause(_("What the sum paid is"), (nature,)),
        Clause(_("Cancellation by the client, missed appointments"), tuple(cancel)),
        Clause(_("Cancellation by the salon"), (salon_cancels,)),
        Clause(_("Right of withdrawal"), (withdrawal,)),
    ]


def terms_clause_text(clauses: Sequence[Clause]) -> str:
    return "\n\n".join(clause.as_text() for clause in clauses)
