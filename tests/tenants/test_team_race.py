"""Two owners stepping down at once leave the salon one owner: the owners' rows are
locked before the rule is checked. A real race on PostgreSQL: the second demotion is
held until the first commits, then refused."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from tenants.models import Membership, Role
from tenants.scoping import salon_scope
from tenants.services import membership_set

pytestmark = pytest.mark.django_db(transaction=True)


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return int(cursor.fetchone()[0])


def test_two_owners_stepping_down_at_once_leave_one_owner(team_a):
    salon = team_a.salon
    membership_set(salon=salon, user=team_a.manager, role=Role.OWNER)  # two owners now
    first_done, commit_first = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                membership_set(salon=salon, user=team_a.owner, role=Role.STAFF, actor=team_a.owner)
                first_done.set()
                commit_first.wait(timeout=30)
        finally:
            connection.close()

    def second() -> None:
        try:
            membership_set(salon=salon, user=team_a.manager, role=Role.STAFF, actor=team_a.manager)
            outcome["second"] = "done"
        except ValidationError as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert first_done.wait(timeout=30)
    two = threading.Thread(target=second)
    two.start()
    # The second demotion waits for the first's lock (or, unlocked, would finish alone).
    while two.is_alive() and not _waiting_on_a_lock():
        two.join(timeout=0.01)
    commit_first.set()
    one.join(timeout=30)
    two.join(timeout=30)

    assert isinstance(outcome["second"], ValidationError)
    with salon_scope(salon):
        owners = list(Membership.objects.filter(role=Role.OWNER).values_list("user", flat=True))
    assert owners == [team_a.manager.pk]
