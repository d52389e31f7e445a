"""Staff at a clinic: the owner invites by email with a role; the link lets the person set a password."""

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from tenants.accounts.models import Invitation, Role
from tests.conftest import host_client, login, user_in

pytestmark = pytest.mark.django_db


def _invite(alpha, email: str, role: str = Role.NURSE):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    return owner.post("/staff/", {"email": email, "role": role, "full_name": "Ns. Maya"}, HTTP_ACCEPT_LANGUAGE="en")


def _link_path(message_body: str) -> str:
    return re.search(r"http://alpha\.localhost(/invitations/[^/\s]+/)", message_body).group(1)


def test_owner_sees_staff_list(alpha):
    response = login(alpha.host, alpha.email(Role.OWNER)).get("/staff/")
    assert response.status_code == 200
    for email in alpha.users.values():
        assert email.encode() in response.content


def test_invitation_email_link_lets_the_person_join_with_the_role(alpha):
    response = _invite(alpha, "maya@alpha.test", Role.NURSE)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["maya@alpha.test"]
    path = _link_path(mail.outbox[0].body)

    visitor = host_client(alpha.host)
    page = visitor.get(path, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert b"maya@alpha.test" in page.content
    joined = visitor.post(
        path, {"full_name": "Ns. Maya Sari", "password1": "s3cret-pass-26", "password2": "s3cret-pass-26"}
    )
    assert joined.status_code == 302
    assert joined["Location"] == "/app/"  # like signing in, joining lands in the clinic app
    assert visitor.get("/api/me/").json()["role"] == "nurse"
    user = user_in(alpha, "maya@alpha.test")
    assert user.full_name == "Ns. Maya Sari"
    # the link works once
    assert host_client(alpha.host).get(path).status_code == 404
    login(alpha.host, "maya@alpha.test", "s3cret-pass-26")


def test_invitation_stores_only_a_hash_of_the_token(alpha):
    _invite(alpha, "hash@alpha.test")
    token = _link_path(mail.outbox[0].body).split("/")[2]
    with schema_context(alpha.clinic.schema_name):
        invitation = Invitation.objects.get(email="hash@alpha.test")
    assert token not in invitation.token_hash


def test_mismatched_or_weak_password_keeps_the_invitation_open(alpha):
    _invite(alpha, "weak@alpha.test")
    path = _link_path(mail.outbox[0].body)
    client = host_client(alpha.host)
    response = client.post(
        path, {"full_name": "W", "password1": "short", "password2": "short"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert b"too short" in response.content
    response = client.post(
        path, {"full_name": "W", "password1": "long-enough-1", "password2": "long-enough-2"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert b"do not match" in response.content
    assert user_in(alpha, "weak@alpha.test") is None


def test_inviting_an_existing_member_is_a_form_error(alpha):
    response = _invite(alpha, alpha.email(Role.DOCTOR))
    assert response.status_code == 400
    assert b"already has an account" in response.content
    assert mail.outbox == []


def test_unknown_invitation_link_is_not_found(alpha):
    assert host_client(alpha.host).get("/invitations/not-a-real-token/").status_code == 404


def test_invitation_link_of_clinic_a_does_nothing_at_clinic_b(alpha, beta):
    _invite(alpha, "cross@alpha.test")
    path = _link_path(mail.outbox[0].body)
    assert host_client(beta.host).get(path).status_code == 404


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_only_owners_manage_staff(alpha, role):
    client = login(alpha.host, alpha.email(role))
    assert client.get("/staff/").status_code == 403
    assert client.post("/staff/", {"email": "x@alpha.test", "role": Role.OWNER}).status_code == 403
    assert client.post("/staff/security/", {"require_two_factor": "on"}).status_code == 403


def test_owner_can_deactivate_and_the_person_cannot_sign_in(alpha):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    doctor = user_in(alpha, alpha.email(Role.DOCTOR))
    assert owner.post(f"/staff/{doctor.pk}/active/", {"active": "0"}).status_code == 302
    response = host_client(alpha.host).post("/accounts/login/", {"login": doctor.email, "password": "x"})
    assert response.status_code == 200
    assert not user_in(alpha, doctor.email).is_active


def test_owner_cannot_deactivate_themself(alpha):
    owner = login(alpha.host, alpha.email(Role.OWNER))
    me = user_in(alpha, alpha.email(Role.OWNER))
    owner.post(f"/staff/{me.pk}/active/", {"active": "0"})
    assert user_in(alpha, alpha.email(Role.OWNER)).is_active


def test_invitation_link_is_shown_when_email_cannot_be_sent(alpha):
    import smtplib
    from unittest import mock

    owner = login(alpha.host, alpha.email(Role.OWNER))
    with mock.patch("tenants.accounts.services.send_mail", side_effect=smtplib.SMTPException("down")):
        response = owner.post(
            "/staff/", {"email": "nomail@alpha.test", "role": Role.NURSE}, HTTP_ACCEPT_LANGUAGE="en", follow=True
        )
    assert response.status_code == 200
    body = response.content.decode()
    assert "the email could not be sent" in body
    link = re.search(r"http://alpha\.localhost(/invitations/[^/\s]+/)", body).group(1)
    assert host_client(alpha.host).get(link).status_code == 200
