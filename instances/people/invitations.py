"""Invitations into a team: made by a team admin, mailed, accepted once by their address."""

import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection, send_mail
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from instances import crypto

from . import roles
from .models import RANKS, Invitation

VALID_FOR = timedelta(days=7)
MAIL_TIMEOUT = 10  # seconds: the invitation is sent while its admin waits for the page


class MailNotSent(Exception):
    pass


def invite(team, email: str, role: str, by, link_for) -> Invitation:
    """Invite `email` into `team` (an earlier open invitation of it is replaced) and mail the
    link, built by `link_for(key)`. A mail server that fails, or does not answer within
    MAIL_TIMEOUT, raises MailNotSent and leaves no invitation behind."""
    key = crypto.new_key()
    with transaction.atomic():
        Invitation.objects.filter(team=team, email__iexact=email, accepted_at=None).delete()
        invitation = Invitation.objects.create(
            team=team,
            email=email,
            role=role,
            key_hash=crypto.key_hash(key),
            invited_by=by,
            expires_at=timezone.now() + VALID_FOR,
        )
    inviter = by.get_full_name() or by.get_username()
    # one line each: a team's name is anybody's text, and a header holds no line break
    team_name = " ".join(team.name.split())
    try:
        send_mail(  # in the inviter's language: the one they read the team's page in
            _("Join {team} on Runboard").format(team=team_name),
            _(
                "{inviter} invites you into the team {team} on Runboard, as {role}.\n\n"
                "Accept within 7 days: {link}\n"
            ).format(
                inviter=inviter,
                team=team_name,
                role=invitation.get_role_display().lower(),
                link=link_for(key),
            ),
            settings.DEFAULT_FROM_EMAIL,
            [email],
            connection=get_connection(timeout=MAIL_TIMEOUT),
        )
    except (OSError, smtplib.SMTPException) as exc:
        invitation.delete()
        raise MailNotSent(str(exc)) from exc
    return invitation


def open_invitation(key: str) -> Invitation | None:
    """The invitation this key opens, if it is still open."""
    return (
        Invitation.objects.select_related("team", "invited_by")
        .filter(key_hash=crypto.key_hash(key), accepted_at=None, expires_at__gt=timezone.now())
        .first()
    )


@transaction.atomic
def accept(invitation: Invitation, person) -> None:
    """`person` joins the team in the invitation's role (never lower than one they hold)."""
    if Invitation.objects.filter(pk=invitation.pk, accepted_at=None).update(
        accepted_at=timezone.now()
    ):
        held = person.memberships.filter(team=invitation.team).first()
        if held is None or RANKS[held.role] < RANKS[invitation.role]:
            roles.place(person, invitation.team, invitation.role, by=invitation.invited_by)
