"""The user service's HTTP API. Thin: parse, call a service or selector, answer."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import LocalServiceTokenAuthentication
from accounts.models import Role, User
from accounts.selectors import (
    staff_session_state,
    user_list,
    validate_access_token,
    visible_user,
)
from accounts.throttles import SignupAddressThrottle, remember_service_address
from shop_common.auth import InvalidToken, bearer_token
from shop_common.client_address import client_address
from shop_common.fields import IdField
from shop_common.internal_api import InternalApi
from shop_common.pagination import paginated_response
from shop_common.permissions import ADMIN, HasRole, IsAuthenticatedUser
from shop_common.schema import raises

EMAIL_TAKEN = raises("Another account has this email.")


class UserOutput(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "username",
            "first_name",
            "last_name",
            "phone_number",
            "roles",
            "is_active",
            "date_joined",
            "last_login",
        ]

    def get_roles(self, user: User) -> list[str]:
        return user.role_names()


class RoleOutput(serializers.ModelSerializer):
    class Meta:
        model = Role
        fields = ["id", "name", "description", "created_at"]


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds until the access token expires.")
    token_type = serializers.CharField(default="Bearer")


class PublicApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


# --- /auth/ -----------------------------------------------------------------------------------


class SignupApi(PublicApi):
    """The same 201 whether or not the email had an account (its owner is told by email), so
    signup tells nobody which emails exist; the new account's id comes with the login."""

    throttle_classes = [SignupAddressThrottle]

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(write_only=True, trim_whitespace=False)
        username = serializers.CharField(required=False, allow_blank=True, max_length=150)
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)

    class OutputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())
        message = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.signup(**data.validated_data)
        email = data.validated_data["email"].strip().lower()
        answer = {
            "email": email,
            "username": data.validated_data.get("username") or email.split("@", 1)[0],
            "roles": [Role.CUSTOMER],
            "message": "Signed up: log in with this email and password. If the email had an "
            "account already, nothing changed and its owner has been told.",
        }
        return Response(self.OutputSerializer(answer).data, status=status.HTTP_201_CREATED)


class LoginApi(PublicApi):
    """Throttled by the password check itself (accounts.throttles): 429 once this account failed
    too often from this address, or this address too often; failures from many addresses only slow
    the account down (at most a few seconds), never lock it."""

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False)

    class OutputSerializer(TokenPairOutput):
        user = UserOutput()

    @extend_schema(
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            401: raises("Wrong email or password, or an inactive account."),
            429: raises(
                "Too many failed password checks of this account from this address, "
                "or of any account from this address."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, pair = services.login(
            **data.validated_data,
            ip_address=client_address(request),
            user_agent=request.headers.get("User-Agent", ""),
        )
        # OutputSerializer documents the two parts, each serialized by its own output serializer.
        return Response({**TokenPairOutput(pair).data, "user": UserOutput(user).data})


class RefreshApi(PublicApi):
    OutputSerializer = TokenPairOutput

    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={200: TokenPairOutput, 401: raises("A bad, expired or revoked refresh token.")},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = services.refresh_session(refresh=data.validated_data["refresh"])
        return Response(self.OutputSerializer(pair).data)


class LogoutApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField(required=False)

    @extend_schema(
        request=InputSerializer,
        responses={204: None, 401: raises("No token, or a bad, expired or revoked one.")},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data or {})
        data.is_valid(raise_exception=True)
        services.logout(access=bearer_token(request), refresh=data.validated_data.get("refresh"))
        return Response(status=status.HTTP_204_NO_CONTENT)


ValidateOutput = inline_serializer(
    "Validation",
    {
        "user_id": serializers.IntegerField(),
        "email": serializers.EmailField(),
        "username": serializers.CharField(),
        "phone_number": serializers.CharField(),
        "roles": serializers.ListField(child=serializers.CharField()),
        "expires_at": serializers.DateTimeField(),
        "session_id": serializers.CharField(),
        "scopes": serializers.ListField(
            child=serializers.CharField(),
            allow_null=True,
            help_text="An OAuth2 token's scopes; null for a login token (all rights of its user).",
        ),
    },
)


class ValidateApi(PublicApi):
    """Is this access token good, and whose is it? Token in the body or the Authorization header."""

    class InputSerializer(serializers.Serializer):
        token = serializers.CharField(required=False)

    @extend_schema(
        request=InputSerializer,
        responses={200: ValidateOutput, 401: raises("No token, or a bad, expired or revoked one.")},
    )
    def post(self, request: Request) -> Response:
        # Read by hand, not through InputSerializer: this endpoint is on every request of every
        # service, and the serializer was a large share of its time.
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get("token", "-"), str):
            raise ValidationError({"token": ['Send {"token": "<access token>"}, or no body.']})
        if body.get("token") == "":
            raise ValidationError({"token": ["This field may not be blank."]})
        token = body.get("token") or bearer_token(request)
        if not isinstance(token, str) or not token:
            raise InvalidToken('Send the token as {"token": ...} or Authorization: Bearer.')
        return Response(validate_access_token(token).as_answer())


class LegacyValidateApi(PublicApi):
    """GET /auth/validate_token: the first release's check, same answer as POST /auth/validate/."""

    @extend_schema(
        parameters=[
            OpenApiParameter("token", str, description="for old clients; prefer the header")
        ],
        responses={200: ValidateOutput, 401: raises("No token, or a bad, expired or revoked one.")},
    )
    def get(self, request: Request) -> Response:
        token = bearer_token(request) or request.query_params.get("token")
        if not token:
            raise InvalidToken("Send Authorization: Bearer <token>.")
        return Response(validate_access_token(token).as_answer())


# --- /users/ and /roles/ -----------------------------------------------------------------------


class UserListApi(APIView):
    permission_classes = [HasRole(ADMIN)]
    OutputSerializer = UserOutput

    class InputSerializer(SignupApi.InputSerializer):
        roles = serializers.ListField(child=serializers.CharField(), required=False)

    @extend_schema(
        parameters=[
            OpenApiParameter("email", str, description="part of the email"),
            OpenApiParameter("role", str, description="ADMIN, STAFF, CUSTOMER or another role"),
            OpenApiParameter("active", bool),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=UserOutput(many=True),
    )
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=user_list(filters=request.query_params),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(request=InputSerializer, responses={201: UserOutput, 409: EMAIL_TAKEN})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        roles = fields.pop("roles", [Role.CUSTOMER])
        user = services.create_user(**fields, roles=roles)
        return Response(self.OutputSerializer(user).data, status=status.HTTP_201_CREATED)


# An endpoint of one user: the caller themself, or anyone for an ADMIN (no docstring: it would
# become every subclass's description in the schema).
class OneUserApi(APIView):
    def visible_user(self, user_id: int) -> User:
        caller = self.request.user
        return visible_user(user_id=user_id, caller_id=caller.id, admin=caller.has_role(ADMIN))


class UserDetailApi(OneUserApi):
    permission_classes = [IsAuthenticatedUser]
    OutputSerializer = UserOutput

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField(required=False, allow_blank=True, max_length=150)
        first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
        phone_number = serializers.CharField(required=False, allow_blank=True, max_length=32)
        email = serializers.EmailField(required=False, help_text="ADMIN only")
        is_active = serializers.BooleanField(required=False, help_text="ADMIN only")

    @extend_schema(responses=UserOutput)
    def get(self, request: Request, user_id: int) -> Response:
        return Response(self.OutputSerializer(self.visible_user(user_id)).data)

    def _update(self, request: Request, user_id: int, *, partial: bool) -> Response:
        user = self.visible_user(user_id)
        data = self.InputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        user = services.update_user(
            user=user, by_admin=request.user.has_role(ADMIN), **data.validated_data
        )
        return Response(self.OutputSerializer(user).data)

    @extend_schema(request=InputSerializer, responses={200: UserOutput, 409: EMAIL_TAKEN})
    def put(self, request: Request, user_id: int) -> Response:
        return self._update(request, user_id, partial=False)

    @extend_schema(request=InputSerializer, responses={200: UserOutput, 409: EMAIL_TAKEN})
    def patch(self, request: Request, user_id: int) -> Response:
        return self._update(request, user_id, partial=True)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, user_id: int) -> Response:
        services.deactivate_user(user=self.visible_user(user_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserRolesApi(OneUserApi):
    permission_classes = [HasRole(ADMIN)]

    class InputSerializer(serializers.Serializer):
        role_ids = serializers.ListField(child=IdField(), required=False, max_length=100)
        roles = serializers.ListField(child=serializers.CharField(), required=False)

        def validate(self, attrs: dict) -> dict:
            if "role_ids" not in attrs and "roles" not in attrs:
                raise ValidationError({"roles": ["Send role_ids or roles."]})
            return attrs

    class OutputSerializer(serializers.Serializer):
        user_id = serializers.IntegerField(source="id")
        roles = RoleOutput(many=True)

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, user_id: int) -> Response:
        return Response(self.OutputSerializer(self.visible_user(user_id)).data)

    @extend_schema(request=InputSerializer, responses=OutputSerializer)
    def post(self, request: Request, user_id: int) -> Response:
        user = self.visible_user(user_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.set_roles(
            user=user,
            role_ids=data.validated_data.get("role_ids", []),
            role_names=data.validated_data.get("roles", []),
        )
        return Response(self.OutputSerializer(user).data)


class RoleListApi(APIView):
    permission_classes = [HasRole(ADMIN)]
    OutputSerializer = RoleOutput

    class InputSerializer(serializers.Serializer):
        name = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9_]{1,31}$")
        description = serializers.CharField(required=False, allow_blank=True, max_length=255)

    @extend_schema(responses=RoleOutput(many=True))
    def get(self, request: Request) -> Response:
        return paginated_response(
            queryset=Role.objects.all(),
            serializer_class=self.OutputSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: RoleOutput, 409: raises("A role has this name.")},
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        role = services.create_role(**data.validated_data)
        return Response(self.OutputSerializer(role).data, status=status.HTTP_201_CREATED)


# --- internal: the staff admins' sessions (service token of the product or payment service) -----


class UserServiceInternalApi(InternalApi):
    authentication_classes = [LocalServiceTokenAuthentication]


class StaffSessionApi(UserServiceInternalApi):
    """A staff member logging in to the product or payment service's admin
    (``shop_common.staff_admin``): the password checked here, with the throttle counting the
    person's own address (sent by that service), and a login session the admin re-checks and ends
    (``/internal/sessions/{id}/``). The calling service's token proves the address it calls from,
    which the address counter then never locks (accounts.throttles)."""

    callers = ("product", "payment")

    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False)
        client_address = serializers.IPAddressField()
        user_agent = serializers.CharField(required=False, allow_blank=True, max_length=255)

    class OutputSerializer(serializers.Serializer):
        session_id = serializers.CharField()
        user = UserOutput()

    @extend_schema(
        request=InputSerializer,
        responses={
            201: OutputSerializer,
            401: raises("Wrong email or password, or an inactive account."),
            429: raises("Too many failed password checks for this account or address."),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # Under one host (make run) the person and the services share an address: proved first.
        remember_service_address(client_address(request))
        user, pair = services.login(
            email=data.validated_data["email"],
            password=data.validated_data["password"],
            ip_address=data.validated_data["client_address"],
            user_agent=data.validated_data.get("user_agent", ""),
        )
        return Response(
            self.OutputSerializer({"session_id": pair.session_id, "user": user}).data,
            status=status.HTTP_201_CREATED,
        )


class SessionStateApi(UserServiceInternalApi):
    callers = ("product", "payment")

    class OutputSerializer(serializers.Serializer):
        session_id = serializers.CharField()
        active = serializers.BooleanField()
        user = UserOutput()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, session_id: str) -> Response:
        state = staff_session_state(session_id=str(session_id))
        return Response(self.OutputSerializer(state).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, session_id: str) -> Response:
        services.revoke_sessions(session_ids=[str(session_id)], reason="logout")
        return Response(status=status.HTTP_204_NO_CONTENT)
