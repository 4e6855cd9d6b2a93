"""The password policy: ONE source for the CDK user pool (infra/constructs/auth.py), the local
stack's pool (infra/local/stack.py), the API's validation (signup, a first sign-in's new
password) and the dashboard's signup form (it reads `GET /api/signup/policy`).

The classes are Cognito's: lower and upper case ASCII letters, digits, and the symbols Cognito
counts (`SYMBOLS`). Checking here, before Cognito, means a refused password never creates a user.
"""

from __future__ import annotations

import string
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# The characters Cognito counts as symbols (its password policy documentation); a space counts
# too when it is neither first nor last.
SYMBOLS = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+-"


class PasswordPolicy(BaseModel):
    model_config = ConfigDict(frozen=True)

    min_length: int = Field(default=12, ge=8, le=99)
    max_length: int = Field(default=128, le=256)  # Cognito accepts up to 256
    require_lowercase: bool = True
    require_uppercase: bool = True
    require_digits: bool = True
    require_symbols: bool = True
    temporary_password_days: int = 3

    def problems(self, password: str) -> list[str]:
        """What the password lacks, in words (empty: accepted)."""
        found: list[str] = []
        if len(password) < self.min_length:
            found.append(f"at least {self.min_length} characters")
        if len(password) > self.max_length:
            found.append(f"at most {self.max_length} characters")
        if self.require_lowercase and not any(c in string.ascii_lowercase for c in password):
            found.append("a lower-case letter")
        if self.require_uppercase and not any(c in string.ascii_uppercase for c in password):
            found.append("an upper-case letter")
        if self.require_digits and not any(c in string.digits for c in password):
            found.append("a digit")
        if self.require_symbols and not any(c in SYMBOLS or c == " " for c in password.strip()):
            found.append("a symbol")
        return found

    def check(self, password: str, field: str = "password") -> None:
        from parley.errors import InvalidRequest

        missing = self.problems(password)
        if missing:
            raise InvalidRequest(f"{field}: needs {', '.join(missing)}")

    def cognito(self) -> dict[str, Any]:
        """The pool's `Policies.PasswordPolicy` (CreateUserPool), as the local pool is created."""
        return {"MinimumLength": self.min_length, "RequireLowercase": self.require_lowercase,
                "RequireUppercase": self.require_uppercase, "RequireNumbers": self.require_digits,
                "RequireSymbols": self.require_symbols,
                "TemporaryPasswordValidityDays": self.temporary_password_days}

    def public(self) -> dict[str, Any]:
        """What the signup form needs to check and explain a password (camelCase, as the API)."""
        return {"minLength": self.min_length, "maxLength": self.max_length,
                "requireLowercase": self.require_lowercase, "requireUppercase": self.require_uppercase,
                "requireDigits": self.require_digits, "requireSymbols": self.require_symbols,
                "symbols": SYMBOLS}


PASSWORD_POLICY = PasswordPolicy()
