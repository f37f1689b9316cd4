"""An e-mail address names one account: the first one it was seen with on a platform.

A PM may be listed in a project file by e-mail, and chat platforms tell the bot each person's e-mail. An
e-mail is not an identity, though: a guest account, a second account or a renamed one can show the same
address. So the first account (Slack user id, Entra object id) seen with an address keeps it: from then
on the address counts only for that account; any other account showing it is treated as having no
e-mail (so it is not a PM by that address), and the attempt is recorded. `intake identity forget EMAIL`
frees an address, e.g. when a PM moves to a new account.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.errors import StorageUnavailable
from bot.ports import IdentityBindings, RefusalRecord, Refusals

log = logging.getLogger("intake.identity")


async def email_for(
    store: IdentityBindings,
    refusals: Refusals,
    *,
    platform: str,
    email: str | None,
    account: str,
    at: datetime,
) -> str | None:
    """`email` if `account` may carry it (it is the address's first account, or the first to show it
    now), else None. Without the database, None: no one is a PM by an address that cannot be checked."""
    if not email:
        return None
    email = email.strip().lower()
    try:
        owner = await store.bind_email(platform, email, account, at=at)
    except StorageUnavailable as exc:
        log.warning("%s: cannot check who %s belongs to (%s); not counting it", platform, email, exc)
        return None
    if owner == account:
        return email
    log.warning(
        "%s: account %s shows %s, which belongs to account %s; not counting it", platform, account, email, owner
    )
    try:
        await refusals.record_refusal(
            RefusalRecord(at, platform, "email_claimed", "", account, f"{email} belongs to account {owner}")
        )
    except StorageUnavailable as exc:
        log.error("%s: could not record the refusal: %s", platform, exc)
    return None
