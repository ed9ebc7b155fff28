"""Users and API keys."""

from collector.accounts import languages, passwords
from collector.accounts.api_keys import create_api_key, key_for  # noqa: F401 (the CLI's, the tests')
from collector.accounts.models import Role, User
from collector.accounts.passwords import MIN_PASSWORD
from collector.core.columns import utcnow
from collector.core.errors import Invalid
from collector.extensions import db


def create_user(email: str, password: str, role: str = "viewer") -> User:
    """Create a login; the email is stored lower-case."""
    email = (email or "").strip().lower()
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = ["A valid email address is required."]
    elif db.session.execute(db.select(User.id).filter_by(email=email)).first():
        errors["email"] = ["A user with this email already exists."]
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = [f"At least {MIN_PASSWORD} characters."]
    if role not in {r.value for r in Role}:
        errors["role"] = ["Role must be admin or viewer."]
    if errors:
        raise Invalid(errors)
    user = User(email=email, role=Role(role))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with these credentials, or None: one password check either way.
    The login page goes through ``logins.log_in``, which also throttles and audits."""
    user, _reason = passwords.credentials(email, password)
    if user is None:
        return None
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def set_locale(user: User, tag: str | None) -> User:
    """Remember the UI locale a person picked ("" or None: follow the browser again)."""
    if tag and languages.normalize(tag) != tag:
        raise Invalid({"locale": [f"Unknown language: {tag!r}."]})
    user.locale = tag or None
    db.session.commit()
    return user


def admins() -> list[User]:
    """Who problems a person must fix are reported to: the active admins."""
    query = db.select(User).where(User.role == Role.ADMIN, User.active).order_by(User.id)
    return list(db.session.scalars(query))
