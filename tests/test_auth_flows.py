import re

import pytest
from django.core import mail
from django.test import override_settings

from tests.isolation_fixtures import OWNED_APPS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords():
    """These tests are about passwords: they sign in, hash and check with the production hashers (this overrides
    the fast hasher of tests/conftest.py)."""


def test_every_page_needs_a_login(client):
    for url in ("/", "/samples/", "/jobs/", "/account/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_the_auth_pages_are_open(client):
    for url in ("/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"):
        assert client.get(url).status_code == 200, url


def test_it_signs_up_and_lands_in_the_library(client, django_user_model, password):
    response = client.post(
        "/accounts/signup/",
        {"username": "carol", "email": "carol@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 302
    assert django_user_model.objects.filter(username="carol").exists()
    assert client.get("/").status_code == 200


def test_it_logs_in_with_username_or_email_and_logs_out(client, user, password):
    response = client.post("/accounts/login/", {"login": "alice", "password": password})
    assert response.status_code == 302
    assert client.get("/").status_code == 200

    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302

    response = client.post("/accounts/login/", {"login": "alice@example.com", "password": password})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_a_wrong_password_is_refused_with_a_message(client, user):
    response = client.post("/accounts/login/", {"login": "alice", "password": "wrong-password"})
    assert response.status_code == 200
    assert b"not correct" in response.content
    assert client.get("/").status_code == 302


def test_password_reset_sends_a_working_link(client, user):
    response = client.post("/accounts/password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"http://\S+/accounts/password/reset/key/\S+", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[-1] if "testserver" in link else "/" + link.split("/", 3)[3]

    response = client.get(path, follow=True)
    form_path = response.redirect_chain[-1][0] if response.redirect_chain else path
    response = client.post(form_path, {"password1": "a-brand-new-pass-77", "password2": "a-brand-new-pass-77"})
    assert response.status_code == 302

    user.refresh_from_db()
    assert user.check_password("a-brand-new-pass-77")


@override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory")
def test_email_verification_can_be_switched_on(client, django_user_model, password):
    response = client.post(
        "/accounts/signup/",
        {"username": "dave", "email": "dave@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert client.get("/").status_code == 302  # not logged in until the address is confirmed
    assert len(mail.outbox) == 1

    link = re.search(r"/accounts/confirm-email/[^\s/]+/", mail.outbox[0].body).group(0)
    client.post(link)
    assert django_user_model.objects.get(username="dave").emailaddress_set.get().verified
    assert client.get("/").status_code == 200


@override_settings(ACCOUNT_ALLOW_SIGNUPS=False)
def test_signups_can_be_closed(client, django_user_model, password):
    response = client.post(
        "/accounts/signup/",
        {"username": "erin", "email": "erin@example.com", "password1": password, "password2": password},
    )
    assert not django_user_model.objects.filter(username="erin").exists()
    assert b"closed" in response.content.lower()


def test_the_admin_is_for_staff_only(client, user, admin_client):
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert admin_client.get("/admin/").status_code == 200
    assert admin_client.get("/admin/accounts/apitoken/").status_code == 200
    assert admin_client.get("/admin/jobs/queueping/").status_code == 200


def test_every_model_of_ours_is_in_the_admin(admin_client):
    from django.apps import apps
    from django.contrib import admin

    ours = [m for app in OWNED_APPS for m in apps.get_app_config(app).get_models()]
    missing = [m.__name__ for m in ours if not admin.site.is_registered(m)]
    assert missing == []
    for model in ours:
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(url).status_code == 200, url
