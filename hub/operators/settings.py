"""Console settings, `EPHYTO_OPERATOR_*`."""

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict


class OperatorSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EPHYTO_OPERATOR_", extra="ignore")

    #: A signed-in browser stays signed in this long (a working shift).
    session_hours: float = 8.0
    #: Cookies only over HTTPS. Off only for a console served on plain HTTP on loopback.
    secure_cookies: bool = True

    @property
    def session_lifetime(self) -> timedelta:
        return timedelta(hours=self.session_hours)
