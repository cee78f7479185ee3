"""Adding a person: `manage.py adduser` and the admin's add form make normal users, never staff."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from em.models import Node

pytestmark = pytest.mark.django_db
GOOD_PASSWORD = "correct horse battery 7"


def add(monkeypatch: pytest.MonkeyPatch, *args: str, password: str = GOOD_PASSWORD) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("adduser", *args, "--password-stdin", stdout=out)
    return out.getvalue()


def test_adduser_makes_a_normal_user_with_a_root_folder(
    monkeypatch: pytest.MonkeyPatch, django_user_model: Any
) -> None:
    said = add(monkeypatch, "carol", "--email", "carol@example.com", "--first-name", "Carol")
    carol = django_user_model.objects.get(username="carol")
    assert not carol.is_staff and not carol.is_superuser and carol.is_active
    assert carol.check_password(GOOD_PASSWORD) and carol.email == "carol@example.com" and carol.first_name == "Carol"
    assert Node.objects.get(parent__isnull=True, owner=carol).name == "carol"
    assert "Added carol" in said
    signed_in = Client().post("/accounts/login/", {"username": "carol", "password": GOOD_PASSWORD})
    assert signed_in.status_code == 302


def test_adduser_refuses_a_taken_name_a_weak_password_and_a_bad_email(
    monkeypatch: pytest.MonkeyPatch, django_user_model: Any
) -> None:
    add(monkeypatch, "carol")
    with pytest.raises(CommandError, match="already exists"):
        add(monkeypatch, "carol")
    with pytest.raises(CommandError, match=r"too common|too short"):
        add(monkeypatch, "dave", password="password")
    with pytest.raises(CommandError, match="email"):
        add(monkeypatch, "erin", "--email", "not-an-address")
    with pytest.raises(CommandError, match="no password"):
        add(monkeypatch, "frank", password="")
    assert list(django_user_model.objects.values_list("username", flat=True)) == ["carol"]


def test_adduser_without_a_terminal_or_stdin_flag_says_how(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--password-stdin"):
        call_command("adduser", "gina", stdout=io.StringIO())


def test_admin_add_form_makes_a_normal_user(django_user_model: Any) -> None:
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", GOOD_PASSWORD)
    browser = Client()
    browser.force_login(admin_user)
    form = browser.get("/admin/auth/user/add/")
    assert form.status_code == 200
    assert b"A normal user" in form.content and b"first_name" in form.content
    answer = browser.post(
        "/admin/auth/user/add/",
        {
            "username": "heidi",
            "first_name": "Heidi",
            "email": "heidi@example.com",
            "usable_password": "true",
            "password1": GOOD_PASSWORD,
            "password2": GOOD_PASSWORD,
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    heidi = django_user_model.objects.get(username="heidi")
    assert not heidi.is_staff and heidi.first_name == "Heidi" and heidi.check_password(GOOD_PASSWORD)
    assert Node.objects.get(parent__isnull=True, owner=heidi).name == "heidi"
