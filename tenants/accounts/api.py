"""JSON API about the signed-in person: who they are, their role and their clinic."""

from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        email = serializers.EmailField()
        full_name = serializers.CharField()
        role = serializers.CharField()
        clinic = serializers.CharField()
        clinic_name = serializers.CharField()
        csrf_token = serializers.CharField(help_text="For the X-CSRFToken header of the app's writes.")

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
        }
        return Response(self.OutputSerializer(data).data)
