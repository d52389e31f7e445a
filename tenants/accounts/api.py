"""JSON API about the signed-in person: who they are, their role and their clinic."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        full_name = serializers.CharField()
        role = serializers.CharField()
        clinic = serializers.CharField()
        clinic_name = serializers.CharField()

    @extend_schema(responses=OutputSerializer, summary="The signed-in staff member and their clinic")
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "email": user.email,
            "full_name": user.full_name,
            "role": user.role,
            "clinic": request.tenant.subdomain,
            "clinic_name": request.tenant.name,
        }
        return Response(self.OutputSerializer(data).data)
