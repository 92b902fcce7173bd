"""Moderator sign-in (OIDC, or a password whose failures are limited on the server) and the
client's address for limits; it shows no submissions.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from aop_map import settings
from aop_map.limits import client_key, sign_in_entries
from aop_map.store import SubmissionStore

PASSWORD_ENV = "AOP_MAP_MODERATOR_PASSWORD"
# A shared password is guessed online only (limits.py), but a short one needs few guesses.
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class Moderator:
    """Who is moderating: a verified email (OIDC), or a name typed at a password sign-in."""

    name: str
    self_declared: bool


def client_address() -> str:
    """This session's client, as a limits key (UNKNOWN_CLIENT on localhost and in tests).

    The TCP peer address: behind a reverse proxy every visitor has the proxy's address, so
    per-client limits act as one shared limit there.
    """
    try:
        address = st.context.ip_address
    except Exception:  # no client context (a bare script run)
        address = None
    # AppTest's stand-in client answers with a mock object, a new one per session.
    return client_key(address if isinstance(address, str) else None)


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so response time does not reveal how much matched."""
    import hmac

    return bool(expected) and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _secret(name: str) -> object:
    try:
        return st.secrets.get(name)
    except Exception:  # no secrets.toml at all
        return None


def password_sign_in(
    store: SubmissionStore, name: str, password: str, expected: str, client: str
) -> tuple[bool, str | None]:
    """Check a password sign-in against the server-side limits; audit it unless refused.

    Returns (signed in, message to show). The attempt is counted before the password is
    compared, so parallel guesses cannot all slip in; a success takes its attempt back.
    """
    entries = sign_in_entries(client)
    outcome = store.limits.attempt(*entries)
    if outcome.refused is not None:
        return False, (
            "Too many failed sign-ins. Try again in "
            f"{outcome.refused.wait_text}; the password was not checked."
        )
    ok = bool(name.strip()) and password_matches(password, expected)
    store.record_sign_in(name, ok=ok, client=client)
    if ok:
        per_client, in_total = entries
        store.limits.forgive(per_client, forget=True)
        store.limits.forgive(in_total)
        return True, None
    if outcome.started is not None:
        return False, (
            "Wrong name or password. Too many failed sign-ins: the next try must "
            f"wait {outcome.started.wait_text}."
        )
    return False, "Wrong name or password."


def moderator_login(store: SubmissionStore) -> Moderator | None:
    """The signed-in moderator, or None after showing how to sign in (or why not).

    With OIDC configured in .streamlit/secrets.toml ([auth] plus a `moderators` list of
    emails) it uses st.login; otherwise a password of at least MIN_PASSWORD_LENGTH characters
    from $AOP_MAP_MODERATOR_PASSWORD or the `moderator_password` secret, whose failed tries
    are limited per client and in total and written to the audit log. The password is never
    logged or shown.
    """
    if _secret("auth"):
        if not st.user.is_logged_in:
            st.button("Sign in", on_click=st.login, type="primary")
            return None
        allowed = [str(e).lower() for e in (_secret("moderators") or [])]
        email = str(st.user.get("email", "")).lower()
        if email not in allowed:
            st.error("This account is not a moderator.")
            st.button("Sign out", on_click=st.logout)
            return None
        return Moderator(email, self_declared=False)
    expected = settings.text(PASSWORD_ENV) or str(_secret("moderator_password") or "")
    if not expected:
        st.info(
            f"Moderation is not set up on this server. Set {PASSWORD_ENV} (or configure "
            "sign-in in .streamlit/secrets.toml) and restart the app."
        )
        return None
    if len(expected) < MIN_PASSWORD_LENGTH:
        st.error(
            f"Moderation is not set up: the password must be at least "
            f"{MIN_PASSWORD_LENGTH} characters. Set a longer {PASSWORD_ENV} (or "
            "moderator_password secret) and restart the app."
        )
        return None
    if st.session_state.get("moderator"):
        return Moderator(st.session_state["moderator"], self_declared=True)
    with st.form("moderator_login"):
        name = st.text_input("Your name (for the audit log)", max_chars=80)
        password = st.text_input("Moderator password", type="password")
        if st.form_submit_button("Sign in", type="primary"):
            ok, message = password_sign_in(store, name, password, expected, client_address())
            if ok:
                st.session_state["moderator"] = " ".join(name.split())
                st.rerun()
            st.error(message)
    return None
