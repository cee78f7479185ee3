"""`manage.py adduser USERNAME`: add a person who signs in to EM and sees only what is theirs or shared.

`createsuperuser` makes staff, and staff see and may change every node of every user (the admin and the
API alike), so it is the wrong tool for adding a colleague. This makes a normal account; its root folder
`/<username>` is made with it. The password is asked twice at a terminal, or read from the first line of
standard input with `--password-stdin` (scripts), and must pass the site's password rules.
"""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction


class Command(BaseCommand):
    help = "Add a normal (non-staff) user: they see their own tree and what is shared with them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input's first line."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        username = str(options["username"]).strip()
        if not username:
            raise CommandError("Give the new user's name.")
        user = model(
            username=username,
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            is_staff=False,
            is_superuser=False,
        )
        try:
            user.full_clean(exclude=["password"])
        except ValidationError as exc:
            raise CommandError(_message(exc)) from None
        password = self._password(options["password_stdin"])
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            raise CommandError(_message(exc)) from None
        user.set_password(password)
        with transaction.atomic():
            if model.objects.filter(username=username).exists():
                raise CommandError(f"A user named {username!r} exists already.")
            user.save()
        self.stdout.write(
            self.style.SUCCESS(f"Added {username}: signs in at /accounts/login/, sees /{username} and what is shared.")
        )

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin read no password.")
            return password
        if not sys.stdin.isatty():
            raise CommandError("No terminal to ask the password at: pass it on standard input with --password-stdin.")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("The two passwords differ.")
        return first


def _message(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
    return " ".join(error.messages)
