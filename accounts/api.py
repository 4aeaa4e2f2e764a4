from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from accounts import services
from accounts.models import ApiToken


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(help_text="Username or email address.")
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)
    name = serializers.CharField(required=False, max_length=100, help_text="A label for the new token.")


class UserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.EmailField()


class TokenThrottle(AnonRateThrottle):
    rate = "20/min"


@extend_schema(
    request=TokenRequestSerializer,
    responses={
        201: inline_serializer("TokenResponse", {"token": serializers.CharField(), "name": serializers.CharField()})
    },
    summary="Exchange username and password for an API token",
)
@api_view(["POST"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([TokenThrottle])
def obtain_token(request):
    serializer = TokenRequestSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    # allauth's backend accepts a username or an email, as the login page does.
    user = authenticate(
        request,
        username=serializer.validated_data["username"],
        password=serializer.validated_data["password"],
    )
    if user is None or not user.is_active:
        return Response({"detail": "Unable to log in with those credentials."}, status=status.HTTP_400_BAD_REQUEST)
    token, key = services.do_create_api_token(user, serializer.validated_data.get("name") or "API (password login)")
    return Response({"token": key, "name": token.name}, status=status.HTTP_201_CREATED)


@extend_schema(responses=UserSerializer, summary="The authenticated user")
@api_view(["GET"])
def me(request):
    return Response(UserSerializer(request.user).data)


class ApiTokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "key_prefix", "created_at", "last_used_at"]
        read_only_fields = fields


class ApiTokenViewSet(mixins.ListModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's API tokens (keys are never shown again); DELETE revokes one."""

    serializer_class = ApiTokenSerializer
    lookup_value_converter = "uuid"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no real user
            return ApiToken.objects.none()
        return ApiToken.objects.filter(user=self.request.user)

    def perform_destroy(self, instance):
        services.do_revoke_api_token(instance)
