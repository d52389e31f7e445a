"""JSON API about the signed-in person: who they are, their role, their clinic and its pages for them."""

from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants.accounts.access import server_pages
from tenants.accounts.selectors import staff_list


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class MeLinksSerializer(serializers.Serializer):
            home = serializers.CharField(help_text="The clinic's home page on the server.")
            staff = serializers.CharField(
                required=False, help_text="Owners only: staff, invitations and the clinic's security settings."
            )
            reports = serializers.CharField(
                required=False, help_text="Owners only: visits, the LB1 morbidity table and the top ten."
            )
            displays = serializers.CharField(
                required=False, help_text="Owners only: the waiting-room display links of the day's queue."
            )
            clinic_settings = serializers.CharField(
                required=False, help_text="Owners only: the clinic's details, queue options and SIP numbers."
            )
            devices = serializers.CharField(required=False, help_text="Owners only: staff devices, and revoking one.")
            satusehat = serializers.CharField(
                required=False, help_text="Owners only: the SATUSEHAT connection, failures and drug codes."
            )
            export = serializers.CharField(required=False, help_text="Owners only: the whole-clinic export.")
            audit = serializers.CharField(
                required=False, help_text="Owners only: every change and chart opened, filterable, as CSV too."
            )
            two_factor = serializers.CharField(help_text="Two-factor authentication (TOTP, recovery codes).")
            password = serializers.CharField(help_text="Changing one's password.")

        class ClinicDetailsSerializer(serializers.Serializer):
            name = serializers.CharField()
            address = serializers.CharField(help_text="The letterhead of printed papers.")
            phone = serializers.CharField()
            licence_number = serializers.CharField(help_text="The clinic's operating licence (izin operasional).")
            queue_per_practitioner = serializers.BooleanField(help_text="Queue numbers count per practitioner.")

        class StaffMemberSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            full_name = serializers.CharField()
            role = serializers.CharField()
            sip_number = serializers.CharField(help_text="Surat Izin Praktik, printed on what they sign.")

        id = serializers.IntegerField()
        email = serializers.EmailField()
        full_name = serializers.CharField()
        role = serializers.CharField()
        clinic = serializers.CharField()
        clinic_name = serializers.CharField()
        csrf_token = serializers.CharField(help_text="For the X-CSRFToken header of the app's writes.")
        links = MeLinksSerializer(help_text="The server pages this person may open (paths on this host), by name.")
        clinic_details = ClinicDetailsSerializer(help_text="What the owner set for papers and the queue.")
        staff = StaffMemberSerializer(
            many=True, help_text="The clinic's active staff (no emails): practitioners to choose and print."
        )

    @extend_schema(responses=OutputSerializer, summary="The signed-in staff member and their clinic")
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "clinic": request.tenant.subdomain,
            "clinic_name": request.tenant.name,
            "csrf_token": get_token(request),
            "links": server_pages(user),
            "clinic_details": request.tenant,
            "staff": staff_list().filter(is_active=True),
        }
        return Response(self.OutputSerializer(data).data)
