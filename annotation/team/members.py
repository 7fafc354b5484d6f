"""The people of a team in Label Studio: users created through the API, the organisation's invite link.

Community Label Studio has one organisation per server and no per-project membership (Enterprise only): every user
of the organisation sees every project. A user created here (``POST /api/users``, admin token) joins the
organisation at once; the invite link lets people sign up themselves instead.
"""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from treffpunkt.annotation.labelstudio.client import Studio
from treffpunkt.core.errors import InputError

T = TypeVar("T")

#: Concurrent requests for per-item updates: Community Label Studio has no bulk path for task data, annotation
#: results or prediction results, so these go one request each, a few at a time.
WORKERS = 4


@dataclass(frozen=True)
class Member:
    id: int
    email: str
    username: str


@dataclass
class InviteResult:
    invite_url: str
    created: list[Member] = field(default_factory=list)
    existing: list[Member] = field(default_factory=list)
    passwords: dict[str, str] = field(default_factory=dict)  # email -> initial password of a created user


def check_emails(emails: list[str]) -> list[str]:
    """Emails as given, stripped and de-duplicated; refuses anything that is not an address."""
    out: list[str] = []
    for raw in emails:
        email = raw.strip()
        if not email:
            continue
        if "@" not in email or email.startswith("@") or email.endswith("@") or "," in email:
            raise InputError(f"{email!r} is not an e-mail address.", hint="Pass addresses like a@example.org.")
        if email.lower() not in {e.lower() for e in out}:
            out.append(email)
    if not out:
        raise InputError("No e-mail address given.", hint="Pass one or more, e.g. a@example.org,b@example.org.")
    return out


def members(studio: Studio) -> dict[str, Member]:
    """Users of the server by lower-cased email."""
    users = studio.call(studio.sdk.users.list, what="listing users")
    return {str(u.email).lower(): Member(int(u.id), str(u.email), str(u.username or u.email)) for u in users if u.email}


def members_by_id(studio: Studio) -> dict[str, str]:
    """User id (as exports write ``completed_by``) → email."""
    return {str(m.id): m.email for m in members(studio).values()}


def invite_link(studio: Studio) -> str:
    """The organisation's sign-up link (``/api/invite``), absolute."""
    invite = studio.call(studio.sdk.organizations.invites.get_invite_link, what="reading the invite link")
    return f"{studio.url}{invite.invite_url}"


def invite(studio: Studio, emails: list[str], *, create: bool = False) -> InviteResult:
    """The invite link; with ``create``, users for the emails that have none (each with a random password)."""
    emails = check_emails(emails)
    result = InviteResult(invite_link(studio))
    known = members(studio)
    for email in emails:
        if email.lower() in known:
            result.existing.append(known[email.lower()])
            continue
        if not create:
            continue
        password = secrets.token_urlsafe(12)
        user = studio.call(
            studio.sdk.users.create, username=email, email=email, password=password,
            what=f"creating user {email}", idempotent=False,
        )  # fmt: skip
        result.created.append(Member(int(user.id), email, email))
        result.passwords[email] = password
    return result


def each(studio: Studio, calls: list[tuple[Any, dict[str, Any], str]], *, workers: int = WORKERS) -> list[Any]:
    """Run ``(fn, kwargs, what)`` calls through :meth:`Studio.call`, ``workers`` at a time; results in order.

    The first failure is raised after the calls in flight finish; calls not yet started are not sent.
    """
    if not calls:
        return []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(studio.call, fn, what=what, **kwargs) for fn, kwargs, what in calls]
        try:
            return [f.result() for f in futures]
        except BaseException:
            for f in futures:
                f.cancel()
            raise
