"""The owner's staff actions: resending and revoking invitations, changing a role (the person's devices
rebuild their copy on the next pull), deactivating and reactivating; each asks first and is logged."""

import re

import pytest
from django.core import mail
from django_tenants.utils import schema_context

from tenants.accounts.models import Invitation, OwnerAction, Role
from tests.conftest import host_client, login, user_in
from tests.records.conftest import ApiClient, make_part, make_patient, make_visit

pytestmark = pytest.mark.django_db


def _owner(alpha):
    return login(alpha.host, alpha.email(Role.OWNER))


def _invite(owner, email: str = "maya@alpha.test") -> tuple[Invitation, str]:
    owner.post("/staff/", {"email": email, "role": Role.NURSE, "full_name": "Ns. Maya"})
    path = re.search(r"http://alpha\.localhost(/invitations/[^/\s]+/)", mail.outbox[-1].body).group(1)
    return Invitation.objects.get(email=email), path


def _logged(alpha, kind: str) -> list[OwnerAction]:
    with schema_context(alpha.clinic.schema_name):
        return list(OwnerAction.objects.filter(kind=kind).select_related("by", "member", "invitation"))


def test_resending_sends_a_new_link_and_the_old_one_stops_working(alpha):
    owner = _owner(alpha)
    with schema_context(alpha.clinic.schema_name):
        invitation, old_path = _invite(owner)
        expires = invitation.expires_at
    response = owner.post(f"/staff/invitations/{invitation.pk}/resend/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302
    assert len(mail.outbox) == 2
    new_path = re.search(r"http://alpha\.localhost(/invitations/[^/\s]+/)", mail.outbox[1].body).group(1)
    assert new_path != old_path
    assert host_client(alpha.host).get(old_path).status_code == 404
    assert host_client(alpha.host).get(new_path).status_code == 200
    with schema_context(alpha.clinic.schema_name):
        assert Invitation.objects.get(pk=invitation.pk).expires_at > expires
    [action] = _logged(alpha, OwnerAction.Kind.INVITATION_RESENT)
    assert action.by.email == alpha.email(Role.OWNER)
    assert action.invitation_id == invitation.pk


def test_revoking_asks_first_then_the_link_stops_working_and_the_page_says_so(alpha):
    owner = _owner(alpha)
    with schema_context(alpha.clinic.schema_name):
        invitation, path = _invite(owner)
    staff = owner.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"/staff/invitations/{invitation.pk}/revoke/" in staff
    confirm = owner.get(f"/staff/invitations/{invitation.pk}/revoke/", HTTP_ACCEPT_LANGUAGE="en")
    assert "stops working" in confirm.content.decode()
    assert host_client(alpha.host).get(path).status_code == 200  # asking changed nothing
    response = owner.post(f"/staff/invitations/{invitation.pk}/revoke/", HTTP_ACCEPT_LANGUAGE="en", follow=True)
    page = response.content.decode()
    assert "maya@alpha.test is revoked: its link no longer works" in page
    assert 'id="revoked-invitations"' in page
    assert host_client(alpha.host).get(path).status_code == 404
    assert owner.post(f"/staff/invitations/{invitation.pk}/revoke/").status_code == 404
    assert len(_logged(alpha, OwnerAction.Kind.INVITATION_REVOKED)) == 1


def test_a_role_change_asks_first_and_says_devices_reload(alpha):
    owner = _owner(alpha)
    nurse = user_in(alpha, alpha.email(Role.NURSE))
    page = owner.get(f"/staff/{nurse.pk}/role/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "devices will reload what they may hold" in page
    assert user_in(alpha, alpha.email(Role.NURSE)).role == Role.NURSE
    response = owner.post(f"/staff/{nurse.pk}/role/", {"role": Role.DOCTOR}, HTTP_ACCEPT_LANGUAGE="en", follow=True)
    assert "is now Doctor" in response.content.decode()
    assert user_in(alpha, alpha.email(Role.NURSE)).role == Role.DOCTOR
    [action] = _logged(alpha, OwnerAction.Kind.ROLE_CHANGED)
    assert (action.by.email, action.member.pk, action.before, action.after) == (
        alpha.email(Role.OWNER),
        nurse.pk,
        {"role": "nurse"},
        {"role": "doctor"},
    )


def test_the_only_owner_cannot_give_up_being_owner(alpha):
    owner = _owner(alpha)
    me = user_in(alpha, alpha.email(Role.OWNER))
    response = owner.post(f"/staff/{me.pk}/role/", {"role": Role.DOCTOR}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "only owner" in response.content.decode()
    assert user_in(alpha, alpha.email(Role.OWNER)).role == Role.OWNER
    assert not _logged(alpha, OwnerAction.Kind.ROLE_CHANGED)


def test_with_a_second_owner_the_first_may_step_down(alpha):
    owner = _owner(alpha)
    doctor = user_in(alpha, alpha.email(Role.DOCTOR))
    me = user_in(alpha, alpha.email(Role.OWNER))
    assert owner.post(f"/staff/{doctor.pk}/role/", {"role": Role.OWNER}).status_code == 302
    assert owner.post(f"/staff/{me.pk}/role/", {"role": Role.DOCTOR}).status_code == 302
    assert user_in(alpha, alpha.email(Role.OWNER)).role == Role.DOCTOR


def test_a_device_of_a_person_whose_role_changed_rebuilds_its_copy_on_the_next_pull(alpha):
    patient = make_patient(alpha)
    make_part(alpha, "vitals", make_visit(alpha, patient))
    nurse = ApiClient(login(alpha.host, alpha.email(Role.NURSE)))
    first = nurse.get("/api/sync/pull", cursor=0, device_id="tablet-nurse-1").json()
    assert "vitals" in {change["entity"] for change in first["changes"]}
    member = user_in(alpha, alpha.email(Role.NURSE))
    assert _owner(alpha).post(f"/staff/{member.pk}/role/", {"role": Role.FRONT_DESK}).status_code == 302
    after = nurse.get("/api/sync/pull", cursor=first["cursor"], device_id="tablet-nurse-1").json()
    assert after["reset"] is True
    rebuilt = nurse.get("/api/sync/pull", cursor=0, device_id="tablet-nurse-1").json()
    assert {change["entity"] for change in rebuilt["changes"]} == {"patient", "visit"}


def test_deactivating_asks_first_then_the_person_cannot_sign_in_and_reactivating_lets_them(alpha):
    owner = _owner(alpha)
    nurse = user_in(alpha, alpha.email(Role.NURSE))
    staff = owner.get("/staff/").content.decode()
    assert f'href="/staff/{nurse.pk}/active/"' in staff
    confirm = owner.get(f"/staff/{nurse.pk}/active/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "can no longer sign in" in confirm
    assert user_in(alpha, alpha.email(Role.NURSE)).is_active
    owner.post(f"/staff/{nurse.pk}/active/", {"active": "0"})
    assert not user_in(alpha, alpha.email(Role.NURSE)).is_active
    refused = host_client(alpha.host).post("/accounts/login/", {"login": nurse.email, "password": "x"})
    assert refused.status_code != 302
    owner.post(f"/staff/{nurse.pk}/active/", {"active": "1"})
    login(alpha.host, alpha.email(Role.NURSE))
    kinds = [action.kind for action in _logged(alpha, OwnerAction.Kind.DEACTIVATED)] + [
        action.kind for action in _logged(alpha, OwnerAction.Kind.REACTIVATED)
    ]
    assert kinds == ["deactivated", "reactivated"]


def test_the_staff_page_lists_who_changed_what(alpha):
    owner = _owner(alpha)
    nurse = user_in(alpha, alpha.email(Role.NURSE))
    owner.post(f"/staff/{nurse.pk}/role/", {"role": Role.DOCTOR})
    page = owner.get("/staff/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="owner-actions"' in page
    assert "Role changed (Nurse → Doctor)" in page


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.NURSE, Role.FRONT_DESK])
def test_only_owners_act_on_staff(alpha, role):
    nurse = user_in(alpha, alpha.email(Role.NURSE))
    with schema_context(alpha.clinic.schema_name):
        invitation, _path = _invite(_owner(alpha))
    client = login(alpha.host, alpha.email(role))
    assert client.post(f"/staff/{nurse.pk}/role/", {"role": Role.OWNER}).status_code == 403
    assert client.post(f"/staff/{nurse.pk}/active/", {"active": "0"}).status_code == 403
    assert client.post(f"/staff/invitations/{invitation.pk}/resend/").status_code == 403
    assert client.post(f"/staff/invitations/{invitation.pk}/revoke/").status_code == 403
    assert user_in(alpha, alpha.email(Role.NURSE)).role == Role.NURSE
